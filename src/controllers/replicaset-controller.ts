// ReplicaSet controller: keeps spec.replicas active pods with the template,
// owned through a controller ownerReference. Adopts orphans that match the
// selector, releases owned pods that stopped matching, deletes the cheapest
// pods first (unscheduled, pending, not ready...) and writes status back.
// "Expectations" (as kube-controller-manager) stop a second reconcile from
// creating again before the informer has seen the pods just created.
// The same controller runs ReplicationControllers (v1), as Kubernetes'
// replication manager wraps its ReplicaSet controller: only the owner kind and
// the selector's shape (a plain label map) differ.
import { runReconcileLoop } from '../kube/client/reconcile-loop.js';
import type { KubeApi, KubeObject } from '../kube/client/kube-client.js';
import { keyOf } from '../kube/client/informer.js';
import { WorkQueue } from '../kube/client/work-queue.js';
import { isKind } from '../errdefs.js';
import { labelSelectorMatches } from '../kube/api/selectors.js';
import { refs, inNs, type SharedInformers } from '../kube/client/shared-informers.js';
import { controllerOf, isPodActive, isPodAvailable, isPodReady, ownerRefs, podReadySince } from './pod-state.js';

const burst = 500;

/** What differs between the kinds this controller runs. */
export interface ReplicaOwnerKind {
  ref: typeof refs.replicasets;
  kind: string;
  apiVersion: string;
  /** The owner's selector as a LabelSelector. */
  selector(o: KubeObject): unknown;
}

export const replicaSetKind: ReplicaOwnerKind = { ref: refs.replicasets, kind: 'ReplicaSet', apiVersion: 'apps/v1', selector: (o) => o.spec?.selector };
export const replicationControllerKind: ReplicaOwnerKind = {
  ref: refs.replicationcontrollers,
  kind: 'ReplicationController',
  apiVersion: 'v1',
  // An empty map selects nothing here (defaulting gives every RC the template's labels).
  selector: (o) => (Object.keys(o.spec?.selector ?? {}).length ? { matchLabels: o.spec.selector } : undefined),
};

interface Expectations {
  adds: Set<string>;
  dels: Set<string>;
  at: number;
}

export class ReplicaSetController {
  readonly queue: WorkQueue;
  private readonly expectations = new Map<string, Expectations>();

  constructor(
    private readonly informers: SharedInformers,
    private readonly client: KubeApi,
    private readonly k: ReplicaOwnerKind = replicaSetKind,
  ) {
    // kube-controller-manager's queue names: "replicaset", and "replicationmanager" for ReplicationControllers.
    this.queue = new WorkQueue({ name: k.kind === 'ReplicaSet' ? 'replicaset' : 'replicationmanager', baseDelayMs: 200, maxDelayMs: 30_000 });
    const rss = informers.for(k.ref);
    rss.addHandlers({ onAdd: (o) => this.queue.add(keyOf(o)), onUpdate: (o) => this.queue.add(keyOf(o)), onDelete: (o) => this.expectations.delete(keyOf(o)) });
    informers.for(refs.pods).addHandlers({
      onAdd: (p) => this.podEvent(p, undefined, 'add'),
      onUpdate: (p, old) => this.podEvent(p, old, 'update'),
      onDelete: (p) => this.podEvent(p, undefined, 'delete'),
    });
  }

  run(workers = 2): void {
    runReconcileLoop(this.queue, `${this.k.kind.toLowerCase()}-controller`, (k) => this.reconcile(k), workers);
  }

  stop(): void {
    this.queue.shutdown();
  }

