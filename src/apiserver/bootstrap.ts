// What a fresh cluster starts with: the four default namespaces, the
// bootstrap RBAC roles/bindings, the default StorageClass `local-path`, and
// the `kubernetes` Service, whose Endpoints
// and EndpointSlices name every live API server (kubernetes-endpoints.ts, from
// the servers' identity Leases), so pods reach the API at the Service's
// ClusterIP:443. Idempotent.
import { readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { isKind } from '../errdefs.js';
import type { ObjectStore } from './object-store.js';
import { KUBELET_CLIENT_USER } from './kubelet-client.js';
import { startApiserverIdentity, type ApiserverIdentity } from './kubernetes-endpoints.js';
import { DEFAULT_STORAGE_CLASS, IS_DEFAULT_CLASS, LOCAL_PATH_PROVISIONER } from '../kube/api/storage.js';

const rbac = 'rbac.authorization.k8s.io';
const readVerbs = ['get', 'list', 'watch'];
const writeVerbs = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const workloadResources = {
  core: ['pods', 'services', 'endpoints', 'configmaps', 'secrets', 'serviceaccounts', 'persistentvolumeclaims', 'events', 'pods/status', 'services/status', 'pods/log', 'pods/exec', 'replicationcontrollers', 'replicationcontrollers/scale'],
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
  // Prometheus and other scrapers: Kubernetes binds it to the system:monitoring group.
  { name: 'system:monitoring', rules: [{ nonResourceURLs: ['/healthz', '/healthz/*', '/livez', '/livez/*', '/readyz', '/readyz/*', '/metrics', '/metrics/slis'], verbs: ['get'] }] },
  // What a node agent's streaming endpoint (the kubelet API) lets a caller do; the API server's proxy identity is bound to it.
  {
    name: 'system:kubelet-api-admin',
    rules: [
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch', 'proxy'] },
      { apiGroups: [''], resources: ['nodes/log', 'nodes/metrics', 'nodes/proxy', 'nodes/stats'], verbs: ['*'] },
    ],
  },
  // Delegated authentication and authorization (what node agents need to check their callers).
  { name: 'system:auth-delegator', rules: [{ apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] }, { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] }] },
  { name: 'system:basic-user', rules: [{ apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] }, { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] }] },
  // A joining node's bootstrap token may ask for its client certificate and nothing else (kubeadm binds the same role).
  { name: 'system:node-bootstrapper', rules: [{ apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests'], verbs: ['create', 'get', 'list', 'watch'] }] },
  // What a node agent uses, cluster-wide. Bound to no one, as in Kubernetes: node agents (system:node:<name>,
  // group system:nodes) are authorized per node by the Node authorizer and NodeRestriction (node-authorizer.ts);
  // an admin may bind it to a node identity outside that form.
  {
    name: 'system:node',
    rules: [
      { apiGroups: [''], resources: ['nodes', 'pods', 'events', 'secrets', 'services', 'configmaps', 'endpoints'], verbs: [...readVerbs, ...writeVerbs] },
      { apiGroups: [''], resources: ['nodes/status', 'pods/status', 'services/status'], verbs: ['get', 'patch', 'update'] },
      { apiGroups: [''], resources: ['namespaces', 'persistentvolumes', 'persistentvolumeclaims', 'serviceaccounts'], verbs: readVerbs },
      { apiGroups: [''], resources: ['persistentvolumes', 'persistentvolumeclaims', 'persistentvolumeclaims/status'], verbs: ['patch', 'update'] },
      { apiGroups: [''], resources: ['serviceaccounts/token', 'pods/eviction'], verbs: ['create'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: [...readVerbs, ...writeVerbs] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: readVerbs },
      { apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests'], verbs: ['create', 'get', 'list', 'watch'] },
      { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
      { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
    ],
  },
];

const clusterRoleBindings: Array<{ name: string; role: string; subject?: { kind: 'Group' | 'User'; name: string } }> = [
  { name: 'cluster-admin', role: 'cluster-admin', subject: { kind: 'Group', name: 'system:masters' } },
  { name: 'system:discovery', role: 'system:discovery', subject: { kind: 'Group', name: 'system:authenticated' } },
  { name: 'system:basic-user', role: 'system:basic-user', subject: { kind: 'Group', name: 'system:authenticated' } },
  { name: 'system:monitoring', role: 'system:monitoring', subject: { kind: 'Group', name: 'system:monitoring' } },
  { name: 'system:kube-apiserver-kubelet-client', role: 'system:kubelet-api-admin', subject: { kind: 'User', name: KUBELET_CLIENT_USER } },
  { name: 'kubeadm:kubelet-bootstrap', role: 'system:node-bootstrapper', subject: { kind: 'Group', name: 'system:bootstrappers' } },
  // No subjects, as Kubernetes makes it since the Node authorizer came (binding system:nodes would undo it).
  { name: 'system:node', role: 'system:node' },
];

/** Bindings an earlier tug made with a subject it no longer grants: taken out again (when the autoupdate annotation still says the server owns it). */
const revokedSubjects: Record<string, { kind: string; name: string }> = { 'system:node': { kind: 'Group', name: 'system:nodes' } };

async function ensure(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!isKind(err, 'already-exists')) throw err;
  }
}

/**
 * The address the `kubernetes` Endpoints advertise for a server bound to `bind`:
 * the bind address itself, or for 0.0.0.0 the IPv4 of the default-route
 * interface (kube-apiserver's --advertise-address default). A 127.0.0.1 server
 * is still reachable from pods on this host: node services set route_localnet
 * on the pod bridge so the proxy may DNAT to loopback.
 */
export async function apiAdvertiseAddress(bind: string): Promise<string> {
  if (bind !== '0.0.0.0') return bind;
  const routes = await readFile('/proc/net/route', 'utf8').catch(() => '');
  const dev = routes.split('\n').slice(1).map((l) => l.trim().split(/\s+/)).find((f) => f[1] === '00000000')?.[0];
  const addr = dev ? networkInterfaces()[dev]?.find((a) => a.family === 'IPv4' && !a.internal)?.address : undefined;
  return addr ?? '127.0.0.1';
}

export interface BootstrapOptions {
  /** How long this server's identity Lease (and so its place in the kubernetes Endpoints) outlives its last renewal. */
  identityLeaseDurationSeconds?: number;
  /** This server is the only one on its store (SQLite). */
  soleServer?: boolean;
}

/** Makes what is missing and starts this server's identity Lease, which keeps the kubernetes Endpoints; stop it on shutdown. */
export async function bootstrapCluster(objects: ObjectStore, kubernetesServiceIp: string, apiPort: number, apiAddress = '127.0.0.1', o: BootstrapOptions = {}): Promise<ApiserverIdentity> {
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
        { metadata: { name: b.name, labels: label, annotations }, roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: b.role }, subjects: b.subject ? [{ apiGroup: rbac, ...b.subject }] : [] },
        { fieldManager: 'tug-apiserver' },
      ),
    );
  }
  for (const [name, gone] of Object.entries(revokedSubjects)) {
    const cur = await objects.getOrNull(crbType, undefined, name);
    const subjects: Array<{ kind?: string; name?: string }> = cur?.subjects ?? [];
    if (!cur || cur.metadata?.annotations?.['rbac.authorization.kubernetes.io/autoupdate'] !== 'true' || !subjects.some((x) => x.kind === gone.kind && x.name === gone.name)) continue;
    await objects.update(crbType, undefined, name, { ...cur, subjects: subjects.filter((x) => !(x.kind === gone.kind && x.name === gone.name)) }, { fieldManager: 'tug-apiserver' }).catch((err) => {
      if (!isKind(err, 'conflict')) throw err;
    });
  }
  const saType = reg.lookup('', 'v1', 'serviceaccounts')!;
  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    await ensure(objects.create(saType, ns, { metadata: { name: 'default' } }, { fieldManager: 'tug-apiserver' }));
  }
  // The metrics API is served locally (metrics/metrics-api.ts); kubectl top and the HPA look for its registration.
  const apiServiceType = reg.lookup('apiregistration.k8s.io', 'v1', 'apiservices')!;
  await ensure(
    objects.create(
      apiServiceType,
      undefined,
      { metadata: { name: 'v1beta1.metrics.k8s.io', labels: { 'kube-aggregator.kubernetes.io/automanaged': 'onstart' } }, spec: { group: 'metrics.k8s.io', version: 'v1beta1', groupPriorityMinimum: 100, versionPriority: 100 }, status: {} },
      { fieldManager: 'tug-apiserver' },
    ),
  );
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
  // The default StorageClass, as k3s ships one: tug's own local-path provisioner
  // (controllers/volume/local-path-provisioner.ts), a directory per volume on
  // the node the first pod using the claim is scheduled to.
  const scType = reg.lookup('storage.k8s.io', 'v1', 'storageclasses')!;
  await ensure(
    objects.create(
      scType,
      undefined,
      {
        metadata: { name: DEFAULT_STORAGE_CLASS, annotations: { [IS_DEFAULT_CLASS]: 'true' } },
        provisioner: LOCAL_PATH_PROVISIONER,
        reclaimPolicy: 'Delete',
        volumeBindingMode: 'WaitForFirstConsumer',
      },
      { fieldManager: 'tug-apiserver' },
    ),
  );
  return startApiserverIdentity(objects, { address: apiAddress, port: apiPort, leaseDurationSeconds: o.identityLeaseDurationSeconds, soleServer: o.soleServer });
}
