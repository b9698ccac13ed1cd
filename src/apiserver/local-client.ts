// The API server's in-process client: the KubeApi verbs (get, list, watch,
// create, update, patch, delete) straight on the ObjectStore, no HTTP. The
// server's own controllers (garbage collector, namespaces, quota status, CRDs,
// default ServiceAccounts) talk through it, so they have the shape of every
// other controller (informer → work queue → reconcile) and their tests can
// hand them a fake client instead. Writes carry this client's field manager.
import { TugError } from '../errdefs.js';
import type { KubeApi, KubeList, KubeObject, ListOptions, ResourceRef, WatchEvent } from '../kube/client/kube-client.js';
import type { KObject, ResourceType } from '../kube/api/resource-type.js';
import type { ObjectStore } from './object-store.js';

export class LocalClient implements KubeApi {
  constructor(
    private readonly objects: ObjectStore,
    private readonly fieldManager: string,
  ) {}

  /** The same store, writing as another field manager. */
  as(fieldManager: string): LocalClient {
    return new LocalClient(this.objects, fieldManager);
  }

  private type(ref: ResourceRef): ResourceType {
    const t = this.objects.registry.lookup(ref.group, ref.version, ref.resource);
    if (!t) throw new TugError('not-found', `the server could not find the requested resource (${ref.group ? `${ref.resource}.${ref.group}` : ref.resource})`);
    return t;
  }

  private ns(t: ResourceType, ref: ResourceRef): string | undefined {
    return t.namespaced ? ref.namespace : undefined;
  }

  async get<T = KubeObject>(ref: ResourceRef, name: string): Promise<T> {
    const t = this.type(ref);
    return (await this.objects.get(t, this.ns(t, ref), name)) as T;
  }

  async getOrNull<T = KubeObject>(ref: ResourceRef, name: string): Promise<T | null> {
    const t = this.type(ref);
    return (await this.objects.getOrNull(t, this.ns(t, ref), name)) as T | null;
  }

  async list<T = KubeObject>(ref: ResourceRef, opts: ListOptions = {}): Promise<KubeList<T>> {
    const t = this.type(ref);
    const { items, resourceVersion } = await this.objects.list(t, this.ns(t, ref), { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, limit: opts.limit });
    return { metadata: { resourceVersion }, items: items as T[] };
  }

  async create<T = KubeObject>(ref: ResourceRef, obj: object): Promise<T> {
    const t = this.type(ref);
    return (await this.objects.create(t, this.ns(t, ref), obj, { fieldManager: this.fieldManager })).object as T;
  }

  async update<T = KubeObject>(ref: ResourceRef, obj: KubeObject): Promise<T> {
    const t = this.type(ref);
    return (await this.objects.update(t, this.ns(t, ref), obj.metadata.name!, obj, { fieldManager: this.fieldManager })).object as T;
  }

  async updateStatus<T = KubeObject>(ref: ResourceRef, obj: KubeObject): Promise<T> {
    const t = this.type(ref);
    return (await this.objects.update(t, this.ns(t, ref), obj.metadata.name!, obj, { fieldManager: this.fieldManager, subresource: 'status' })).object as T;
  }

  async patch<T = KubeObject>(ref: ResourceRef, name: string, patch: unknown, opts: { subresource?: 'status'; patchType?: 'merge' | 'strategic' | 'json' } = {}): Promise<T> {
    const t = this.type(ref);
    return (await this.objects.patch(t, this.ns(t, ref), name, opts.patchType ?? 'merge', patch, { fieldManager: this.fieldManager, subresource: opts.subresource })).object as T;
  }

  async delete(ref: ResourceRef, name: string, opts: { gracePeriodSeconds?: number; uid?: string; propagationPolicy?: string } = {}): Promise<void> {
    const t = this.type(ref);
    await this.objects.delete(t, this.ns(t, ref), name, {
      gracePeriodSeconds: opts.gracePeriodSeconds,
      preconditions: opts.uid ? { uid: opts.uid } : undefined,
      propagationPolicy: opts.propagationPolicy as 'Foreground' | 'Background' | 'Orphan' | undefined,
    });
  }

  /** The store's watch as an async iterator; a compacted revision throws 'gone' (the informer relists), as KubeClient's does. */
  async *watch<T = KubeObject>(ref: ResourceRef, opts: ListOptions & { signal?: AbortSignal; timeoutSeconds?: number } = {}): AsyncGenerator<WatchEvent<T>> {
    const t = this.type(ref);
    const pending: WatchEvent<T>[] = [];
    let ended = false;
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    const poke = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const cancel = await this.objects.watch(
      t,
      this.ns(t, ref),
      { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, resourceVersion: opts.resourceVersion },
      (e) => {
        if (e.type === 'ERROR') {
          const st = e.object as KObject & { code?: number; message?: string };
          failure = new TugError(st.code === 410 ? 'gone' : 'internal', st.message ?? 'watch error');
          ended = true;
        } else pending.push({ type: e.type, object: e.object as T });
        poke();
      },
      (err) => {
        failure ??= err;
        ended = true;
        poke();
      },
    );
    const onAbort = () => {
      ended = true;
      poke();
    };
    opts.signal?.addEventListener('abort', onAbort);
    try {
      for (;;) {
        while (pending.length) yield pending.shift()!;
        if (opts.signal?.aborted) return;
        if (ended) {
          if (failure) throw failure;
          return;
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      cancel();
    }
  }
}
