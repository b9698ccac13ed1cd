// What a node's heartbeat writes, apart from any client: the Lease renewal
// (kube-node-lease/<node>) and the Ready post of a restarting agent. Shared by
// the agent's NodeLease (node-heartbeat.ts) and the early renewal that bin/tug
// makes before it loads the agent's modules (node/early-lease.ts), which may
// import only modules built on node: built-ins: keep this file that way.
import type { KubeApi, KubeObject } from '../../kube/client/kube-client.js';
import { nodeConditions } from './node-status.js';

export const nodesRef = { group: '', version: 'v1', resource: 'nodes' };
export const leasesRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease' };

/** tug's default Lease duration: renewed every 500 ms; see the README (node loss) for why. */
export const DEFAULT_NODE_LEASE_DURATION_SECONDS = 2;
/**
 * How long a cleanly stopped agent whose pods keep running asks the cluster to
 * wait for it (its last renewal's leaseDurationSeconds; the node lifecycle
 * controller's grace for a node is at least its Lease's duration): a restart
 * then never turns the node Unknown, while a machine that dies (no clean stop)
 * is still unreachable after the 2 s grace. README, "Why 2 s + 3 s".
 */
export const DEFAULT_RESTART_HOLD_SECONDS = 10;

/** A Lease's MicroTime: RFC 3339 with microseconds. */
export function microTime(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** The spec a renewal merges into the node's Lease: held by the node, renewed now (for `leaseDurationSeconds`, or as long as it says already). */
export function renewedLeaseSpec(nodeName: string, leaseDurationSeconds?: number): Record<string, unknown> {
  return { holderIdentity: nodeName, ...(leaseDurationSeconds === undefined ? {} : { leaseDurationSeconds }), renewTime: microTime() };
}

/**
 * One renewal of an existing Lease (a merge patch; not-found when the node has
 * none yet). Without a duration the Lease keeps its own: a restart's early
 * renewals keep the stopped agent's hold, so a renewer thread that a loaded
 * machine starves for seconds does not turn the node Unknown meanwhile.
 */
export function renewLease(client: Pick<KubeApi, 'patch'>, nodeName: string, leaseDurationSeconds?: number): Promise<KubeObject> {
  return client.patch<KubeObject>(leasesRef, nodeName, { spec: renewedLeaseSpec(nodeName, leaseDurationSeconds) }, { patchType: 'merge' });
}

/**
 * A restarting agent's Node that the node lifecycle controller marked Unknown
 * (and tainted) while no process renewed its Lease: its conditions say Ready
 * again as soon as the new process heartbeats, not only once the engine has
 * recovered every container (seconds with many pods), so the taint goes before
 * the pods' tolerations run out. The pods ran all along; the rest of the
 * status follows when the agent runs (NodeHeartbeat.start). A Node without a
 * Ready condition (just made) is left to that full post.
 */
export async function readyAgain(client: Pick<KubeApi, 'get' | 'patch'>, nodeName: string, bootTime: string): Promise<boolean> {
  const node = await client.get<KubeObject>(nodesRef, nodeName);
  const ready = (node.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
  if (!ready || ready.status === 'True') return false;
  await client.patch(nodesRef, nodeName, { status: { conditions: nodeConditions(bootTime) } }, { subresource: 'status' });
  return true;
}

/** Where the early renewal (early-lease.ts) leaves the function that stops its background renewals, in the agent's process. */
export const EARLY_RENEWER_STOP = Symbol.for('tug.earlyLeaseRenewer.stop');

/** The agent renews its Lease itself from here on: the early renewer's thread (if this process has one) stops. */
export function takeOverEarlyRenewals(): boolean {
  const g = globalThis as Record<symbol, unknown>;
  const stop = g[EARLY_RENEWER_STOP] as (() => void) | undefined;
  delete g[EARLY_RENEWER_STOP];
  stop?.();
  return !!stop;
}
