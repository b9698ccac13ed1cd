// One metadata informer per stored resource (as the garbage collector's
// "monitors" in kube-controller-manager): list + watch of every type the
// registry serves, keeping apiVersion, kind and metadata only. The API
// server's own controllers hang their handlers here; a restart relists, so
// whatever happened while the server was down (or on another server sharing
// the store) shows up as state, not as a missed event. Types come and go with
// CustomResourceDefinitions: the set follows the registry's generation.
import { Informer, keyOf } from '../kube/client/informer.js';
import type { KubeObject, ListWatcher, ResourceRef } from '../kube/client/kube-client.js';
import { mappedLister } from '../kube/client/mapped-lister.js';
import { TypeRegistry } from '../kube/api/registry.js';
import type { ResourceType } from '../kube/api/resource-type.js';

export interface MonitorHandlers {
  /** A new or changed object; `old` is undefined on add and the same object on a periodic resync. */
  onUpsert?: (t: ResourceType, obj: KubeObject, old: KubeObject | undefined) => void;
  onDelete?: (t: ResourceType, obj: KubeObject) => void;
}

export interface TypeMonitorOptions {
  /** Replays every cached object as a change this often (level-triggered safety net). */
  resyncMs?: number;
  /** How often to compare the monitored types with the registry's (CRDs add and remove types). */
  typeCheckMs?: number;
}

/** The types worth watching: one per storage prefix (other versions of a kind are views of the same objects). */
export function monitoredTypes(registry: TypeRegistry): ResourceType[] {
  const seen = new Map<string, ResourceType>();
  for (const t of registry.types) {
    if (t.fromStorage || !t.verbs.includes('list')) continue;
    const prefix = TypeRegistry.keyPrefix(t);
    if (!seen.has(prefix)) seen.set(prefix, t);
  }
  return [...seen.values()];
}

export const refOf = (t: ResourceType, namespace?: string): ResourceRef => ({ group: t.group, version: t.version, resource: t.plural, namespace: t.namespaced ? namespace : undefined });

/** Only what owners, finalizers and namespaces need; a server holds every object's metadata, not every pod spec. */
function metadataOnly(o: KubeObject): KubeObject {
  const { managedFields: _mf, ...metadata } = o.metadata;
  return { apiVersion: o.apiVersion, kind: o.kind, metadata };
}

export class TypeMonitors {
  private readonly informers = new Map<string, { t: ResourceType; inf: Informer }>();
  private readonly handlers: MonitorHandlers[] = [];
  private readonly lw: ListWatcher;
  private generation = -1;
  private timer?: NodeJS.Timeout;
  private started = false;

  constructor(
    private readonly registry: TypeRegistry,
    lw: ListWatcher,
    private readonly opts: TypeMonitorOptions = {},
  ) {
    this.lw = mappedLister(lw, metadataOnly);
  }

  addHandlers(h: MonitorHandlers): void {
    this.handlers.push(h);
  }

  /** Starts a monitor per type; resolves once each has listed once. */
  async start(): Promise<void> {
    this.started = true;
    await Promise.all(this.syncTypes());
    this.timer = setInterval(() => void Promise.all(this.syncTypes()).catch(() => undefined), this.opts.typeCheckMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    this.started = false;
    if (this.timer) clearInterval(this.timer);
    for (const { inf } of this.informers.values()) inf.stop();
    this.informers.clear();
  }

  /** The cached metadata of one object (key "ns/name" or "name"), if its type is monitored. */
  get(t: ResourceType, key: string): KubeObject | undefined {
    return this.informers.get(TypeRegistry.keyPrefix(t))?.inf.get(key);
  }

  /** Starts monitors for new types and stops those of types that went away. */
  private syncTypes(): Promise<void>[] {
    if (!this.started || this.registry.generation === this.generation) return [];
    this.generation = this.registry.generation;
    const want = new Map(monitoredTypes(this.registry).map((t) => [TypeRegistry.keyPrefix(t), t]));
    for (const [prefix, m] of this.informers) {
      const next = want.get(prefix);
      const sameRef = next && next.group === m.t.group && next.version === m.t.version && next.plural === m.t.plural;
      if (next && sameRef) {
        // A CRD update redefines its type: same objects, same watch; handlers see the new definition.
        m.t = next;
        continue;
      }
      // Gone (its objects were deleted first), or now served under another version: relisted below.
      m.inf.stop();
      this.informers.delete(prefix);
      for (const o of m.inf.list()) this.emit((h) => h.onDelete?.(m.t, o));
    }
    const starting: Promise<void>[] = [];
    for (const [prefix, t] of want) {
      if (this.informers.has(prefix)) continue;
      const inf = new Informer(this.lw, refOf(t), { resyncMs: this.opts.resyncMs ?? 30_000 });
      const entry = { t, inf };
      inf.addHandlers({
        onAdd: (o) => this.emit((h) => h.onUpsert?.(entry.t, o, undefined)),
        onUpdate: (o, old) => this.emit((h) => h.onUpsert?.(entry.t, o, old)),
        onDelete: (o) => this.emit((h) => h.onDelete?.(entry.t, o)),
      });
      this.informers.set(prefix, entry);
      starting.push(inf.start());
    }
    return starting;
  }

  private emit(fn: (h: MonitorHandlers) => void): void {
    for (const h of this.handlers) {
      try {
        fn(h);
      } catch {
        /* one controller's bug must not starve the others */
      }
    }
  }
}

export { keyOf };
