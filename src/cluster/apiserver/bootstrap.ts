// What a fresh cluster starts with: the four default namespaces, the
// bootstrap RBAC roles/bindings, and the `kubernetes` Service. Idempotent.
import { isKind } from '../../errdefs.js';
import type { ObjectStore } from './object-store.js';

const rbac = 'rbac.authorization.k8s.io';
const readVerbs = ['get', 'list', 'watch'];
const writeVerbs = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const workloadResources = {
  core: ['pods', 'services', 'endpoints', 'configmaps', 'secrets', 'serviceaccounts', 'persistentvolumeclaims', 'events', 'pods/status', 'services/status', 'pods/log', 'pods/exec'],
  apps: ['deployments', 'replicasets', 'statefulsets', 'daemonsets', 'controllerrevisions', 'deployments/scale', 'replicasets/scale', 'statefulsets/scale', 'deployments/status'],
  batch: ['jobs', 'cronjobs'],
};

const clusterRoles = [
  { name: 'cluster-admin', rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }, { nonResourceURLs: ['*'], verbs: ['*'] }] },
  {
    name: 'admin',
    rules: [
      { apiGroups: [''], resources: workloadResources.core, verbs: [...readVerbs, ...writeVerbs] },
      { apiGroups: ['apps'], resources: workloadResources.apps, verbs: [...readVerbs, ...writeVerbs] },
      { apiGroups: ['batch'], resources: workloadResources.batch, verbs: [...readVerbs, ...writeVerbs] },
      { apiGroups: [rbac], resources: ['roles', 'rolebindings'], verbs: [...readVerbs, ...writeVerbs] },
    ],
  },
  {
    name: 'edit',
    rules: [
      { apiGroups: [''], resources: workloadResources.core, verbs: [...readVerbs, ...writeVerbs] },
      { apiGroups: ['apps'], resources: workloadResources.apps, verbs: [...readVerbs, ...writeVerbs] },
      { apiGroups: ['batch'], resources: workloadResources.batch, verbs: [...readVerbs, ...writeVerbs] },
    ],
  },
  {
    name: 'view',
    rules: [
      { apiGroups: [''], resources: workloadResources.core.filter((r) => r !== 'secrets' && !r.includes('/exec')), verbs: readVerbs },
      { apiGroups: ['apps'], resources: workloadResources.apps, verbs: readVerbs },
      { apiGroups: ['batch'], resources: workloadResources.batch, verbs: readVerbs },
    ],
  },
  { name: 'system:discovery', rules: [{ nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/readyz', '/version', '/version/', '/openapi', '/openapi/*'], verbs: ['get'] }] },
  { name: 'system:basic-user', rules: [{ apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] }, { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] }] },
];

const clusterRoleBindings = [
  { name: 'cluster-admin', role: 'cluster-admin', group: 'system:masters' },
  { name: 'system:discovery', role: 'system:discovery', group: 'system:authenticated' },
  { name: 'system:basic-user', role: 'system:basic-user', group: 'system:authenticated' },
];

async function ensure(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!isKind(err, 'already-exists')) throw err;
  }
}

export async function bootstrapCluster(objects: ObjectStore, kubernetesServiceIp: string, apiPort: number): Promise<void> {
  const reg = objects.registry;
  const nsType = reg.lookup('', 'v1', 'namespaces')!;
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    await ensure(objects.create(nsType, undefined, { metadata: { name } }, { fieldManager: 'tug-apiserver' }));
  }
  const label = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
  const annotations = { 'rbac.authorization.kubernetes.io/autoupdate': 'true' };
  const crType = reg.lookup(rbac, 'v1', 'clusterroles')!;
  for (const r of clusterRoles) {
    await ensure(objects.create(crType, undefined, { metadata: { name: r.name, labels: label, annotations }, rules: r.rules }, { fieldManager: 'tug-apiserver' }));
  }
  const crbType = reg.lookup(rbac, 'v1', 'clusterrolebindings')!;
  for (const b of clusterRoleBindings) {
    await ensure(
      objects.create(
        crbType,
        undefined,
        { metadata: { name: b.name, labels: label, annotations }, roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: b.role }, subjects: [{ apiGroup: rbac, kind: 'Group', name: b.group }] },
        { fieldManager: 'tug-apiserver' },
      ),
    );
  }
  const saType = reg.lookup('', 'v1', 'serviceaccounts')!;
  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    await ensure(objects.create(saType, ns, { metadata: { name: 'default' } }, { fieldManager: 'tug-apiserver' }));
  }
  const svcType = reg.lookup('', 'v1', 'services')!;
  await ensure(
    objects.create(
      svcType,
      'default',
      {
        metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
        spec: { type: 'ClusterIP', clusterIP: kubernetesServiceIp, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: apiPort }] },
      },
      { fieldManager: 'tug-apiserver' },
    ),
  );
}
