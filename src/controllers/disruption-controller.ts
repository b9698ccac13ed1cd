// Disruption controller: the status of every PodDisruptionBudget (policy/v1).
// currentHealthy counts the selected pods that are Ready and not being
// deleted (nor just evicted: status.disruptedPods, written by the eviction API
// and dropped once the pod is gone or after two minutes); desiredHealthy and
// expectedPods come from minAvailable / maxUnavailable, as an int or a percent
// of the pods' controllers' scale (Deployment, ReplicaSet, ReplicationController,
// StatefulSet), as kube-controller-manager's disruption controller does.
import { runReconcileLoop } from '../kube/client/reconcile-loop.js';
import type { KubeApi, KubeObject } from '../kube/client/kube-client.js';
import { keyOf } from '../kube/client/informer.js';
import { WorkQueue } from '../kube/client/work-queue.js';
import { labelSelectorMatches } from '../kube/api/selectors.js';
import { refs, inNs, type SharedInformers } from '../kube/client/shared-informers.js';
import { controllerOf, isPodReady, nowIso } from './pod-state.js';
import { canonicalJson } from './template-hash.js';

/** How long an eviction's entry in disruptedPods holds the pod out of currentHealthy (Kubernetes' DeletionTimeout). */
const DISRUPTED_POD_TIMEOUT_MS = 120_000;

const scaleRefs: Record<string, { group: string; version: string; resource: string }> = {
  ReplicaSet: refs.replicasets,
  Deployment: refs.deployments,
  ReplicationController: refs.replicationcontrollers,
  StatefulSet: { group: 'apps', version: 'v1', resource: 'statefulsets' },
};

/** An int-or-percent against a total: percentages round up, as Kubernetes' GetScaledValueFromIntOrPercent(..., true). */
export function scaled(v: number | string, total: number): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) return Number.isInteger(Number(v)) ? Number(v) : NaN;
  return Math.ceil((Number(m[1]) * total) / 100);
}

const isPercent = (v: unknown): boolean => typeof v === 'string' && v.endsWith('%');

export class DisruptionController {
  readonly queue = new WorkQueue({ name: 'disruption', baseDelayMs: 200, maxDelayMs: 30_000 });

  constructor(
    private readonly informers: SharedInformers,
    private readonly client: KubeApi,
  ) {
    const pdbs = informers.for(refs.poddisruptionbudgets);
    pdbs.addHandlers({ onAdd: (b) => this.queue.add(keyOf(b)), onUpdate: (b) => this.queue.add(keyOf(b)) });
    const podEvent = (p: KubeObject, old?: KubeObject) => {
      for (const b of pdbs.list()) {
        if (b.metadata.namespace !== p.metadata.namespace) continue;
        if (labelSelectorMatches(b.spec?.selector, p.metadata.labels) || (old && labelSelectorMatches(b.spec?.selector, old.metadata.labels))) this.queue.add(keyOf(b));
      }
    };
    informers.for(refs.pods).addHandlers({ onAdd: (p) => podEvent(p), onUpdate: podEvent, onDelete: (p) => podEvent(p) });
    // A scale change moves expectedPods of percent budgets.
    const scaleEvent = (o: KubeObject) => {
      for (const b of pdbs.list()) if (b.metadata.namespace === o.metadata.namespace) this.queue.add(keyOf(b));
    };
    for (const r of [refs.replicasets, refs.deployments]) informers.for(r).addHandlers({ onUpdate: scaleEvent });
  }

  run(workers = 1): void {
    runReconcileLoop(this.queue, 'disruption-controller', (k) => this.reconcile(k), workers);
  }

  stop(): void {
    this.queue.shutdown();
  }

  /** spec.replicas of the pod's controller, from the informer where there is one; a ReplicaSet of a Deployment counts as the Deployment. */
  private async scaleOf(pod: KubeObject, cache: Map<string, { uid: string; replicas: number } | null>): Promise<{ uid: string; replicas: number } | null> {
    const ref = controllerOf(pod);
    if (!ref || !scaleRefs[ref.kind]) return null;
    const ns = pod.metadata.namespace!;
    const k = `${ref.kind}/${ref.name}`;
    if (cache.has(k)) return cache.get(k)!;
    const r = scaleRefs[ref.kind];
    const inf = r === refs.replicasets || r === refs.deployments || r === refs.replicationcontrollers ? this.informers.for(r) : undefined;
    let owner = inf ? inf.get(`${ns}/${ref.name}`) : await this.client.getOrNull<KubeObject>(inNs(r, ns), ref.name);
    if (owner?.metadata.uid !== ref.uid) owner = undefined;
    let out: { uid: string; replicas: number } | null = owner ? { uid: owner.metadata.uid!, replicas: owner.spec?.replicas ?? 1 } : null;
    if (owner && ref.kind === 'ReplicaSet') {
      const dref = controllerOf(owner);
      const d = dref?.kind === 'Deployment' ? this.informers.for(refs.deployments).get(`${ns}/${dref.name}`) : undefined;
      if (d && d.metadata.uid === dref!.uid) out = { uid: d.metadata.uid!, replicas: d.spec?.replicas ?? 1 };
    }
    cache.set(k, out);
    return out;
  }

