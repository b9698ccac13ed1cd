// The default scheduler, as kube-scheduler: watches pods without a node and
// the nodes, filters and scores nodes from an in-memory node-info cache, then
// binds through POST pods/<name>/binding. Scheduling is "assume then bind":
// the pod's requests are added to the chosen node in the cache at once so the
// next pod sees them, and binds run concurrently in the background; a failed
// bind forgets the assumption and retries. A pod that fits nowhere gets a
// FailedScheduling Event and PodScheduled=False (reason Unschedulable) and is
// retried with back-off, earlier when nodes or pods change.
import type { KubeClient, KubeObject } from '../../kube/client/kube-client.js';
import { keyOf } from '../../kube/client/informer.js';
import { messageOf } from '../../errdefs.js';
import { refs, inNs, type SharedInformers } from '../../kube/client/shared-informers.js';
import { nowIso } from '../pod-state.js';
import { NodeInfo, podRequests } from './node-info.js';
import { runFilters, type PodContext } from './filters.js';
import { buildTopology, hasRequiredAntiAffinity, needsTopology } from './topology.js';
import { pickNode, setScoringNodes } from './scoring.js';
import { VolumeBinding, type PodVolumes } from './volume-binding.js';
import { recordAttempt, reportPending } from './scheduler-metrics.js';

export const schedulerName = 'default-scheduler';
const maxBindsInFlight = 64;
const initialBackoffMs = 1000;
const maxBackoffMs = 10_000;

/** A pod waiting for its back-off to end before another attempt. */
interface Unschedulable {
  retryAt: number;
}

/** Survives re-activation, so back-off grows and Events are not repeated. */
interface FailureHistory {
  attempts: number;
  message: string;
  lastEventAt: number;
}

export class Scheduler {
  private readonly nodes = new Map<string, NodeInfo>();
  private nodeList: NodeInfo[] = [];
  private nodeListDirty = true;
  private nextStart = 0;
  /** pod key → node name it is bound or assumed to. */
  private readonly podNode = new Map<string, string>();
  private readonly active = new Set<string>();
  private readonly waiting = new Map<string, Unschedulable>();
  private readonly failures = new Map<string, FailureHistory>();
  private readonly assumed = new Set<string>();
  private antiAffinityPods = 0;
  private readonly antiAffinityKeys = new Set<string>();
  private binds = 0;
  private bindSlot?: () => void;
  private running = false;
  private stopped = false;
  /** Held: pods queue up but none is scheduled until release() (scheduler_perf-style measurement). */
  private held = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly volumeBinding: VolumeBinding;

  constructor(
    private readonly informers: SharedInformers,
    private readonly client: KubeClient,
  ) {
    this.volumeBinding = new VolumeBinding(informers, client);
    // A claim bound, a volume made or a class added can make a waiting pod fit.
    this.volumeBinding.watch(() => this.wakeWaiting());
    informers.for(refs.nodes).addHandlers({
      onAdd: (n) => this.onNode(n, true),
      onUpdate: (n, old) => this.onNode(n, n.metadata.resourceVersion !== old.metadata.resourceVersion && nodeChangedForScheduling(n, old)),
      onDelete: (n) => {
        this.nodes.delete(n.metadata.name!);
        this.nodeListDirty = true;
      },
    });
    informers.for(refs.pods).addHandlers({
      onAdd: (p) => this.onPod(p),
      onUpdate: (p) => this.onPod(p),
      onDelete: (p) => {
        this.forgetPod(keyOf(p));
        this.wakeWaiting();
      },
    });
  }

  start(): void {
    reportPending(() => ({ active: this.active.size, backoff: this.waiting.size }));
    // Unschedulable pods are retried at least this often even if nothing changes.
    const t = setInterval(() => this.wakeWaiting(), 30_000);
    t.unref();
    this.timers.add(t);
    this.kick();
  }

  /** Queue pods without scheduling them until release(). */
  hold(): void {
    this.held = true;
  }

