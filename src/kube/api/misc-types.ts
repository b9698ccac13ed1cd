// coordination, discovery, rbac and storage kinds.
import { str, int, bool, arr, strMap, loose, obj, type Schema } from './schema.js';
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
  validate: (o) => required(o.provisioner, 'provisioner'),
  columns: [
    { ...nameColumn, cell: (o) => (o.metadata?.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true' ? `${o.metadata?.name} (default)` : (o.metadata?.name ?? '')) },
    col('Provisioner', (o) => o.provisioner ?? ''),
    col('ReclaimPolicy', (o) => o.reclaimPolicy ?? ''),
    col('VolumeBindingMode', (o) => o.volumeBindingMode ?? ''),
    col('AllowVolumeExpansion', (o) => String(o.allowVolumeExpansion ?? false)),
    ageColumn,
  ],
});
