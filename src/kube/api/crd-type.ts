// apiextensions.k8s.io/v1 CustomResourceDefinition itself: its schema,
// defaults and validation. Turning a CRD into a served type lives in
// apiserver/custom-resources.ts.
import { str, bool, arr, loose, obj } from './schema.js';
import { kindSchema, required, nameColumn, col } from './meta.js';
import { defineType } from './define-type.js';
import type { FieldError } from './resource-type.js';

export const crdType = defineType({
  group: 'apiextensions.k8s.io',
  version: 'v1',
  kind: 'CustomResourceDefinition',
  plural: 'customresourcedefinitions',
  shortNames: ['crd', 'crds'],
  categories: ['api-extensions'],
  namespaced: false,
  status: true,
  hasSpec: true,
  schemaName: 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition',
  schema: kindSchema(
    'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition',
    { group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition' },
    'CustomResourceDefinition represents a resource that should be exposed on the API server.',
    {
      spec: obj(
        {
          group: str('group is the API group of the defined custom resource.'),
          names: obj({ plural: str(), singular: str(), kind: str(), listKind: str(), shortNames: arr(str()), categories: arr(str()) }, { required: ['plural', 'kind'] }),
          scope: str('scope indicates whether the defined custom resource is cluster- or namespace-scoped: Cluster or Namespaced.'),
          versions: arr(loose('A version of the custom resource: name, served, storage, schema, subresources, additionalPrinterColumns.')),
          conversion: loose(),
          preserveUnknownFields: bool(),
        },
        { required: ['group', 'names', 'scope', 'versions'] },
      ),
      status: loose(),
    },
  ),
  defaults(o) {
    const s = (o.spec ??= {});
    s.names ??= {};
    if (typeof s.names.kind === 'string') s.names.listKind ??= `${s.names.kind}List`;
    if (typeof s.names.kind === 'string') s.names.singular ??= s.names.kind.toLowerCase();
    s.conversion ??= { strategy: 'None' };
  },
  validate(o) {
    const s = o.spec ?? {};
    const errs: FieldError[] = [...required(s.group, 'spec.group'), ...required(s.names?.plural, 'spec.names.plural'), ...required(s.names?.kind, 'spec.names.kind'), ...required(s.versions, 'spec.versions')];
    if (s.group && s.names?.plural && o.metadata?.name !== `${s.names.plural}.${s.group}`) {
      errs.push({ field: 'metadata.name', type: 'FieldValueInvalid', message: `Invalid value: "${o.metadata?.name}": must be spec.names.plural+"."+spec.group` });
    }
    if (s.group && !String(s.group).includes('.')) errs.push({ field: 'spec.group', type: 'FieldValueInvalid', message: `Invalid value: "${s.group}": should be a domain with at least one dot` });
    if (!['Namespaced', 'Cluster'].includes(s.scope)) errs.push({ field: 'spec.scope', type: 'FieldValueNotSupported', message: `Unsupported value: "${String(s.scope)}": supported values: "Cluster", "Namespaced"` });
    const versions: any[] = Array.isArray(s.versions) ? s.versions : [];
    if (versions.length && versions.filter((v) => v?.storage).length !== 1) errs.push({ field: 'spec.versions', type: 'FieldValueInvalid', message: 'Invalid value: must have exactly one version marked as storage version' });
    versions.forEach((v, i) => {
      errs.push(...required(v?.name, `spec.versions[${i}].name`));
      if (!v?.schema?.openAPIV3Schema) errs.push({ field: `spec.versions[${i}].schema.openAPIV3Schema`, type: 'FieldValueRequired', message: 'Required value: schemas are required' });
    });
    return errs;
  },
  columns: [nameColumn, col('Created At', (o) => o.metadata?.creationTimestamp ?? '')],
});