  /** Schedules everything queued while held, and from then on as usual. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
  }

  private onNode(n: KubeObject, relevant: boolean): void {
    const name = n.metadata.name!;
    const info = this.nodes.get(name);
    if (info) info.setNode(n);
    else {
      const fresh = new NodeInfo(n);
      // Pods that were bound before the node appeared in the cache.
      for (const [k, nodeName] of this.podNode) {
        if (nodeName !== name) continue;
        const p = this.informers.for(refs.pods).get(k);
        if (p) fresh.addPod({ key: k, pod: p, requests: podRequests(p) });
      }
      this.nodes.set(name, fresh);
      this.nodeListDirty = true;
    }
    if (relevant) this.wakeWaiting();
  }

  private onPod(p: KubeObject): void {
    const key = keyOf(p);
    const finished = p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
    if (p.spec?.nodeName) {
      this.active.delete(key);
      this.waiting.delete(key);
      this.failures.delete(key);
      this.assumed.delete(key);
      if (finished) {
        if (this.podNode.has(key)) {
          this.forgetPod(key);
          this.wakeWaiting();
        }
        return;
      }
      this.assign(key, p, p.spec.nodeName);
      return;
    }
    if (this.assumed.has(key) || finished || p.metadata.deletionTimestamp) return;
    if ((p.spec?.schedulerName ?? schedulerName) !== schedulerName) return;
    // A waiting pod is tried again when its back-off timer fires (our own status write lands here too).
    if (this.waiting.has(key)) return;
    this.activate(key);
  }

  private assign(key: string, p: KubeObject, nodeName: string): void {
    const prev = this.podNode.get(key);
    if (prev && prev !== nodeName) this.nodes.get(prev)?.removePod(key);
    this.podNode.set(key, nodeName);
    this.nodes.get(nodeName)?.addPod({ key, pod: p, requests: podRequests(p) });
    const anti = hasRequiredAntiAffinity(p);
    if (anti && !this.antiAffinityKeys.has(key)) {
      this.antiAffinityKeys.add(key);
      this.antiAffinityPods++;
    }
  }

  private forgetPod(key: string): void {
    this.failures.delete(key);
    this.active.delete(key);
    this.waiting.delete(key);
    this.assumed.delete(key);
    const node = this.podNode.get(key);
    if (node) this.nodes.get(node)?.removePod(key);
    this.podNode.delete(key);
    if (this.antiAffinityKeys.delete(key)) this.antiAffinityPods--;
  }

  private activate(key: string): void {
    if (this.stopped) return;
    this.waiting.delete(key);
    this.active.add(key);
    this.kick();
  }

  /** Something changed in the cluster: waiting pods whose back-off is over get another try now. */
  private wakeWaiting(): void {
    const now = Date.now();
    for (const [key, w] of this.waiting) {
      // The others already have a timer for the end of their back-off.
      if (w.retryAt <= now) this.activate(key);
    }
  }

  private after(ms: number, fn: () => void): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  private kick(): void {
    if (this.running || this.stopped || this.held) return;
    this.running = true;
    setImmediate(() => void this.drain());
  }

  private async drain(): Promise<void> {
    try {
      let n = 0;
      while (this.active.size && !this.stopped && !this.held) {
        const key = this.active.values().next().value as string;
        this.active.delete(key);
        this.scheduleOne(key);
        // Let watch events and bind responses in between batches.
        if (++n % 200 === 0) await new Promise((r) => setImmediate(r));
        while (this.binds >= maxBindsInFlight) await new Promise<void>((r) => (this.bindSlot = r));
      }
    } finally {
      this.running = false;
      if (this.active.size && !this.stopped) this.kick();
    }
  }

  private currentNodes(): NodeInfo[] {
    if (this.nodeListDirty) {
      this.nodeList = [...this.nodes.values()];
      this.nodeListDirty = false;
    }
    return this.nodeList;
  }

  private scheduleOne(key: string): void {
    const pod = this.informers.for(refs.pods).get(key);
    if (!pod || pod.spec?.nodeName || pod.metadata.deletionTimestamp || this.assumed.has(key)) return;
    const start = performance.now();
    const nodes = this.currentNodes();
    const c: PodContext = { pod, key, requests: podRequests(pod), tolerations: pod.spec?.tolerations ?? [] };
    const vb = this.volumeBinding.preFilter(pod);
    if (vb.error) {
      recordAttempt('unschedulable', start);
      return this.unschedulable(pod, key, nodes.length ? `0/${nodes.length} nodes are available: ${vb.error}.` : failureMessage(0, new Map()));
    }
    const volumes = vb.volumes;
    if (volumes) c.volumes = { filter: (n) => this.volumeBinding.filter(volumes, n) };
    if (needsTopology(pod, this.antiAffinityPods > 0)) c.topology = buildTopology(pod, nodes);
    // As kube-scheduler's percentageOfNodesToScore: in a big cluster stop after
    // enough feasible nodes, starting where the last pod stopped so all nodes get used.
    const pct = Math.max(5, 50 - nodes.length / 125);
    const enough = nodes.length <= 100 ? nodes.length : Math.max(100, Math.floor((nodes.length * pct) / 100));
    const feasible: NodeInfo[] = [];
    const reasons = new Map<string, number>();
    let i = 0;
    for (; i < nodes.length && feasible.length < enough; i++) {
      const n = nodes[(this.nextStart + i) % nodes.length];
      const why = runFilters(c, n);
      if (!why.length) feasible.push(n);
      else for (const r of why) reasons.set(r, (reasons.get(r) ?? 0) + 1);
    }
    if (nodes.length) this.nextStart = (this.nextStart + i) % nodes.length;
    if (!feasible.length) {
      recordAttempt('unschedulable', start);
      return this.unschedulable(pod, key, failureMessage(nodes.length, reasons));
    }
    setScoringNodes(nodes);
    const chosen = pickNode(c, feasible);
    this.assumed.add(key);
    this.assign(key, pod, chosen.name);
    this.bind(pod, key, chosen, start, volumes);
  }

