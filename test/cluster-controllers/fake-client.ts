// A fake Kubernetes client for reconcile tests, as client-go's fake clientset
// is for sample-controller's controller_test.go: objects seeded per resource
// feed the informers' first list (their watch stays silent), and every write a
// reconcile makes is recorded as an action, answered from the seeded objects,
// and NOT fed back to the informers, so a test sees exactly one reconcile's
// decisions.
import { TugError } from '../../src/errdefs.js';
import type { KubeApi, KubeList, KubeObject, ListOptions, ResourceRef, WatchEvent } from '../../src/kube/client/kube-client.js';
import { applyMergePatch } from '../../src/apiserver/patch.js';

export interface Action {
  verb: 'create' | 'update' | 'patch' | 'delete';
  /** "group/resource", "resource" for the core group. */
  resource: string;
  namespace?: string;
  name: string;
  subresource?: string;
  body?: any;
  options?: Record<string, unknown>;
}

const resourceOf = (ref: ResourceRef) => (ref.group ? `${ref.group}/${ref.resource}` : ref.resource);
const keyOf = (ns: string | undefined, name: string) => (ns ? `${ns}/${name}` : name);

export class FakeClient implements KubeApi {
  readonly actions: Action[] = [];
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private serial = 0;
  /** Makes the next write of this verb fail with the given error (as a reactor does in client-go's fake). */
  private readonly failures: { verb: Action['verb']; err: Error }[] = [];

  /** Seeds objects of one resource; they are what the informers list. */
  seed(ref: ResourceRef, ...objs: KubeObject[]): this {
    const m = this.bucket(ref);
    for (const o of objs) m.set(keyOf(o.metadata.namespace, o.metadata.name!), structuredClone(o));
    return this;
  }

  failNext(verb: Action['verb'], err: Error): void {
    this.failures.push({ verb, err });
  }

  /** Actions as short strings ("patch replicasets default/web status"), for readable assertions. */
  summary(): string[] {
    return this.actions.map((a) => [a.verb, a.resource, keyOf(a.namespace, a.name), a.subresource].filter(Boolean).join(' '));
  }

  private bucket(ref: ResourceRef): Map<string, KubeObject> {
    const r = resourceOf(ref);
    let m = this.objects.get(r);
    if (!m) this.objects.set(r, (m = new Map()));
    return m;
  }

  private fail(verb: Action['verb']): void {
    const i = this.failures.findIndex((f) => f.verb === verb);
    if (i >= 0) throw this.failures.splice(i, 1)[0].err;
  }

  async get<T = KubeObject>(ref: ResourceRef, name: string): Promise<T> {
    const o = this.bucket(ref).get(keyOf(ref.namespace, name));
    if (!o) throw new TugError('not-found', `${ref.resource} "${name}" not found`);
    return structuredClone(o) as T;
  }

  async getOrNull<T = KubeObject>(ref: ResourceRef, name: string): Promise<T | null> {
    const o = this.bucket(ref).get(keyOf(ref.namespace, name));
    return o ? (structuredClone(o) as T) : null;
  }

  async list<T = KubeObject>(ref: ResourceRef, _opts: ListOptions = {}): Promise<KubeList<T>> {
    const items = [...this.bucket(ref).values()].filter((o) => !ref.namespace || o.metadata.namespace === ref.namespace);
    return { metadata: { resourceVersion: '1' }, items: structuredClone(items) as T[] };
  }

  async create<T = KubeObject>(ref: ResourceRef, obj: object): Promise<T> {
    const o = structuredClone(obj) as KubeObject;
    const name = o.metadata.name ?? `${o.metadata.generateName ?? ''}${String(++this.serial).padStart(5, '0')}`;
    this.actions.push({ verb: 'create', resource: resourceOf(ref), namespace: ref.namespace, name, body: structuredClone(obj) });
    this.fail('create');
    const m = this.bucket(ref);
    if (m.has(keyOf(ref.namespace, name))) throw new TugError('already-exists', `${ref.resource} "${name}" already exists`);
    const out = { ...o, metadata: { ...o.metadata, name, namespace: ref.namespace, uid: `uid-${name}`, resourceVersion: '1' } };
    m.set(keyOf(ref.namespace, name), out);
    return structuredClone(out) as T;
  }

  async update<T = KubeObject>(ref: ResourceRef, obj: KubeObject): Promise<T> {
    this.actions.push({ verb: 'update', resource: resourceOf(ref), namespace: ref.namespace, name: obj.metadata.name!, body: structuredClone(obj) });
    this.fail('update');
    this.bucket(ref).set(keyOf(ref.namespace, obj.metadata.name!), structuredClone(obj));
    return structuredClone(obj) as T;
  }

  async updateStatus<T = KubeObject>(ref: ResourceRef, obj: KubeObject): Promise<T> {
    this.actions.push({ verb: 'update', resource: resourceOf(ref), namespace: ref.namespace, name: obj.metadata.name!, subresource: 'status', body: structuredClone(obj) });
    this.fail('update');
    return structuredClone(obj) as T;
  }

  async patch<T = KubeObject>(ref: ResourceRef, name: string, patch: unknown, opts: { subresource?: 'status'; patchType?: 'merge' | 'strategic' | 'json' } = {}): Promise<T> {
    this.actions.push({ verb: 'patch', resource: resourceOf(ref), namespace: ref.namespace, name, subresource: opts.subresource, body: structuredClone(patch), options: opts.patchType ? { patchType: opts.patchType } : undefined });
    this.fail('patch');
    const m = this.bucket(ref);
    const cur = m.get(keyOf(ref.namespace, name));
    if (!cur) throw new TugError('not-found', `${ref.resource} "${name}" not found`);
    const next = applyMergePatch(cur, patch) as KubeObject;
    m.set(keyOf(ref.namespace, name), next);
    return structuredClone(next) as T;
  }

  async delete(ref: ResourceRef, name: string, opts: { gracePeriodSeconds?: number; uid?: string; propagationPolicy?: string } = {}): Promise<void> {
    this.actions.push({ verb: 'delete', resource: resourceOf(ref), namespace: ref.namespace, name, options: { ...opts } });
    this.fail('delete');
    const m = this.bucket(ref);
    const cur = m.get(keyOf(ref.namespace, name));
    if (!cur) throw new TugError('not-found', `${ref.resource} "${name}" not found`);
    if (opts.uid && cur.metadata.uid !== opts.uid) throw new TugError('conflict', `Precondition failed: UID in precondition: ${opts.uid}, UID in object meta: ${cur.metadata.uid}`);
    m.delete(keyOf(ref.namespace, name));
  }

  /** A watch that never reports anything: the informers hold what they listed. */
  async *watch<T = KubeObject>(_ref: ResourceRef, opts: ListOptions & { signal?: AbortSignal } = {}): AsyncGenerator<WatchEvent<T>> {
    if (opts.signal?.aborted) return;
    await new Promise<void>((resolve) => opts.signal?.addEventListener('abort', () => resolve(), { once: true }));
  }
}
