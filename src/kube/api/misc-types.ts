// coordination, discovery, rbac and storage kinds.
import { str, int, bool, arr, strMap, loose, obj, type Schema } from './schema.js';
import { validateStorageClass } from './storage.js';
import { kindSchema, required, nameColumn, ageColumn, col } from './meta.js';
import { defineType } from './define-type.js';
import type { FieldError, KObject } from './resource-type.js';

const schemaOf = (pkg: string, group: string, version: string, kind: string, description: string, fields: Record<string, Schema>) => ({
  group,
  version,
  kind,
  schemaName: `io.k8s.api.${pkg}.${version}.${kind}`,
  schema: kindSchema(`io.k8s.api.${pkg}.${version}.${kind}`, { group, version, kind }, description, fields),
});

export const leaseType = defineType({
  ...schemaOf('coordination', 'coordination.k8s.io', 'v1', 'Lease', 'Lease defines a lease concept.', {
    spec: obj({ holderIdentity: str(), leaseDurationSeconds: int(), acquireTime: str(), renewTime: str(), leaseTransitions: int(), strategy: str(), preferredHolder: str() }),
  }),
  plural: 'leases',
  namespaced: true,
  hasSpec: false,
  columns: [nameColumn, col('Holder', (o) => o.spec?.holderIdentity ?? ''), ageColumn],
});

export const endpointSliceType = defineType({
  ...schemaOf('discovery', 'discovery.k8s.io', 'v1', 'EndpointSlice', 'EndpointSlice represents a subset of the endpoints that implement a service.', {
    addressType: str('addressType specifies the type of address carried by this EndpointSlice.'),
    endpoints: arr(loose()),
    ports: arr(loose()),
  }),
  plural: 'endpointslices',
  namespaced: true,
  hasSpec: false,
  validate: (o) => required(o.addressType, 'addressType'),
  columns: [
    nameColumn,
    col('AddressType', (o) => o.addressType ?? ''),
    col('Ports', (o) => (o.ports ?? []).map((p: any) => p.port).join(',') || '<unset>'),
    col('Endpoints', (o) => (o.endpoints ?? []).flatMap((e: any) => e.addresses ?? []).join(',') || '<unset>'),
    ageColumn,
  ],
});

const policyRule = obj(
  { apiGroups: arr(str()), resources: arr(str()), resourceNames: arr(str()), verbs: arr(str()), nonResourceURLs: arr(str()) },
  { required: ['verbs'], description: 'PolicyRule holds information that describes a policy rule.' },
);
const subject = obj({ kind: str(), apiGroup: str(), name: str(), namespace: str() }, { required: ['kind', 'name'] });
const roleRef = obj({ apiGroup: str(), kind: str(), name: str() }, { required: ['apiGroup', 'kind', 'name'] });

function validateRules(o: KObject): FieldError[] {
  const errs: FieldError[] = [];
  (o.rules ?? []).forEach((r: any, i: number) => errs.push(...required(r?.verbs, `rules[${i}].verbs`)));
  return errs;
}

function validateBinding(o: KObject): FieldError[] {
  const errs = [...required(o.roleRef?.kind, 'roleRef.kind'), ...required(o.roleRef?.name, 'roleRef.name')];
  if (o.roleRef?.kind && !['Role', 'ClusterRole'].includes(o.roleRef.kind)) errs.push({ field: 'roleRef.kind', type: 'FieldValueNotSupported', message: `Unsupported value: "${o.roleRef.kind}": supported values: "Role", "ClusterRole"` });
  return errs;
}

function bindingDefaults(o: KObject): void {
  for (const s of o.subjects ?? []) {
    if (!s || typeof s !== 'object') continue;
    if (s.kind === 'User' || s.kind === 'Group') s.apiGroup ??= 'rbac.authorization.k8s.io';
  }
}

const roleCols = [nameColumn, { ...ageColumn, name: 'Created At', cell: (o: KObject) => o.metadata?.creationTimestamp ?? '' }];
const bindingCols = (namespaced: boolean) => [
  nameColumn,
  col('Role', (o) => `${o.roleRef?.kind ?? ''}/${o.roleRef?.name ?? ''}`),
  ageColumn,
  col('Users', (o) => (o.subjects ?? []).filter((s: any) => s.kind === 'User').map((s: any) => s.name).join(', '), 1),
  col('Groups', (o) => (o.subjects ?? []).filter((s: any) => s.kind === 'Group').map((s: any) => s.name).join(', '), 1),
  col('ServiceAccounts', (o) => (o.subjects ?? []).filter((s: any) => s.kind === 'ServiceAccount').map((s: any) => `${s.namespace ?? (namespaced ? o.metadata?.namespace : '')}/${s.name}`).join(', '), 1),
];

export const roleType = defineType({
  ...schemaOf('rbac', 'rbac.authorization.k8s.io', 'v1', 'Role', 'Role is a namespaced, logical grouping of PolicyRules.', { rules: arr(policyRule) }),
  plural: 'roles',
  namespaced: true,
  hasSpec: false,
  validate: validateRules,
  columns: roleCols,
});

export const clusterRoleType = defineType({
  ...schemaOf('rbac', 'rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'ClusterRole is a cluster level, logical grouping of PolicyRules.', {
    rules: arr(policyRule),
    aggregationRule: loose(),
  }),
  plural: 'clusterroles',
  namespaced: false,
  hasSpec: false,
  validate: validateRules,
  columns: roleCols,
});

