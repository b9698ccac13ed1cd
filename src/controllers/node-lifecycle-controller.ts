// Node lifecycle controller (kube-controller-manager's nodelifecycle plus its
// taint manager). Heartbeats are the node's Lease renewals and Node status
// posts, timed by this controller's own clock when it sees them change (as
// Kubernetes does, so clock skew between machines does not matter). A node
// silent for longer than the grace period gets its conditions set to Unknown
// (NodeStatusUnknown, "Kubelet stopped posting node status."), the
// node.kubernetes.io/unreachable NoExecute and NoSchedule taints (not-ready
// when the agent itself reports Ready=False), and its pods Ready=False so the
// endpoints controller drops them at once. Pods on a node with NoExecute taints
// are deleted when their tolerations run out (at once without one). A node that
// posts Ready again loses the taints.
import { runReconcileLoop } from '../kube/client/reconcile-loop.js';
import type { KubeApi, KubeObject } from '../kube/client/kube-client.js';
import { keyOf } from '../kube/client/informer.js';
import { WorkQueue } from '../kube/client/work-queue.js';
import { isKind } from '../errdefs.js';
import { refs, inNs, type SharedInformers } from '../kube/client/shared-informers.js';
import { nowIso } from './pod-state.js';
import { evictionTime, reconcileTaints, wantedConditionTaints, type NodeTaint } from './node-taints.js';

/** tug's default node monitor grace period; see the README (node loss) for the choice. */
export const DEFAULT_NODE_MONITOR_GRACE_MS = 2_000;

const UNKNOWN_REASON = 'NodeStatusUnknown';
const UNKNOWN_MESSAGE = 'Kubelet stopped posting node status.';

export interface NodeLifecycleOptions {
  /** How long a node may go without a heartbeat before it is unreachable (kube-controller-manager --node-monitor-grace-period). */
  gracePeriodMs?: number;
}

interface Heartbeat {
  /** What was last seen: the Lease's renewTime and the Ready condition's lastHeartbeatTime. */
  seen: string;
  /** This controller's clock when `seen` last changed. */
  at: number;
}

export class NodeLifecycleController {
  readonly queue = new WorkQueue({ name: 'node_lifecycle_controller', baseDelayMs: 100, maxDelayMs: 5_000 });
  private readonly heartbeats = new Map<string, Heartbeat>();
  /** One pending check per node, at the moment its heartbeat would be too old. */
  private readonly checks = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  /** Pod keys per node name (the reconcile of one node must not scan every pod). */
  private readonly podsByNode = new Map<string, Set<string>>();
  private readonly grace: number;

  constructor(
    private readonly informers: SharedInformers,
    private readonly client: KubeApi,
    opts: NodeLifecycleOptions = {},
  ) {
    this.grace = opts.gracePeriodMs ?? DEFAULT_NODE_MONITOR_GRACE_MS;
    informers.for(refs.nodes).addHandlers({
      onAdd: (n) => this.queue.add(keyOf(n)),
      onUpdate: (n) => this.queue.add(keyOf(n)),
      onDelete: (n) => {
        this.heartbeats.delete(keyOf(n));
        this.cancelCheck(keyOf(n));
      },
    });
    informers.for(refs.leases).addHandlers({ onAdd: (l) => this.leaseEvent(l), onUpdate: (l) => this.leaseEvent(l) });
    informers.for(refs.pods).addHandlers({
      onAdd: (p) => this.podEvent(p),
      onUpdate: (p, old) => this.podEvent(p, old),
      onDelete: (p) => this.unindex(p),
    });
  }

  run(workers = 2): void {
    runReconcileLoop(this.queue, 'node-lifecycle-controller', (k) => this.reconcile(k), workers);
  }

  stop(): void {
    this.queue.shutdown();
    for (const c of this.checks.values()) clearTimeout(c.timer);
    this.checks.clear();
  }

  /** The node's grace period: the controller's, or longer if the node's own Lease says it renews less often. */
  private graceOf(name: string): number {
    const lease = this.informers.for(refs.leases).get(`kube-node-lease/${name}`);
    return Math.max(this.grace, (Number(lease?.spec?.leaseDurationSeconds) || 0) * 1000);
  }