  private podEvent(p: KubeObject, old: KubeObject | undefined, kind: 'add' | 'update' | 'delete'): void {
    const pk = keyOf(p);
    const ns = p.metadata.namespace;
    const owners = new Set<string>();
    for (const o of [p, old]) {
      const ref = o && controllerOf(o);
      if (ref?.kind === this.k.kind) owners.add(`${ns}/${ref.name}`);
    }
    for (const rsKey of owners) {
      const e = this.expectations.get(rsKey);
      if (e) {
        if (kind === 'add') e.adds.delete(p.metadata.name!);
        if (kind === 'delete' || p.metadata.deletionTimestamp) e.dels.delete(pk);
      }
      this.queue.add(rsKey);
    }
    // An orphan (or a pod whose labels changed) may match some ReplicaSet's selector.
    if (!controllerOf(p) || (old && JSON.stringify(old.metadata.labels) !== JSON.stringify(p.metadata.labels))) {
      for (const rs of this.informers.for(this.k.ref).list()) {
        if (rs.metadata.namespace === ns && labelSelectorMatches(this.k.selector(rs), p.metadata.labels)) this.queue.add(keyOf(rs));
      }
    }
  }

  private satisfied(key: string): boolean {
    const e = this.expectations.get(key);
    if (!e) return true;
    // Expectations that never come true (a create the informer never saw) expire.
    if ((!e.adds.size && !e.dels.size) || Date.now() - e.at > 30_000) {
      this.expectations.delete(key);
      return true;
    }
    return false;
  }

  async reconcile(key: string): Promise<void> {
    const rs = this.informers.for(this.k.ref).get(key);
    if (!rs) return;
    const ns = rs.metadata.namespace!;
    const podRef = inNs(refs.pods, ns);
    const selector = this.k.selector(rs);
    const deleting = Boolean(rs.metadata.deletionTimestamp);
    const owned: KubeObject[] = [];
    for (const p of this.informers.for(refs.pods).list()) {
      if (p.metadata.namespace !== ns) continue;
      const ctrl = controllerOf(p);
      const matches = labelSelectorMatches(selector, p.metadata.labels);
      if (ctrl?.uid === rs.metadata.uid) {
        if (matches) owned.push(p);
        else await this.release(podRef, p, rs.metadata.uid!);
      } else if (!ctrl && matches && !deleting && !p.metadata.deletionTimestamp) {
        // Adoption: patch with the pod's resourceVersion so a concurrent change wins.
        const refsNow = [...ownerRefs(p), ownerRefOf(rs, this.k.kind, this.k.apiVersion)];
        await this.client.patch(podRef, p.metadata.name!, { metadata: { ownerReferences: refsNow, resourceVersion: p.metadata.resourceVersion } });
        owned.push(p);
      }
    }
    const active = owned.filter(isPodActive);
    if (!deleting && this.satisfied(key)) await this.manage(key, rs, active, podRef);
    await this.writeStatus(rs, active);
  }

  private async release(podRef: ReturnType<typeof inNs>, p: KubeObject, uid: string): Promise<void> {
    const rest = ownerRefs(p).filter((r) => r.uid !== uid);
    await this.client.patch(podRef, p.metadata.name!, { metadata: { ownerReferences: rest.length ? rest : null, resourceVersion: p.metadata.resourceVersion } }).catch((err) => {
      if (!isKind(err, 'not-found')) throw err;
    });
  }

