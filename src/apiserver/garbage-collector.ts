// The controllers the API server itself needs so deletion behaves as in
// Kubernetes: ownerReference garbage collection (Background, Foreground,
// Orphan), namespace finalization (delete everything inside, then the
// namespace), and the Event TTL.
//
// Level-triggered, as every other controller: the type monitors (list + watch
// of every resource, relisted on start and replayed every resync) feed a work
// queue, and reconcile(key) reads state again before it acts. So a dependent
// whose owner went away while the server was down is collected after the
// restart, and with two servers on one store both see every write. Both may
// reconcile the same key: deletes carry the object's uid as a precondition and
// a NotFound is success; finalizer edits carry the resourceVersion they read.
import { isKind } from '../errdefs.js';
import type { KubeApi, KubeObject } from '../kube/client/kube-client.js';
import { WorkQueue } from '../kube/client/work-queue.js';
import type { TypeRegistry } from '../kube/api/registry.js';
import type { ResourceType } from '../kube/api/resource-type.js';
import { monitoredTypes, refOf, keyOf, type TypeMonitors } from './type-monitors.js';

const EVENT_TTL_MS = 60 * 60 * 1000;

type OwnerRef = { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean };
/** What the collector remembers of each object: enough to find it again and to know its owners. */
type Node = { t: ResourceType; ns?: string; name: string; owners: string[] };

const ownersOf = (o: KubeObject): OwnerRef[] => (o.metadata.ownerReferences as OwnerRef[] | undefined) ?? [];
const finalizersOf = (o: KubeObject): string[] => (o.metadata.finalizers as string[] | undefined) ?? [];

/**
 * Work keys. A dependent to check for missing owners, an owner held by the
 * orphan or foregroundDeletion finalizer, a namespace being deleted.
 */
export const gcKeys = {
  dependent: (t: ResourceType, ns: string | undefined, name: string): string => JSON.stringify(['dependent', t.group, t.version, t.plural, t.namespaced ? (ns ?? '') : '', name]),
  owner: (t: ResourceType, ns: string | undefined, name: string): string => JSON.stringify(['owner', t.group, t.version, t.plural, t.namespaced ? (ns ?? '') : '', name]),
  namespace: (name: string): string => JSON.stringify(['namespace', name]),
};