  private scheduleCheck(name: string, at: number): void {
    const cur = this.checks.get(name);
    if (cur && cur.at <= at) return;
    if (cur) clearTimeout(cur.timer);
    const timer = setTimeout(() => {
      this.checks.delete(name);
      this.queue.add(name);
    }, Math.max(0, at - Date.now()));
    timer.unref();
    this.checks.set(name, { at, timer });
  }

  private cancelCheck(name: string): void {
    const cur = this.checks.get(name);
    if (cur) clearTimeout(cur.timer);
    this.checks.delete(name);
  }

  /** A renewal only moves the deadline, unless the node needs attention (not Ready, or tainted by us). */
  private leaseEvent(l: KubeObject): void {
    if (l.metadata.namespace !== 'kube-node-lease') return;
    const name = l.metadata.name!;
    const node = this.informers.for(refs.nodes).get(name);
    if (!node) return;
    if (this.needsAttention(node)) this.queue.add(name);
    else {
      this.cancelCheck(name);
      this.scheduleCheck(name, this.lastHeartbeat(node) + this.graceOf(name) + 50);
    }
  }

  private needsAttention(node: KubeObject): boolean {
    return readyCondition(node)?.status !== 'True' || ((node.spec?.taints ?? []) as NodeTaint[]).some((t) => t.effect === 'NoExecute');
  }

  private podEvent(p: KubeObject, old?: KubeObject): void {
    if (old?.spec?.nodeName && old.spec.nodeName !== p.spec?.nodeName) this.unindex(old);
    const nodeName = p.spec?.nodeName;
    if (!nodeName) return;
    let set = this.podsByNode.get(nodeName);
    if (!set) this.podsByNode.set(nodeName, (set = new Set()));
    set.add(keyOf(p));
    // A pod that lands on (or is still Ready on) a node already down is handled too.
    const node = this.informers.for(refs.nodes).get(nodeName);
    if (node && this.needsAttention(node)) this.queue.add(nodeName);
  }

  private unindex(p: KubeObject): void {
    const nodeName = p.spec?.nodeName;
    if (!nodeName) return;
    const set = this.podsByNode.get(nodeName);
    set?.delete(keyOf(p));
    if (set && !set.size) this.podsByNode.delete(nodeName);
  }

  /** When this controller last saw the node's heartbeat change (the first sighting counts as one). */
  private lastHeartbeat(node: KubeObject): number {
    const name = node.metadata.name!;
    const lease = this.informers.for(refs.leases).get(`kube-node-lease/${name}`);
    const ready = readyCondition(node);
    const seen = `${lease?.spec?.renewTime ?? ''}|${ready?.lastHeartbeatTime ?? ''}`;
    const hb = this.heartbeats.get(name);
    if (hb?.seen === seen) return hb.at;
    const now = Date.now();
    this.heartbeats.set(name, { seen, at: now });
    return now;
  }

  async reconcile(name: string): Promise<void> {
    let node = this.informers.for(refs.nodes).get(name);
    if (!node) return;
    const now = Date.now();
    const grace = this.graceOf(name);
    const last = this.lastHeartbeat(node);
    if (now - last > grace) node = await this.markUnknown(node);
    else this.scheduleCheck(name, last + grace + 50);
    node = await this.reconcileTaints(node);
    const ready = readyCondition(node)?.status;
    const pods = [...(this.podsByNode.get(name) ?? [])].map((k) => this.informers.for(refs.pods).get(k)).filter((p): p is KubeObject => p?.spec?.nodeName === name);
    if (ready !== 'True') await this.markPodsNotReady(pods);
    await this.evictUntolerated(name, node, pods);
  }