  private async manage(key: string, rs: KubeObject, active: KubeObject[], podRef: ReturnType<typeof inNs>): Promise<void> {
    const want = rs.spec?.replicas ?? 1;
    const diff = active.length - want;
    if (diff < 0) {
      const n = Math.min(-diff, burst);
      const e: Expectations = { adds: new Set(), dels: new Set(), at: Date.now() };
      this.expectations.set(key, e);
      const tpl = rs.spec?.template ?? {};
      const body = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { ...(tpl.metadata ?? {}), generateName: `${rs.metadata.name}-`, namespace: rs.metadata.namespace, ownerReferences: [ownerRefOf(rs, this.k.kind, this.k.apiVersion)] },
        spec: tpl.spec,
      };
      delete (body.metadata as Record<string, unknown>).name;
      // Slow start as kube-controller-manager: 1, 2, 4... so a failing create does not repeat 500 times.
      let created = 0;
      for (let batch = 1; created < n; batch *= 2) {
        const size = Math.min(batch, n - created);
        const results = await Promise.allSettled(
          Array.from({ length: size }, async () => {
            const p = await this.client.create<KubeObject>(podRef, body);
            if (!this.informers.for(refs.pods).get(keyOf(p))) e.adds.add(p.metadata.name!);
          }),
        );
        created += size;
        const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
        if (failed) throw failed.reason;
      }
    } else if (diff > 0) {
      const victims = [...active].sort(deletionOrder).slice(0, Math.min(diff, burst));
      const e: Expectations = { adds: new Set(), dels: new Set(victims.map(keyOf)), at: Date.now() };
      this.expectations.set(key, e);
      await Promise.all(
        victims.map((p) =>
          this.client.delete(podRef, p.metadata.name!, { uid: p.metadata.uid }).catch((err) => {
            e.dels.delete(keyOf(p));
            if (!isKind(err, 'not-found') && !isKind(err, 'conflict')) throw err;
          }),
        ),
      );
    }
  }

  private async writeStatus(rs: KubeObject, active: KubeObject[]): Promise<void> {
    const now = Date.now();
    const minReady = rs.spec?.minReadySeconds ?? 0;
    const tplLabels = rs.spec?.template?.metadata?.labels ?? {};
    const status: Record<string, unknown> = {
      replicas: active.length,
      fullyLabeledReplicas: active.filter((p) => Object.entries(tplLabels).every(([k, v]) => p.metadata.labels?.[k] === v)).length,
      readyReplicas: active.filter(isPodReady).length,
      availableReplicas: active.filter((p) => isPodAvailable(p, minReady, now)).length,
      observedGeneration: rs.metadata.generation,
    };
    if (minReady > 0) {
      // A ready pod becomes available later: look again then.
      const next = active.map(podReadySince).filter((t): t is number => t !== undefined && t + minReady * 1000 > now);
      if (next.length) this.queue.addAfter(keyOf(rs), Math.min(...next) + minReady * 1000 - now + 50);
    }
    const cur = rs.status ?? {};
    const changed = Object.entries(status).some(([k, v]) => (cur[k] ?? 0) !== (v ?? 0));
    if (!changed) return;
    await this.client.patch(inNs(this.k.ref, rs.metadata.namespace), rs.metadata.name!, { status }, { subresource: 'status' });
  }
}

/** A controller ownerReference (list items carry no kind, so it is named by the caller). */
export function ownerRefOf(o: KubeObject, kind = 'ReplicaSet', apiVersion = 'apps/v1'): { apiVersion: string; kind: string; name: string; uid: string; controller: true; blockOwnerDeletion: true } {
  return { apiVersion, kind, name: o.metadata.name!, uid: o.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

const phaseRank: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/** Kubernetes' ActivePods ordering: the pods cheapest to lose come first. */
export function deletionOrder(a: KubeObject, b: KubeObject): number {
  const assigned = (p: KubeObject) => (p.spec?.nodeName ? 1 : 0);
  if (assigned(a) !== assigned(b)) return assigned(a) - assigned(b);
  const pa = phaseRank[a.status?.phase ?? 'Pending'] ?? 0;
  const pb = phaseRank[b.status?.phase ?? 'Pending'] ?? 0;
  if (pa !== pb) return pa - pb;
  const ra = isPodReady(a) ? 1 : 0;
  const rb = isPodReady(b) ? 1 : 0;
  if (ra !== rb) return ra - rb;
  const cost = (p: KubeObject) => Number(p.metadata.annotations?.['controller.kubernetes.io/pod-deletion-cost'] ?? 0) || 0;
  if (cost(a) !== cost(b)) return cost(a) - cost(b);
  // Ready for less time goes first.
  const sa = podReadySince(a) ?? 0;
  const sb = podReadySince(b) ?? 0;
  if (sa !== sb) return sb - sa;
  const restarts = (p: KubeObject) => (p.status?.containerStatuses ?? []).reduce((s: number, c: { restartCount?: number }) => s + (c.restartCount ?? 0), 0);
  if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
  // Newer first.
  return Date.parse(b.metadata.creationTimestamp ?? '') - Date.parse(a.metadata.creationTimestamp ?? '') || 0;
}