export class GarbageCollector {
  readonly queue = new WorkQueue({ name: 'garbage_collector_attempt_to_delete', baseDelayMs: 500, maxDelayMs: 30_000 });
  /** uid → object, for every object the monitors hold. */
  private readonly nodes = new Map<string, Node>();
  /** owner uid → uids of the objects that name it. */
  private readonly dependents = new Map<string, Set<string>>();
  private readonly deletingNamespaces = new Set<string>();
  private readonly deletingOwners = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly client: KubeApi,
    private readonly registry: TypeRegistry,
    private readonly monitors: TypeMonitors,
    /** Namespace finalization writes as its own field manager, as kube-controller-manager's namespace controller. */
    private readonly namespaceClient: KubeApi = client,
  ) {
    monitors.addHandlers({ onUpsert: (t, o) => this.observe(t, o), onDelete: (t, o) => this.forget(t, o) });
  }

  /** Starts the workers (call once the monitors have listed) and the Event TTL sweep. */
  run(workers = 2): void {
    void this.queue.run((k) => this.reconcile(k), workers);
    const sweep = setInterval(() => void this.expireEvents(), 5 * 60 * 1000);
    sweep.unref();
    this.timers.add(sweep);
    void this.expireEvents();
  }

  stop(): void {
    this.stopped = true;
    this.queue.shutdown();
    for (const t of this.timers) clearInterval(t);
    this.timers.clear();
  }

  // ---- events → keys (cheap, from the cache; reconcile decides) ----

  private observe(t: ResourceType, o: KubeObject): void {
    const m = o.metadata;
    const uid = m.uid;
    if (!uid || !m.name) return;
    const ns = t.namespaced ? m.namespace : undefined;
    const owners = ownersOf(o);
    this.unlink(uid);
    this.nodes.set(uid, { t, ns, name: m.name, owners: owners.map((r) => r.uid) });
    for (const r of owners) {
      let set = this.dependents.get(r.uid);
      if (!set) this.dependents.set(r.uid, (set = new Set()));
      set.add(uid);
    }
    const deleting = Boolean(m.deletionTimestamp);
    // An owner the cache does not know may be gone: look (an owner known to the cache announces its own deletion).
    if (!deleting && owners.some((r) => !this.nodes.has(r.uid) && this.typeOfRef(r))) this.queue.add(gcKeys.dependent(t, ns, m.name));
    if (deleting && finalizersOf(o).some((f) => f === 'orphan' || f === 'foregroundDeletion')) {
      this.deletingOwners.add(uid);
      this.queue.add(gcKeys.owner(t, ns, m.name));
    } else this.deletingOwners.delete(uid);
    if (t.kind === 'Namespace' && !t.group) {
      if (deleting) {
        this.deletingNamespaces.add(m.name);
        this.queue.add(gcKeys.namespace(m.name));
      } else this.deletingNamespaces.delete(m.name);
    }
    // A dependent changed: an owner in foreground deletion may be waiting for it.
    this.nudgeOwners(owners);
  }

  private forget(t: ResourceType, o: KubeObject): void {
    const m = o.metadata;
    if (!m.uid || !m.name) return;
    this.unlink(m.uid);
    this.nodes.delete(m.uid);
    this.deletingOwners.delete(m.uid);
    if (t.kind === 'Namespace' && !t.group) this.deletingNamespaces.delete(m.name);
    // Its dependents may have lost their last owner.
    for (const d of this.dependents.get(m.uid) ?? []) {
      const n = this.nodes.get(d);
      if (n) this.queue.add(gcKeys.dependent(n.t, n.ns, n.name));
    }
    this.nudgeOwners(ownersOf(o));
    // A namespace's last objects going away lets it finish.
    if (t.namespaced && m.namespace && this.deletingNamespaces.has(m.namespace)) this.queue.add(gcKeys.namespace(m.namespace));
  }

  private nudgeOwners(owners: OwnerRef[]): void {
    for (const r of owners) {
      const n = this.deletingOwners.has(r.uid) ? this.nodes.get(r.uid) : undefined;
      if (n) this.queue.add(gcKeys.owner(n.t, n.ns, n.name));
    }
  }

  private unlink(uid: string): void {
    for (const owner of this.nodes.get(uid)?.owners ?? []) {
      const set = this.dependents.get(owner);
      set?.delete(uid);
      if (set && !set.size) this.dependents.delete(owner);
    }
  }

  // ---- reconcile ----

  /** Brings one key to the state its objects ask for; safe to repeat and to run on two servers at once. */
  async reconcile(key: string): Promise<void> {
    const [kind, ...rest] = JSON.parse(key) as string[];
    if (kind === 'namespace') return this.finalizeNamespace(rest[0]);
    const [group, version, plural, ns, name] = rest;
    const t = this.registry.lookup(group, version, plural);
    if (!t) return; // its CRD went away, and its objects with it
    if (kind === 'dependent') return this.collectIfOwnerless(t, ns || undefined, name);
    if (kind === 'owner') return this.finishOwner(t, ns || undefined, name);
  }

  private typeOfRef(r: OwnerRef): ResourceType | undefined {
    const [g, v] = r.apiVersion.includes('/') ? r.apiVersion.split('/') : ['', r.apiVersion];
    return this.registry.byGroupVersionKind(g, v, r.kind);
  }

  /** Is this owner there (same name and uid)? The cache may say yes; only the store may say no. */
  private async ownerExists(r: OwnerRef, dependentNs: string | undefined): Promise<boolean> {
    const ot = this.typeOfRef(r);
    if (!ot) return true; // an owner of a kind this server does not serve counts as alive, as in Kubernetes
    if (this.nodes.has(r.uid)) return true;
    const owner = await this.client.getOrNull<KubeObject>(refOf(ot, dependentNs), r.name);
    return owner?.metadata.uid === r.uid;
  }

  /** A dependent none of whose owners exists (absent, or same name with another uid) is deleted in the background. */
  private async collectIfOwnerless(t: ResourceType, ns: string | undefined, name: string): Promise<void> {
    // The cache can clear a dependent without a read (after a restart every dependent whose owner's type listed later is queued).
    const cached = this.monitors.get(t, ns ? `${ns}/${name}` : name);
    if (cached && ownersOf(cached).some((r) => this.nodes.has(r.uid) || !this.typeOfRef(r))) return;
    const o = await this.client.getOrNull<KubeObject>(refOf(t, ns), name);
    if (!o || o.metadata.deletionTimestamp || !ownersOf(o).length) return;
    for (const r of ownersOf(o)) if (await this.ownerExists(r, o.metadata.namespace)) return;
    await this.deleteQuietly(t, o, 'Background');
  }

  /** Every object naming uid as an owner, read from the store (an owner's finalizer must not drop on a stale cache). */
  private async liveDependents(ns: string | undefined, uid: string): Promise<{ t: ResourceType; o: KubeObject }[]> {
    const out: { t: ResourceType; o: KubeObject }[] = [];
    for (const t of monitoredTypes(this.registry)) {
      if (ns && !t.namespaced) continue;
      const { items } = await this.client.list<KubeObject>(refOf(t, ns));
      for (const o of items) if (ownersOf(o).some((r) => r.uid === uid)) out.push({ t, o });
    }
    return out;
  }

  /** Owners held by the orphan or foregroundDeletion finalizer. */
  private async finishOwner(t: ResourceType, ns: string | undefined, name: string): Promise<void> {
    const owner = await this.client.getOrNull<KubeObject>(refOf(t, ns), name);
    if (!owner?.metadata.deletionTimestamp) return;
    const fins = finalizersOf(owner);
    const uid = owner.metadata.uid!;
    if (fins.includes('orphan')) {
      for (const { t: dt, o } of await this.liveDependents(ns, uid)) {
        const refs = ownersOf(o).filter((r) => r.uid !== uid);
        // With the resourceVersion read: a concurrent change to the dependent makes this retry, not overwrite.
        await this.client.patch(refOf(dt, o.metadata.namespace), o.metadata.name!, { metadata: { ownerReferences: refs.length ? refs : null, resourceVersion: o.metadata.resourceVersion } }).catch(ignoreNotFound);
      }
      await this.dropFinalizer(t, owner, 'orphan');
      return;
    }
    if (fins.includes('foregroundDeletion')) {
      const deps = await this.liveDependents(ns, uid);
      const blocking = deps.filter(({ o }) => ownersOf(o).some((r) => r.uid === uid && r.blockOwnerDeletion));
      for (const { t: dt, o } of deps) if (!o.metadata.deletionTimestamp) await this.deleteQuietly(dt, o, 'Foreground');
      if (!blocking.length) await this.dropFinalizer(t, owner, 'foregroundDeletion');
    }
  }

  private async dropFinalizer(t: ResourceType, o: KubeObject, f: string): Promise<void> {
    const rest = finalizersOf(o).filter((x) => x !== f);
    await this.client.patch(refOf(t, o.metadata.namespace), o.metadata.name!, { metadata: { finalizers: rest.length ? rest : null, resourceVersion: o.metadata.resourceVersion } }).catch(ignoreNotFound);
  }

  /** Deletes exactly this object: the uid precondition makes a same-named successor safe, NotFound means another server was first. */
  private async deleteQuietly(t: ResourceType, o: KubeObject, policy: 'Background' | 'Foreground'): Promise<void> {
    await this.client.delete(refOf(t, o.metadata.namespace), o.metadata.name!, { propagationPolicy: policy, uid: o.metadata.uid }).catch(ignoreGone);
  }

  /** Namespace deletion: delete everything in it, then release the "kubernetes" finalizer. */
  private async finalizeNamespace(name: string): Promise<void> {
    const nsType = this.registry.lookup('', 'v1', 'namespaces')!;
    const n = await this.client.getOrNull<KubeObject>(refOf(nsType), name);
    if (!n?.metadata.deletionTimestamp) return;
    let remaining = 0;
    for (const t of monitoredTypes(this.registry)) {
      if (!t.namespaced) continue;
      const { items } = await this.client.list<KubeObject>(refOf(t, name));
      remaining += items.length;
      for (const o of items) if (!o.metadata.deletionTimestamp) await this.deleteQuietly(t, o, 'Background');
    }
    if (remaining > 0) {
      // Objects with finalizers or graceful pods: look again shortly.
      this.queue.addAfter(gcKeys.namespace(name), 1000);
      return;
    }
    await this.namespaceClient.patch(refOf(nsType), name, { spec: { finalizers: null } }).catch(ignoreNotFound);
  }

  /** Deletes Events last seen more than an hour ago (kube-apiserver's --event-ttl); returns how many. */
  async expireEvents(): Promise<number> {
    const evType = this.registry.lookup('', 'v1', 'events');
    if (!evType || this.stopped) return 0;
    let n = 0;
    try {
      const { items } = await this.client.list<KubeObject>(refOf(evType));
      const cutoff = Date.now() - EVENT_TTL_MS;
      for (const e of items) {
        const ts = Date.parse(String(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp ?? ''));
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

/** A delete with a uid precondition: NotFound (already gone) and Conflict (a successor with the same name) both mean done. */
function ignoreGone(err: unknown): void {
  if (isKind(err, 'not-found') || isKind(err, 'conflict')) return;
  throw err;
}

function ignoreNotFound(err: unknown): void {
  if (isKind(err, 'not-found')) return;
  throw err;
}

export { keyOf };
