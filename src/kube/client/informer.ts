// An informer: list + watch cache of one resource (optionally filtered by
// label/field selector), with handlers for add/update/delete. On a 410 Gone
// (or any watch failure) it relists and reports the difference; every
// resyncMs it replays every cached object as an update, so level-triggered
// controllers converge even if an event was missed.
import { TugError } from '../../errdefs.js';
import type { KubeObject, ListWatcher, ResourceRef } from './kube-client.js';

export interface InformerHandlers<T extends KubeObject> {
  onAdd?: (obj: T) => void;
  onUpdate?: (obj: T, old: T) => void;
  onDelete?: (obj: T) => void;
}

export interface InformerOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Replays the cache as updates every resyncMs (0 = never). */
  resyncMs?: number;
}

/** Cache key: "namespace/name", or "name" for cluster-scoped objects. */
export function keyOf(obj: KubeObject): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : String(obj.metadata.name);
}

export class Informer<T extends KubeObject = KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly abort = new AbortController();
  private resyncTimer?: NodeJS.Timeout;
  private synced!: Promise<void>;
  private stopped = false;

  constructor(
    private readonly client: ListWatcher,
    private readonly ref: ResourceRef,
    private readonly opts: InformerOptions = {},
  ) {}

  addHandlers(h: InformerHandlers<T>): void {
    this.handlers.push(h);
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  /** Starts list+watch; resolves once the first list is in the cache. */
  start(): Promise<void> {
    let first!: () => void;
    let firstFailed!: (err: unknown) => void;
    this.synced = new Promise((resolve, reject) => {
      first = resolve;
      firstFailed = reject;
    });
    void this.loop(first, firstFailed);
    if (this.opts.resyncMs) {
      this.resyncTimer = setInterval(() => {
        for (const o of this.cache.values()) for (const h of this.handlers) h.onUpdate?.(o, o);
      }, this.opts.resyncMs);
      this.resyncTimer.unref();
    }
    return this.synced;
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
  }

  private async loop(first: () => void, firstFailed: (err: unknown) => void): Promise<void> {
    let listed = false;
    let rv = '';
    let delay = 200;
    while (!this.stopped) {
      try {
        if (!rv) {
          rv = await this.relist();
          if (!listed) {
            listed = true;
            first();
          }
        }
        for await (const ev of this.client.watch<T>(this.ref, { labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector, resourceVersion: rv, signal: this.abort.signal })) {
          if (ev.object?.metadata?.resourceVersion) rv = ev.object.metadata.resourceVersion;
          if (ev.type === 'BOOKMARK') continue;
          this.apply(ev.type, ev.object);
        }
        delay = 200;
      } catch (err) {
        if (this.stopped) return;
        if (err instanceof TugError && err.kind === 'gone') rv = '';
        else {
          if (!listed && delay > 10_000) firstFailed(err);
          await new Promise((r) => setTimeout(r, delay).unref());
          delay = Math.min(delay * 2, 30_000);
        }
      }
    }
  }

  /** Lists, replaces the cache and emits the differences; returns the list's resourceVersion. */
  private async relist(): Promise<string> {
    const list = await this.client.list<T>(this.ref, { labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector });
    const seen = new Set<string>();
    for (const o of list.items) {
      seen.add(keyOf(o));
      this.apply('MODIFIED', o);
    }
    for (const [k, o] of this.cache) if (!seen.has(k)) this.apply('DELETED', o);
    return list.metadata.resourceVersion ?? '';
  }

  private apply(type: string, obj: T): void {
    const key = keyOf(obj);
    const old = this.cache.get(key);
    if (type === 'DELETED') {
      this.cache.delete(key);
      for (const h of this.handlers) h.onDelete?.(obj);
      return;
    }
    this.cache.set(key, obj);
    for (const h of this.handlers) {
      if (old) h.onUpdate?.(obj, old);
      else h.onAdd?.(obj);
    }
  }
}
