// In-process controllers the API server itself needs so deletion behaves as in
// Kubernetes: ownerReference garbage collection (Background, Foreground,
// Orphan), namespace finalization (delete everything inside, then the
// namespace), and the Event TTL. Level-triggered: each work item re-reads state.
import { isKind } from '../errdefs.js';
import type { KObject, ResourceType } from '../kube/api/resource-type.js';
import type { ObjectStore } from './object-store.js';

type Work =
  | { kind: 'orphans-of'; ns?: string; uid: string }
  | { kind: 'owner'; t: ResourceType; ns?: string; name: string }
  | { kind: 'dependent'; t: ResourceType; ns?: string; name: string }
  | { kind: 'namespace'; name: string };

const EVENT_TTL_MS = 60 * 60 * 1000;

export class GarbageCollector {
  private readonly queue = new Map<string, Work>();
  private running = false;
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly objects: ObjectStore) {
    objects.onWrite((t, kind, o) => this.observe(t, kind, o));
  }

  start(): void {
    const sweep = setInterval(() => void this.expireEvents(), 5 * 60 * 1000);
    sweep.unref();
    this.timers.add(sweep);
    void this.expireEvents();
    void this.resync();
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers.clear();
  }

  /** After a restart: pick up deletions that were in flight. */
  private async resync(): Promise<void> {
    for (const t of this.objects.registry.types) {
      if (t.fromStorage) continue; // another version's view of objects listed under their stored type
      const { items } = await this.objects.list(t, undefined).catch(() => ({ items: [] as KObject[] }));
      for (const o of items) if (o.metadata?.deletionTimestamp) this.observe(t, 'update', o);
    }
  }

  private observe(t: ResourceType, kind: 'create' | 'update' | 'delete', o: KObject): void {
    const m = o.metadata ?? {};
    if (kind === 'delete' && m.uid) this.enqueue(`orphans:${m.uid}`, { kind: 'orphans-of', ns: t.namespaced ? m.namespace : undefined, uid: m.uid });
    // A dependent created after (or without) its owner would otherwise never see the owner's delete.
    if (kind === 'create' && m.ownerReferences?.length && m.name) this.enqueue(`dep:${t.plural}/${m.namespace}/${m.name}`, { kind: 'dependent', t, ns: t.namespaced ? m.namespace : undefined, name: m.name });
    if (t.kind === 'Namespace' && m.deletionTimestamp && m.name) this.enqueue(`ns:${m.name}`, { kind: 'namespace', name: m.name });
    if (m.deletionTimestamp && (m.finalizers ?? []).some((f) => f === 'orphan' || f === 'foregroundDeletion')) {
      this.enqueue(`owner:${t.plural}/${m.namespace}/${m.name}`, { kind: 'owner', t, ns: m.namespace, name: m.name! });
    }
    // A dependent changed or went away: its owners may be waiting in foreground deletion.
    for (const ref of m.ownerReferences ?? []) {
      const [g, v] = ref.apiVersion.includes('/') ? ref.apiVersion.split('/') : ['', ref.apiVersion];
      const ot = this.objects.registry.byGroupVersionKind(g, v, ref.kind);
      if (ot) this.enqueue(`owner:${ot.plural}/${ot.namespaced ? m.namespace : undefined}/${ref.name}`, { kind: 'owner', t: ot, ns: ot.namespaced ? m.namespace : undefined, name: ref.name });
    }
    // A namespace's last objects going away lets it finish.
    if (kind === 'delete' && t.namespaced && m.namespace) this.enqueue(`ns:${m.namespace}`, { kind: 'namespace', name: m.namespace });
  }

  private enqueue(key: string, w: Work): void {
    if (this.stopped) return;
    this.queue.set(key, w);
    if (!this.running) void this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.size && !this.stopped) {
        const [key, w] = this.queue.entries().next().value as [string, Work];
        this.queue.delete(key);
        try {
          await this.process(w);
        } catch {
          // Retry later: state may have moved on (conflict) or the store is briefly unavailable.
          this.retry(key, w);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private retry(key: string, w: Work, ms = 500): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.enqueue(key, w);
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  private async process(w: Work): Promise<void> {
    if (w.kind === 'orphans-of') return this.collectDependents(w.ns, w.uid);
    if (w.kind === 'owner') return this.finishOwner(w.t, w.ns, w.name);
    if (w.kind === 'dependent') return this.collectIfOwnerless(w.t, w.ns, w.name);
    return this.finalizeNamespace(w.name);
  }

  private async dependents(ns: string | undefined, uid: string): Promise<{ t: ResourceType; o: KObject }[]> {
    const out: { t: ResourceType; o: KObject }[] = [];
    for (const t of this.objects.registry.types) {
      if ((ns && !t.namespaced) || t.fromStorage) continue;
      const { items } = await this.objects.list(t, ns);
      for (const o of items) if ((o.metadata?.ownerReferences ?? []).some((r) => r.uid === uid)) out.push({ t, o });
    }
    return out;
  }

  /** A new dependent none of whose owners exists (absent, or same name with another uid) is deleted, as Kubernetes' GC does; an owner of an unknown kind counts as alive. */
  private async collectIfOwnerless(t: ResourceType, ns: string | undefined, name: string): Promise<void> {
    const o = await this.objects.getOrNull(t, ns, name);
    if (!o || o.metadata?.deletionTimestamp || !o.metadata?.ownerReferences?.length) return;
    for (const r of o.metadata.ownerReferences) {
      const [g, v] = r.apiVersion.includes('/') ? r.apiVersion.split('/') : ['', r.apiVersion];
      const ot = this.objects.registry.byGroupVersionKind(g, v, r.kind);
      if (!ot) return;
      const owner = await this.objects.getOrNull(ot, ot.namespaced ? o.metadata.namespace : undefined, r.name);
      if (owner && owner.metadata?.uid === r.uid) return;
    }
    await this.deleteQuietly(t, o, 'Background');
  }

  /** Background deletion: dependents whose owners are all gone are deleted. */
  private async collectDependents(ns: string | undefined, uid: string): Promise<void> {
    for (const { t, o } of await this.dependents(ns, uid)) {
      const others = (o.metadata?.ownerReferences ?? []).filter((r) => r.uid !== uid);
      let alive = false;
      for (const r of others) {
        const [g, v] = r.apiVersion.includes('/') ? r.apiVersion.split('/') : ['', r.apiVersion];
        const ot = this.objects.registry.byGroupVersionKind(g, v, r.kind);
        const owner = ot ? await this.objects.getOrNull(ot, ot.namespaced ? o.metadata?.namespace : undefined, r.name) : null;
        if (owner && owner.metadata?.uid === r.uid) alive = true;
      }
      if (alive || o.metadata?.deletionTimestamp) continue;
      await this.deleteQuietly(t, o, 'Background');
    }
  }

  /** Owners held by orphan/foregroundDeletion finalizers. */
  private async finishOwner(t: ResourceType, ns: string | undefined, name: string): Promise<void> {
    const owner = await this.objects.getOrNull(t, ns, name);
    if (!owner?.metadata?.deletionTimestamp) return;
    const fins = owner.metadata.finalizers ?? [];
    const uid = owner.metadata.uid!;
    if (fins.includes('orphan')) {
      for (const { t: dt, o } of await this.dependents(ns, uid)) {
        const refs = (o.metadata?.ownerReferences ?? []).filter((r) => r.uid !== uid);
        await this.objects.patch(dt, o.metadata?.namespace, o.metadata!.name!, 'merge', { metadata: { ownerReferences: refs.length ? refs : null } }, { fieldManager: 'garbage-collector' }).catch(ignoreGone);
      }
      await this.dropFinalizer(t, owner, 'orphan');
      return;
    }
    if (fins.includes('foregroundDeletion')) {
      const deps = await this.dependents(ns, uid);
      const blocking = deps.filter(({ o }) => (o.metadata?.ownerReferences ?? []).some((r) => r.uid === uid && r.blockOwnerDeletion));
      for (const { t: dt, o } of deps) if (!o.metadata?.deletionTimestamp) await this.deleteQuietly(dt, o, 'Foreground');
      if (!blocking.length) await this.dropFinalizer(t, owner, 'foregroundDeletion');
    }
  }

  private async dropFinalizer(t: ResourceType, o: KObject, f: string): Promise<void> {
    const rest = (o.metadata?.finalizers ?? []).filter((x) => x !== f);
    await this.objects
      .patch(t, o.metadata?.namespace, o.metadata!.name!, 'merge', { metadata: { finalizers: rest.length ? rest : null, resourceVersion: o.metadata?.resourceVersion } }, { fieldManager: 'garbage-collector' })
      .catch(ignoreGone);
  }

  private async deleteQuietly(t: ResourceType, o: KObject, policy: 'Background' | 'Foreground'): Promise<void> {
    await this.objects.delete(t, o.metadata?.namespace, o.metadata!.name!, { propagationPolicy: policy, preconditions: { uid: o.metadata?.uid } }).catch(ignoreGone);
  }

  /** Namespace deletion: delete everything in it, then release the "kubernetes" finalizer. */
  private async finalizeNamespace(name: string): Promise<void> {
    const nsType = this.objects.registry.lookup('', 'v1', 'namespaces')!;
    const n = await this.objects.getOrNull(nsType, undefined, name);
    if (!n?.metadata?.deletionTimestamp) return;
    let remaining = 0;
    for (const t of this.objects.registry.types) {
      if (!t.namespaced || t.fromStorage) continue;
      const { items } = await this.objects.list(t, name);
      remaining += items.length;
      for (const o of items) if (!o.metadata?.deletionTimestamp) await this.deleteQuietly(t, o, 'Background');
    }
    if (remaining > 0) {
      // Objects with finalizers or graceful pods: look again shortly.
      this.retry(`ns:${name}`, { kind: 'namespace', name }, 1000);
      return;
    }
    await this.objects.patch(nsType, undefined, name, 'merge', { spec: { finalizers: null } }, { fieldManager: 'namespace-controller' }).catch(ignoreGone);
  }

  /** Deletes Events last seen more than an hour ago (kube-apiserver's --event-ttl); returns how many. */
  async expireEvents(): Promise<number> {
    const evType = this.objects.registry.lookup('', 'v1', 'events');
    if (!evType || this.stopped) return 0;
    let n = 0;
    try {
      const { items } = await this.objects.list(evType, undefined);
      const cutoff = Date.now() - EVENT_TTL_MS;
      for (const e of items) {
        const ts = Date.parse(e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? '');
        if (Number.isFinite(ts) && ts < cutoff) {
          await this.deleteQuietly(evType, e, 'Background');
          n++;
        }
      }
    } catch {
      /* next sweep */
    }
    return n;
  }
}

function ignoreGone(err: unknown): void {
  if (isKind(err, 'not-found') || isKind(err, 'conflict')) return;
  throw err;
}