export const roleBindingType = defineType({
  ...schemaOf('rbac', 'rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'RoleBinding references a role, but does not contain it.', { subjects: arr(subject), roleRef }),
  plural: 'rolebindings',
  namespaced: true,
  hasSpec: false,
  defaults: bindingDefaults,
  validate: validateBinding,
  columns: bindingCols(true),
});

export const clusterRoleBindingType = defineType({
  ...schemaOf('rbac', 'rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'ClusterRoleBinding references a ClusterRole, but not contain it.', { subjects: arr(subject), roleRef }),
  plural: 'clusterrolebindings',
  namespaced: false,
  hasSpec: false,
  defaults: bindingDefaults,
  validate: validateBinding,
  columns: bindingCols(false),
});

export const storageClassType = defineType({
  ...schemaOf('storage', 'storage.k8s.io', 'v1', 'StorageClass', 'StorageClass describes the parameters for a class of storage.', {
    provisioner: str('provisioner indicates the type of the provisioner.'),
    parameters: strMap(),
    reclaimPolicy: str(),
    mountOptions: arr(str()),
    allowVolumeExpansion: bool(),
    volumeBindingMode: str(),
    allowedTopologies: arr(loose()),
  }),
  plural: 'storageclasses',
  shortNames: ['sc'],
  namespaced: false,
  hasSpec: false,
  defaults(o) {
    o.reclaimPolicy ??= 'Delete';
    o.volumeBindingMode ??= 'Immediate';
  },
  validate: (o, old) => [...required(o.provisioner, 'provisioner'), ...validateStorageClass(o, old)],
  columns: [
    { ...nameColumn, cell: (o) => (o.metadata?.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true' ? `${o.metadata?.name} (default)` : (o.metadata?.name ?? '')) },
    col('Provisioner', (o) => o.provisioner ?? ''),
    col('ReclaimPolicy', (o) => o.reclaimPolicy ?? ''),
    col('VolumeBindingMode', (o) => o.volumeBindingMode ?? ''),
    col('AllowVolumeExpansion', (o) => String(o.allowVolumeExpansion ?? false)),
    ageColumn,
  ],
});

const apiServiceName = 'io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService';

/**
 * apiregistration.k8s.io/v1 APIService: the registration the metrics API and
 * other aggregated APIs need. A local one (no spec.service) is Available, as
 * the aggregator marks it; tug does not yet proxy to a service-backed one, and
 * its Available condition says so rather than pretending.
 */
export const apiServiceType = defineType({
  group: 'apiregistration.k8s.io',
  version: 'v1',
  kind: 'APIService',
  schemaName: apiServiceName,
  schema: kindSchema(apiServiceName, { group: 'apiregistration.k8s.io', version: 'v1', kind: 'APIService' }, 'APIService represents a server for a particular GroupVersion.', {
    spec: obj({
      service: obj({ namespace: str(), name: str(), port: int() }),
      group: str(),
      version: str(),
      insecureSkipTLSVerify: bool(),
      caBundle: str(),
      groupPriorityMinimum: int(),
      versionPriority: int(),
    }),
    status: loose(),
  }),
  plural: 'apiservices',
  namespaced: false,
  status: true,
  defaults(o) {
    o.spec ??= {};
    if (o.spec.service) o.spec.service.port ??= 443;
    if (o.status && !o.status.conditions?.length) {
      const local = !o.spec.service;
      o.status.conditions = [
        {
          type: 'Available',
          status: local ? 'True' : 'False',
          lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
          reason: local ? 'Local' : 'FailedDiscoveryCheck',
          message: local ? 'Local APIServices are always available' : 'tug does not proxy to aggregated API servers yet',
        },
      ];
    }
  },
  validate(o) {
    const errs: FieldError[] = [];
    const s = o.spec ?? {};
    const name = o.metadata?.name ?? '';
    if (name !== `${s.version}.${s.group ?? ''}`) errs.push({ field: 'metadata.name', type: 'FieldValueInvalid', message: `Invalid value: "${name}": must be \`spec.version+"."+spec.group\`: "${s.version}.${s.group ?? ''}"` });
    if (!s.version) errs.push({ field: 'spec.version', type: 'FieldValueRequired', message: 'Required value' });
    if (!(s.groupPriorityMinimum > 0) || s.groupPriorityMinimum > 20000) errs.push({ field: 'spec.groupPriorityMinimum', type: 'FieldValueInvalid', message: `Invalid value: ${String(s.groupPriorityMinimum)}: must be positive and less than 20000` });
    if (!(s.versionPriority > 0) || s.versionPriority > 1000) errs.push({ field: 'spec.versionPriority', type: 'FieldValueInvalid', message: `Invalid value: ${String(s.versionPriority)}: must be positive and less than 1000` });
    if (s.service && !s.insecureSkipTLSVerify && !s.caBundle) errs.push({ field: 'spec.caBundle', type: 'FieldValueRequired', message: 'Required value: must be set when insecureSkipTLSVerify is false' });
    return errs;
  },
  columns: [
    nameColumn,
    col('Service', (o) => (o.spec?.service ? `${o.spec.service.namespace}/${o.spec.service.name}` : 'Local')),
    col('Available', (o) => {
      const c = (o.status?.conditions ?? []).find((x: { type: string }) => x.type === 'Available');
      return c ? (c.status === 'True' ? 'True' : `${c.status} (${c.reason})`) : 'Unknown';
    }),
    ageColumn,
  ],
});
