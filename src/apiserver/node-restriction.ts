// NodeRestriction admission, as kube-apiserver's plugin of that name: what the
// Node authorizer lets a node agent write in general, narrowed to the objects
// that are its own. A node (system:node:<name>) may
// - create and update only its own Node, never change its taints, and set or
//   change only the labels a kubelet may (kubernetes.io/hostname, .../os,
//   .../arch, the topology and instance-type labels, and the kubelet.kubernetes.io
//   and node.kubernetes.io prefixes); any other kubernetes.io or k8s.io label,
//   node-restriction.kubernetes.io/ and node-role.kubernetes.io/ included, is
//   the cluster admin's, so that labels meant to steer workloads onto trusted
//   nodes cannot be claimed by a node itself;
// - write the status of, evict and delete only pods bound to it, and create
//   only mirror pods (kubernetes.io/config.mirror) bound to it;
// - create only its own Lease in kube-node-lease and, in kube-system, only its
//   own node password Secret and the kube-dns Service and Endpoints (where
//   they are missing: it may not change them).
// Writes are checked on the object as it would be stored (WriteOptions.admit),
// deletes and evictions on the stored object.
import { TugError } from '../errdefs.js';
import type { KObject, ResourceType } from '../kube/api/resource-type.js';
import { nodeNameOf, nodePasswordSecretName } from '../kube/api/node-identity.js';
import type { ObjectStore } from './object-store.js';
import type { UserInfo } from './user-info.js';

/** Checks a write about to be stored (cur undefined: a create); throws forbidden. */
export type WriteCheck = (cur: KObject | undefined, next: KObject) => void;

export const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
const KUBE_DNS = 'kube-dns';

const kubeletLabels = new Set([
  'kubernetes.io/hostname',
  'kubernetes.io/arch',
  'kubernetes.io/os',
  'beta.kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/instance-type',
  'node.kubernetes.io/instance-type',
  'failure-domain.beta.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'topology.kubernetes.io/zone',
]);
const kubeletPrefixes = ['kubelet.kubernetes.io', 'node.kubernetes.io'];

const within = (domain: string, ns: string) => domain === ns || domain.endsWith(`.${ns}`);

/** Whether a node may set this label on itself: any outside kubernetes.io/k8s.io, and the kubelet's own within. */
export function nodeMaySetLabel(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash < 0) return true;
  const domain = key.slice(0, slash);
  if (!within(domain, 'kubernetes.io') && !within(domain, 'k8s.io')) return true;
  return kubeletLabels.has(key) || kubeletPrefixes.some((p) => within(domain, p));
}

const forbidden = (msg: string) => new TugError('forbidden', msg, { reason: 'Forbidden' });

/** The check for a create, update or patch by a node, or undefined when the caller is no node or the write is not restricted. */
export function nodeWriteCheck(user: UserInfo, t: ResourceType, verb: string, sub: string | undefined): WriteCheck | undefined {
  const node = nodeNameOf(user);
  if (!node || (verb !== 'create' && verb !== 'update' && verb !== 'patch')) return undefined;
  const name = (o: KObject) => o.metadata?.name ?? '';
  switch (`${t.group}/${t.kind}`) {
    case '/Node':
      return (cur, next) => {
        if (name(next) !== node) throw forbidden(`nodes "${name(next)}" is forbidden: node "${node}" is not allowed to modify node "${name(next)}"`);
        if (sub === 'status') return;
        const before: Record<string, string> = cur?.metadata?.labels ?? {};
        const after: Record<string, string> = next.metadata?.labels ?? {};
        const changed = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => before[k] !== after[k] && !nodeMaySetLabel(k)).sort();
        if (changed.length) throw forbidden(`nodes "${node}" is forbidden: node "${node}" is not allowed to ${cur ? 'modify' : 'set'} labels: ${changed.join(', ')}`);
        if (cur && JSON.stringify(cur.spec?.taints ?? []) !== JSON.stringify(next.spec?.taints ?? [])) throw forbidden(`nodes "${node}" is forbidden: node "${node}" is not allowed to modify taints`);
      };
    case '/Pod':
      return (cur, next) => {
        if (!cur) {
          if (next.metadata?.annotations?.[MIRROR_POD_ANNOTATION] === undefined) throw forbidden(`pods "${name(next)}" is forbidden: pod does not have "${MIRROR_POD_ANNOTATION}" annotation, node "${node}" can only create mirror pods`);
          if (next.spec?.nodeName !== node) throw forbidden(`pods "${name(next)}" is forbidden: node "${node}" can only create pods with spec.nodeName set to itself`);
          return;
        }
        if (sub !== 'status') throw forbidden(`pods "${name(next)}" is forbidden: node "${node}" can only update the status of pods`);
        if (cur.spec?.nodeName !== node) throw forbidden(`pods "${name(next)}" is forbidden: node "${node}" can only update pod status for pods with spec.nodeName set to itself`);
      };
    case 'coordination.k8s.io/Lease':
      return (_cur, next) => {
        if (name(next) !== node) throw forbidden(`leases.coordination.k8s.io "${name(next)}" is forbidden: node "${node}" can only write its own Lease "${node}" in kube-node-lease`);
      };
    case '/Secret':
      return (_cur, next) => {
        if (name(next) !== nodePasswordSecretName(node) || next.metadata?.namespace !== 'kube-system') throw forbidden(`secrets "${name(next)}" is forbidden: node "${node}" can only write its own node password Secret kube-system/${nodePasswordSecretName(node)}`);
      };
    case '/Service':
    case '/Endpoints':
      return (cur, next) => {
        if (cur || name(next) !== KUBE_DNS || next.metadata?.namespace !== 'kube-system') throw forbidden(`${t.plural} "${name(next)}" is forbidden: node "${node}" can only create kube-system/${KUBE_DNS} where it is missing`);
      };
    default:
      return undefined;
  }
}

/** Before a node deletes or evicts a pod: the pod must be bound to it (a missing pod is left to the store's 404). */
export async function checkNodePodRemoval(user: UserInfo, objects: ObjectStore, t: ResourceType, ns: string | undefined, podName: string): Promise<void> {
  const node = nodeNameOf(user);
  if (!node || t.group !== '' || t.kind !== 'Pod') return;
  const pod = await objects.getOrNull(t, ns, podName);
  if (pod && pod.spec?.nodeName !== node) throw forbidden(`pods "${podName}" is forbidden: node "${node}" can only delete or evict pods with spec.nodeName set to itself`);
}