  /** Every condition the agent posted becomes Unknown (once: times only change on the transition). */
  private async markUnknown(node: KubeObject): Promise<KubeObject> {
    const conds: any[] = node.status?.conditions ?? [];
    if (conds.length && conds.every((c) => c.status === 'Unknown' && c.reason === UNKNOWN_REASON)) return node;
    const now = nowIso();
    const wanted = conds.length ? conds : [{ type: 'Ready' }];
    const conditions = wanted.map((c) => (c.status === 'Unknown' && c.reason === UNKNOWN_REASON ? c : { ...c, status: 'Unknown', reason: UNKNOWN_REASON, message: UNKNOWN_MESSAGE, lastTransitionTime: now, lastHeartbeatTime: c.lastHeartbeatTime ?? now }));
    process.stderr.write(`node-lifecycle-controller: node ${node.metadata.name} stopped posting status: conditions Unknown\n`);
    return this.client.patch<KubeObject>(refs.nodes, node.metadata.name!, { metadata: { resourceVersion: node.metadata.resourceVersion }, status: { conditions } }, { subresource: 'status', patchType: 'merge' });
  }

  private async reconcileTaints(node: KubeObject): Promise<KubeObject> {
    const wanted = wantedConditionTaints(readyCondition(node)?.status, Boolean(node.spec?.unschedulable));
    // timeAdded with milliseconds: tolerationSeconds of a few seconds must not end up to a second early.
    const taints = reconcileTaints((node.spec?.taints ?? []) as NodeTaint[], wanted, new Date().toISOString());
    if (!taints) return node;
    return this.client.patch<KubeObject>(refs.nodes, node.metadata.name!, { metadata: { resourceVersion: node.metadata.resourceVersion }, spec: { taints: taints.length ? taints : null } }, { patchType: 'merge' });
  }

  /** Kubernetes' MarkPodsNotReady: the Ready condition of each pod on the node turns False. */
  private async markPodsNotReady(pods: KubeObject[]): Promise<void> {
    const now = nowIso();
    await Promise.all(
      pods.map(async (p) => {
        const conds: any[] = p.status?.conditions ?? [];
        const i = conds.findIndex((c) => c.type === 'Ready');
        if (i < 0 || conds[i].status === 'False' || ['Succeeded', 'Failed'].includes(p.status?.phase)) return;
        const conditions = conds.map((c, j) => (j === i ? { ...c, status: 'False', reason: 'NodeNotReady', message: 'Node is not ready', lastTransitionTime: now } : c));
        await this.client
          .patch(inNs(refs.pods, p.metadata.namespace), p.metadata.name!, { metadata: { uid: p.metadata.uid, resourceVersion: p.metadata.resourceVersion }, status: { conditions } }, { subresource: 'status', patchType: 'merge' })
          .catch((err) => {
            // A newer pod (the agent wrote again) is looked at on its own event.
            if (!isKind(err, 'conflict') && !isKind(err, 'not-found')) throw err;
          });
      }),
    );
  }

  /** The taint manager: pods not tolerating the node's NoExecute taints go, now or when their tolerationSeconds end. */
  private async evictUntolerated(name: string, node: KubeObject, pods: KubeObject[]): Promise<void> {
    const taints = ((node.spec?.taints ?? []) as NodeTaint[]).filter((t) => t.effect === 'NoExecute');
    if (!taints.length) return;
    const now = Date.now();
    let next = Infinity;
    await Promise.all(
      pods.map(async (p) => {
        if (p.metadata.deletionTimestamp) return;
        const at = evictionTime(taints, p.spec?.tolerations ?? [], now);
        if (at === 'never') return;
        if (at !== 'now' && at > now) {
          next = Math.min(next, at);
          return;
        }
        process.stderr.write(`node-lifecycle-controller: evicting pod ${keyOf(p)} from node ${name} (NoExecute taint)\n`);
        await this.client.delete(inNs(refs.pods, p.metadata.namespace), p.metadata.name!, { uid: p.metadata.uid }).catch((err) => {
          if (!isKind(err, 'not-found') && !isKind(err, 'conflict')) throw err;
        });
      }),
    );
    if (next !== Infinity) this.scheduleCheck(name, next + 20);
  }
}

function readyCondition(node: KubeObject): { status?: string; lastHeartbeatTime?: string } | undefined {
  return (node.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
}
