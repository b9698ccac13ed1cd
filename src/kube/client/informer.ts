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
  /** start() rejects at the first failed list, not after ~10 s of retries (the informer keeps trying). */
  failFirstList?: boolean;
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
  private looping = false;
  private listed = false;
  /** start() calls waiting for the first list. */
  private waiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  private stopped = false;

  constructor(
    private readonly client: ListWatcher,
    private readonly ref: ResourceRef,
    protected readonly opts: InformerOptions = {},
  ) {}

  /** Adds handlers; the returned function removes them again. */
  addHandlers(h: InformerHandlers<T>): () => void {
    this.handlers.push(h);
    return () => {
      const i = this.handlers.indexOf(h);
      if (i >= 0) this.handlers.splice(i, 1);
    };
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  /**
   * Starts list+watch; resolves once the first list is in the cache. Calling it
   * again (a view starting on a running informer) just waits for that list; a
   * first list that keeps failing rejects the waiters while the informer keeps
   * trying, so a later start() can still succeed.
   */
  start(): Promise<void> {
    const synced = this.listed
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          this.waiters.push({ resolve, reject });
        });
    if (!this.looping) {
      this.looping = true;
      void this.loop();
      this.startResync();
    }
    return synced;
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
  }

  /** Every resyncMs, replays the cache as updates to this informer's handlers. */
  protected startResync(): void {
    if (!this.opts.resyncMs) return;
    this.resyncTimer = setInterval(() => {
      for (const o of this.list()) this.emit('MODIFIED', o, o);
    }, this.opts.resyncMs);
    this.resyncTimer.unref();
  }

  protected stopResync(): void {
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.resyncTimer = undefined;
  }

  /** Hands one change to the handlers (old: the cached object it replaces, if any). */
  protected emit(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T, old: T | undefined): void {
    for (const h of [...this.handlers]) {
      if (type === 'DELETED') h.onDelete?.(obj);
      else if (old) h.onUpdate?.(obj, old);
      else h.onAdd?.(obj);
    }
  }

  private settle(err?: unknown): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      if (err === undefined) w.resolve();
      else w.reject(err);
    }
  }

  private async loop(): Promise<void> {
    let rv = '';
    let delay = 200;
    while (!this.stopped) {
      try {
        if (!rv) {
          rv = await this.relist();
          if (!this.listed) {
            this.listed = true;
            this.settle();
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
          if (!this.listed && (delay > 10_000 || this.opts.failFirstList)) this.settle(err);
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
      this.emit('DELETED', obj, old);
      return;
    }
    this.cache.set(key, obj);
    this.emit(old ? 'MODIFIED' : 'ADDED', obj, old);
  }
}

/**
 * An informer that reads another one's cache instead of listing and watching
 * itself: its handlers come and go with it while the source keeps its watch
 * and cache. A component that stops and starts again (a scheduler or
 * controller manager losing and winning its Lease back) builds new views on
 * the same sources and starts from a warm cache, without a relist. start()
 * replays the source's cache to the view's handlers as adds, as client-go does
 * for a handler added to a running informer.
 */
export class InformerView<T extends KubeObject = KubeObject> extends Informer<T> {
  private detach?: () => void;
  private viewStopped = false;

  constructor(
    private readonly source: Informer<T>,
    opts: Pick<InformerOptions, 'resyncMs'> = {},
  ) {
    super(unusedListWatcher, { group: '', version: '', resource: '' }, opts);
  }

  override get(key: string): T | undefined {
    return this.source.get(key);
  }

  override list(): T[] {
    return this.source.list();
  }

  override async start(): Promise<void> {
    await this.source.start();
    if (this.viewStopped || this.detach) return;
    // Attach and replay in one synchronous step: no event can fall between.
    this.detach = this.source.addHandlers({
      onAdd: (o) => this.emit('ADDED', o, undefined),
      onUpdate: (o, old) => this.emit('MODIFIED', o, old),
      onDelete: (o) => this.emit('DELETED', o, undefined),
    });
    for (const o of this.source.list()) this.emit('ADDED', o, undefined);
    this.startResync();
  }

  override stop(): void {
    this.viewStopped = true;
    this.detach?.();
    this.stopResync();
  }
}

/** A view never lists or watches through its own client. */
const unusedListWatcher: ListWatcher = {
  list: () => Promise.reject(new Error('an informer view does not list')),
  watch: () => {
    throw new Error('an informer view does not watch');
  },
};