  private bind(pod: KubeObject, key: string, node: NodeInfo, start: number, volumes?: PodVolumes): void {
    this.binds++;
    const nodeName = node.name;
    const ns = pod.metadata.namespace!;
    const name = pod.metadata.name!;
    const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace: ns, uid: pod.metadata.uid }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } };
    const stillWanted = (): boolean => !this.stopped && this.assumed.has(key) && this.informers.for(refs.pods).get(key)?.metadata.uid === pod.metadata.uid;
    // PreBind: claims waiting for their first consumer get this node, and the pod waits until they are Bound.
    (volumes?.delayed.length ? this.volumeBinding.preBind(pod, volumes, node, stillWanted) : Promise.resolve())
      .then(() => this.client.create({ group: '', version: 'v1', resource: `pods/${encodeURIComponent(name)}/binding`, namespace: ns }, binding))
      .then(async () => {
        recordAttempt('scheduled', start);
        const had = (pod.status?.conditions ?? []).some((x: { type: string; status: string }) => x.type === 'PodScheduled' && x.status === 'False');
        if (had) await this.setScheduledCondition(pod, { type: 'PodScheduled', status: 'True', lastTransitionTime: nowIso() }).catch(() => undefined);
      })
      .catch((err) => {
        recordAttempt('error', start);
        // Forget the assumption; the pod's next update (or the back-off) brings it back.
        if (this.assumed.delete(key)) {
          const node = this.podNode.get(key);
          if (node === nodeName) {
            this.nodes.get(node)?.removePod(key);
            this.podNode.delete(key);
          }
          this.retryLater(key, `binding to ${nodeName} failed: ${messageOf(err)}`);
        }
      })
      .finally(() => {
        this.binds--;
        const s = this.bindSlot;
        this.bindSlot = undefined;
        s?.();
      });
  }

  private retryLater(key: string, message: string): FailureHistory {
    const prev = this.failures.get(key);
    const f: FailureHistory = { attempts: (prev?.attempts ?? 0) + 1, message, lastEventAt: prev?.lastEventAt ?? 0 };
    this.failures.set(key, f);
    const w: Unschedulable = { retryAt: Date.now() + Math.min(initialBackoffMs * 2 ** (f.attempts - 1), maxBackoffMs) };
    this.waiting.set(key, w);
    this.after(w.retryAt - Date.now(), () => this.waiting.get(key) === w && this.activate(key));
    return f;
  }

  private unschedulable(pod: KubeObject, key: string, message: string): void {
    const prevMessage = this.failures.get(key)?.message;
    const w = this.retryLater(key, message);
    const cond = (pod.status?.conditions ?? []).find((x: { type: string }) => x.type === 'PodScheduled');
    if (cond?.status !== 'False' || cond.message !== message) {
      void this.setScheduledCondition(pod, { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: nowIso() }).catch(() => undefined);
    }
    // One Event per new reason, and a reminder at most once a minute, as the event recorder's spam filter would.
    if (prevMessage !== message || Date.now() - w.lastEventAt > 60_000) {
      w.lastEventAt = Date.now();
      void this.event(pod, 'Warning', 'FailedScheduling', message).catch(() => undefined);
    }
  }

  private setScheduledCondition(pod: KubeObject, cond: Record<string, unknown>): Promise<unknown> {
    return this.client.patch(inNs(refs.pods, pod.metadata.namespace), pod.metadata.name!, { status: { conditions: [cond] } }, { subresource: 'status', patchType: 'strategic' });
  }

  private event(pod: KubeObject, type: string, reason: string, message: string): Promise<unknown> {
    const now = nowIso();
    return this.client.create(inNs(refs.events, pod.metadata.namespace), {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${pod.metadata.name}.`, namespace: pod.metadata.namespace },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid, resourceVersion: pod.metadata.resourceVersion },
      reason,
      message,
      type,
      source: { component: schedulerName },
      reportingComponent: schedulerName,
      reportingInstance: schedulerName,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    });
  }
}

/** "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector." */
export function failureMessage(total: number, reasons: Map<string, number>): string {
  if (!total) return 'no nodes available to schedule pods';
  const parts = [...reasons].map(([r, n]) => `${n} ${r}`).sort();
  return `0/${total} nodes are available: ${parts.join(', ')}.`;
}

/** Only changes that can make a pod fit trigger retries; heartbeats do not. */
function nodeChangedForScheduling(n: KubeObject, old: KubeObject): boolean {
  return (
    JSON.stringify(n.spec ?? {}) !== JSON.stringify(old.spec ?? {}) ||
    JSON.stringify(n.metadata.labels ?? {}) !== JSON.stringify(old.metadata.labels ?? {}) ||
    JSON.stringify(n.status?.allocatable ?? {}) !== JSON.stringify(old.status?.allocatable ?? {})
  );
}