  async reconcile(key: string): Promise<void> {
    const pdb = this.informers.for(refs.poddisruptionbudgets).get(key);
    if (!pdb) return;
    const ns = pdb.metadata.namespace!;
    const pods = this.informers
      .for(refs.pods)
      .list()
      .filter((p) => p.metadata.namespace === ns && labelSelectorMatches(pdb.spec?.selector ?? { matchLabels: { 'tug.invalid/none': 'x' } }, p.metadata.labels));
    const now = Date.now();
    // disruptedPods: kept while the pod still exists, not yet deleting, and the entry is recent.
    const disrupted: Record<string, string> = {};
    let nextExpiry = Infinity;
    for (const [name, at] of Object.entries((pdb.status?.disruptedPods ?? {}) as Record<string, string>)) {
      const p = pods.find((x) => x.metadata.name === name);
      const until = Date.parse(at) + DISRUPTED_POD_TIMEOUT_MS;
      if (!p || p.metadata.deletionTimestamp || until <= now) continue;
      disrupted[name] = at;
      nextExpiry = Math.min(nextExpiry, until);
    }
    const currentHealthy = pods.filter((p) => !p.metadata.deletionTimestamp && !disrupted[p.metadata.name!] && isPodReady(p)).length;
    const { minAvailable, maxUnavailable } = pdb.spec ?? {};
    let expectedPods = pods.length;
    let desiredHealthy = 0;
    let failure: string | undefined;
    if (maxUnavailable !== undefined || isPercent(minAvailable)) {
      const cache = new Map<string, { uid: string; replicas: number } | null>();
      const owners = new Map<string, number>();
      for (const p of pods) {
        const s = await this.scaleOf(p, cache);
        if (!s) {
          failure = `found no controllers for pod "${p.metadata.name}"`;
          break;
        }
        owners.set(s.uid, s.replicas);
      }
      expectedPods = [...owners.values()].reduce((a, b) => a + b, 0);
      desiredHealthy = maxUnavailable !== undefined ? Math.max(0, expectedPods - scaled(maxUnavailable, expectedPods)) : scaled(minAvailable, expectedPods);
    } else if (minAvailable !== undefined) {
      desiredHealthy = scaled(minAvailable, expectedPods);
    }
    const disruptionsAllowed = failure ? 0 : Math.max(0, currentHealthy - desiredHealthy);
    const prev = (pdb.status?.conditions ?? []).find((c: { type: string }) => c.type === 'DisruptionAllowed');
    const cond = failure
      ? { type: 'DisruptionAllowed', status: 'False', reason: 'SyncFailed', message: failure, observedGeneration: pdb.metadata.generation }
      : disruptionsAllowed > 0
        ? { type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', observedGeneration: pdb.metadata.generation }
        : { type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods', message: '', observedGeneration: pdb.metadata.generation };
    const lastTransitionTime = prev && prev.status === cond.status ? prev.lastTransitionTime : nowIso();
    const status = {
      observedGeneration: pdb.metadata.generation,
      disruptedPods: Object.keys(disrupted).length ? disrupted : undefined,
      disruptionsAllowed,
      currentHealthy,
      desiredHealthy,
      expectedPods,
      conditions: [{ ...cond, lastTransitionTime }],
    };
    if (nextExpiry !== Infinity) this.queue.addAfter(key, nextExpiry - now + 50);
    const cur = pdb.status ?? {};
    if (canonicalJson({ ...cur, disruptedPods: cur.disruptedPods && Object.keys(cur.disruptedPods).length ? cur.disruptedPods : undefined }) === canonicalJson(status)) return;
    // With the budget's resourceVersion: an eviction that just wrote disruptedPods wins, and this reconcile runs again.
    await this.client.updateStatus(inNs(refs.poddisruptionbudgets, ns), { ...pdb, status: { ...status, disruptedPods: status.disruptedPods ?? {} } } as KubeObject);
  }
}
