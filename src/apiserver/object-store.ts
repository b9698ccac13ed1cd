// The generic REST machinery, without HTTP: create/get/list/update/patch/
// delete/watch for any ResourceType, on top of the revisioned key/value Store.
// Everything type-specific comes from the descriptor (defaults, validation,
// schema, status/scale subresources); HTTP handlers only parse and render.
import { randomUUID, randomBytes } from 'node:crypto';
import { TugError, isKind } from '../errdefs.js';
import type { Store, WatchEvent, KeyValue } from './storage/store.js';
import { TypeRegistry } from '../kube/api/registry.js';
import { apiVersionOf, type FieldError, type KObject, type ResourceType, type TypeHooks } from '../kube/api/resource-type.js';
import { checkFields } from '../kube/api/schema.js';
import { checkDns1123Subdomain, checkDns1123Label, checkLabels, selectorString } from '../kube/api/meta.js';
import { SharedWatchReads } from './shared-watch-reads.js';
import { decode, encode, withTypeMeta, encodeContinue, decodeContinue } from './object-codec.js';
import { labelPredicate, fieldPredicate, both, type Predicate } from '../kube/api/selectors.js';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from './patch.js';
import { recordUpdate, serverSideApply } from './managed-fields.js';
import { notFoundError, alreadyExistsError, conflictError, invalidError, badRequest } from './status.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';
/** approval: a CertificateSigningRequest's status.conditions alone (kubectl certificate approve|deny). */
export type Subresource = 'status' | 'scale' | 'approval' | undefined;

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  fieldValidation?: FieldValidation;
  subresource?: Subresource;
  /** A per-request check of the object as it would be stored (cur undefined on create), after validation; it throws to refuse (NodeRestriction). */
  admit?: (cur: KObject | undefined, next: KObject) => void;
}

export interface PatchOptions extends WriteOptions {
  force?: boolean;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export interface WriteResult {
  object: KObject;
  warnings: string[];
}

export interface ListResult {
  items: KObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export interface WatchOptions extends ListOptions {
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  sendInitialEvents?: boolean;
  /**
   * The consumer never changes the objects it is sent (it only serializes them):
   * watchers that say so share one decoded object per write (shared-watch-reads.ts).
   */
  readOnly?: boolean;
}

export type ApiWatchEvent = { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'; object: KObject };

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const clone = <T>(v: T): T => structuredClone(v);
const specOf = (o: KObject) => {
  const { metadata: _m, status: _s, ...rest } = o;
  return JSON.stringify(rest);
};

/** Namespaces the system needs; Kubernetes refuses to delete them. */
const protectedNamespaces = new Set(['default', 'kube-system', 'kube-public']);

/** Kinds whose names must be DNS-1123 labels rather than subdomains. */
const labelNamed = new Set(['Namespace', 'Service']);
/** RBAC objects only need a valid path segment (system:discovery is a legal name). */
const pathSegmentNamed = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);

function checkName(kind: string, name: string): FieldError[] {
  if (pathSegmentNamed.has(kind)) {
    return name === '.' || name === '..' || /[/%]/.test(name) ? [{ field: 'metadata.name', type: 'FieldValueInvalid', message: `Invalid value: "${name}": may not contain '/' or '%'` }] : [];
  }
  return labelNamed.has(kind) ? checkDns1123Label(name, 'metadata.name') : checkDns1123Subdomain(name, 'metadata.name');
}

export class ObjectStore {
  private readonly hooks = new Map<string, TypeHooks>();
  private readonly sharedReads = new SharedWatchReads();
  private readonly admission: { admit: (t: ResourceType, o: KObject, prefetched: unknown) => Promise<void>; prefetch?: (t: ResourceType, o: KObject) => Promise<unknown> }[] = [];

  constructor(
    readonly store: Store,
    readonly registry: TypeRegistry,
  ) {}

  /** Per-server hooks (IP allocation needs this server's store), keyed by kind. */
  registerHooks(kind: string, h: TypeHooks): void {
    this.hooks.set(kind, h);
  }

  /**
   * Admission checks run on every create after validation (quota). `prefetch`
   * does the check's reads; it starts together with create's own reads (the
   * namespace and AlreadyExists checks), because on etcd every read is a round
   * trip. It must not change `o`; what it returns is handed to `admit`.
   */
  registerAdmission<P>(admit: (t: ResourceType, o: KObject, prefetched: P) => Promise<void>, prefetch?: (t: ResourceType, o: KObject) => Promise<P>): void {
    this.admission.push({ admit: admit as (t: ResourceType, o: KObject, prefetched: unknown) => Promise<void>, prefetch });
  }

  /** Stored form -> the object as type `t` shows it (version conversion for multi-version kinds). */
  private read(t: ResourceType, kv: KeyValue): KObject {
    const o = decode(kv);
    return withTypeMeta(t, t.fromStorage ? t.fromStorage(o) : o);
  }

  private write(t: ResourceType, o: KObject): string {
    return encode(t.toStorage ? t.toStorage(o) : o);
  }

  async get(t: ResourceType, ns: string | undefined, name: string): Promise<KObject> {
    const kv = await this.store.get(TypeRegistry.key(t, ns, name));
    if (!kv) throw notFoundError(t, name);
    return this.read(t, kv);
  }

  async getOrNull(t: ResourceType, ns: string | undefined, name: string): Promise<KObject | null> {
    const kv = await this.store.get(TypeRegistry.key(t, ns, name));
    return kv ? this.read(t, kv) : null;
  }

  async list(t: ResourceType, ns: string | undefined, opts: ListOptions = {}): Promise<ListResult> {
    const pred = both(labelPredicate(opts.labelSelector), fieldPredicate(t, opts.fieldSelector));
    const prefix = TypeRegistry.keyPrefix(t, ns);
    let startAfter: string | undefined;
    let revision: number | undefined;
    if (opts.continue) {
      const c = decodeContinue(opts.continue);
      if (!c) throw badRequest('continue key is not valid');
      startAfter = c.start;
      revision = c.rv;
    }
    const limit = opts.limit && opts.limit > 0 ? opts.limit : undefined;
    const items: KObject[] = [];
    let lastKey = '';
    for (;;) {
      let page;
      try {
        page = await this.store.list(prefix, { limit: limit ? Math.max(limit - items.length, 1) : undefined, startAfter, revision });
      } catch (err) {
        if (isKind(err, 'gone')) {
          throw new TugError('gone', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.', { reason: 'Expired' });
        }
        throw err;
      }
      revision = page.revision;
      for (const kv of page.items) {
        lastKey = kv.key;
        const o = this.read(t, kv);
        if (!pred || pred(o)) items.push(o);
      }
      if (!page.more) return { items, resourceVersion: String(revision) };
      if (limit && items.length >= limit) {
        return { items, resourceVersion: String(revision), continue: encodeContinue(revision, lastKey), remainingItemCount: pred ? undefined : page.remaining };
      }
      startAfter = lastKey;
    }
  }

  // ---- create ----

  async create(t: ResourceType, ns: string | undefined, body: unknown, opts: WriteOptions = {}): Promise<WriteResult> {
    const warnings: string[] = [];
    const o = this.decodeBody(t, body, opts.fieldValidation, warnings);
    const meta = (o.metadata ??= {});
    if (meta.resourceVersion) throw badRequest('resourceVersion should not be set on objects to be created');
    if (t.namespaced) {
      if (meta.namespace && ns && meta.namespace !== ns) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      meta.namespace = ns ?? meta.namespace ?? 'default';
    } else delete meta.namespace;
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomBytes(3).toString('hex').slice(0, 5)}`;
    meta.uid = randomUUID();
    meta.creationTimestamp = now();
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.resourceVersion;
    if (t.hasSpec) meta.generation = 1;
    else delete meta.generation;
    if (t.status && t.kind !== 'Namespace' && t.kind !== 'Node' && t.kind !== 'PersistentVolume' && t.kind !== 'PersistentVolumeClaim') o.status = {};
    t.defaults?.(o);
    // The namespace check, the AlreadyExists check and admission's reads are
    // independent: on etcd each is a round trip, so they go out together. The
    // namespace error still wins, and AlreadyExists is reported before
    // allocation hooks can complain about the existing object's IPs/ports.
    // A prefetch's failure is reported only if its admission runs.
    const prefetched = this.admission.map((a) => (a.prefetch ? a.prefetch(t, o).then((value) => ({ value }), (error: unknown) => ({ error })) : undefined));
    const [, existing] = await Promise.all([
      t.namespaced ? this.checkNamespaceWritable(meta.namespace!) : undefined,
      meta.name ? this.store.get(TypeRegistry.key(t, meta.namespace, meta.name)) : null,
    ]);
    if (existing) throw alreadyExistsError(t, meta.name!);
    await this.hooks.get(t.kind)?.beforeCreate?.(o);
    this.validate(t, o, undefined);
    for (let i = 0; i < this.admission.length; i++) {
      const read = await prefetched[i];
      if (read && 'error' in read) throw read.error;
      await this.admission[i].admit(t, o, read?.value);
    }
    opts.admit?.(undefined, o);
    if (opts.fieldManager !== undefined || !meta.managedFields) recordUpdate(undefined, o, opts.fieldManager ?? 'unknown', apiVersionOf(t), t.schema);
    if (opts.dryRun) return { object: o, warnings };
    let kv: KeyValue;
    try {
      kv = await this.store.create(TypeRegistry.key(t, meta.namespace, meta.name!), this.write(t, o));
    } catch (err) {
      if (isKind(err, 'already-exists')) throw alreadyExistsError(t, meta.name!);
      throw err;
    }
    const out = this.read(t, kv);
    return { object: out, warnings };
  }

  private async checkNamespaceWritable(ns: string): Promise<void> {
    const nsType = this.registry.lookup('', 'v1', 'namespaces')!;
    const n = await this.getOrNull(nsType, undefined, ns);
    if (!n) throw notFoundError(nsType, ns);
    if (n.metadata?.deletionTimestamp) {
      throw new TugError('forbidden', `unable to create new content in namespace ${ns} because it is being terminated`, { reason: 'Forbidden' });
    }
  }

  /** Strict/Warn/Ignore decoding against the type's schema, and the apiVersion/kind check. */
  private decodeBody(t: ResourceType, body: unknown, fv: FieldValidation | undefined, warnings: string[]): KObject {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the request body must be a JSON or YAML object');
    const o = clone(body) as KObject;
    const av = apiVersionOf(t);
    if ((o.apiVersion !== undefined && o.apiVersion !== av) || (o.kind !== undefined && o.kind !== t.kind)) {
      throw badRequest(`the API version in the data (${String(o.apiVersion)}) does not match the expected API version (${av})`);
    }
    const { unknown, typeErrors } = checkFields(o, t.schema);
    const prefix = `${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}`;
    if (typeErrors.length) {
      const e = typeErrors[0];
      throw badRequest(`${prefix}: json: cannot unmarshal into field ${e.path}: ${e.message}`);
    }
    if (unknown.length) {
      const list = unknown.map((u) => `unknown field "${u}"`);
      if (fv === 'Strict') throw badRequest(`${prefix}: strict decoding error: ${list.join(', ')}`);
      if (fv !== 'Ignore') warnings.push(...list);
    }
    o.apiVersion = av;
    o.kind = t.kind;
    return o;
  }

  private validate(t: ResourceType, o: KObject, old: KObject | undefined): void {
    const meta = o.metadata ?? {};
    const errs: FieldError[] = [];
    if (!meta.name) errs.push({ field: 'metadata.name', type: 'FieldValueRequired', message: 'Required value: name or generateName is required' });
    else errs.push(...checkName(t.kind, meta.name));
    errs.push(...checkLabels(meta.labels, 'metadata.labels'));
    if (old) {
      for (const f of ['uid', 'creationTimestamp'] as const) {
        if (meta[f] !== old.metadata?.[f]) errs.push({ field: `metadata.${f}`, type: 'FieldValueInvalid', message: 'Invalid value: field is immutable' });
      }
      if (t.kind === 'Service' && old.spec?.clusterIP && o.spec?.clusterIP !== old.spec.clusterIP) {
        errs.push({ field: 'spec.clusterIP', type: 'FieldValueInvalid', message: `Invalid value: "${String(o.spec?.clusterIP)}": field is immutable` });
      }
    }
    errs.push(...(t.validate?.(o, old) ?? []));
    if (errs.length) throw invalidError(t, meta.name ?? meta.generateName ?? '', errs);
  }

  // ---- update / patch ----

  /** PUT: a full object; stale metadata.resourceVersion -> 409. */
  async update(t: ResourceType, ns: string | undefined, name: string, body: unknown, opts: WriteOptions = {}): Promise<WriteResult> {
    const warnings: string[] = [];
    const incoming = this.decodeBody(t, body, opts.fieldValidation, warnings);
    if (incoming.metadata?.name && incoming.metadata.name !== name) throw badRequest(`the name of the object (${incoming.metadata.name}) does not match the name on the URL (${name})`);
    const wantRv = incoming.metadata?.resourceVersion;
    const res = await this.mutate(t, ns, name, opts, warnings, (cur) => {
      if (wantRv && wantRv !== cur.metadata?.resourceVersion) throw conflictError(t, name);
      return incoming;
    });
    return res;
  }

  async patch(t: ResourceType, ns: string | undefined, name: string, type: PatchType, patch: unknown, opts: PatchOptions = {}): Promise<WriteResult> {
    const warnings: string[] = [];
    if (type === 'apply') {
      if (!opts.fieldManager) throw badRequest('PATCH, application/apply-patch+yaml requires fieldManager to be set');
      const applied = this.decodeBody(t, patch, opts.fieldValidation ?? 'Strict', warnings);
      const existing = await this.getOrNull(t, ns, name);
      if (!existing) {
        if (opts.subresource) throw notFoundError(t, name);
        const created = serverSideApply(undefined, applied, opts.fieldManager, apiVersionOf(t), t.schema, true);
        created.metadata = { ...created.metadata, name };
        const res = await this.create(t, ns, created, { ...opts, fieldManager: undefined, fieldValidation: 'Ignore' });
        return { object: res.object, warnings };
      }
    }
    return this.mutate(t, ns, name, opts, warnings, (cur) => {
      const base = opts.subresource === 'scale' ? this.toScale(t, cur) : cur;
      let next: KObject;
      switch (type) {
        case 'json':
          next = applyJsonPatch(base, patch) as KObject;
          break;
        case 'merge':
          next = applyMergePatch(base, patch) as KObject;
          break;
        case 'strategic':
          // base is mutate's own decode (or toScale's new object): patched in place, not copied again.
          next = applyStrategicMergePatch(base, patch, opts.subresource === 'scale' ? undefined : t.schema, true) as KObject;
          break;
        case 'apply':
          next = serverSideApply(cur, this.decodeBody(t, patch, 'Ignore', []), opts.fieldManager!, apiVersionOf(t), t.schema, !!opts.force);
          break;
      }
      if (opts.subresource === 'scale') return this.fromScale(t, cur, next);
      const wantRv = (patch as KObject)?.metadata?.resourceVersion;
      if (typeof wantRv === 'string' && type !== 'apply' && wantRv !== cur.metadata?.resourceVersion) throw conflictError(t, name);
      if (type !== 'apply') {
        const { unknown } = checkFields(next, t.schema);
        if (unknown.length && opts.fieldValidation === 'Strict') {
          throw badRequest(`${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: strict decoding error: ${unknown.map((u) => `unknown field "${u}"`).join(', ')}`);
        }
        for (const u of unknown) warnings.push(`unknown field "${u}"`);
      }
      return next;
    }, type === 'apply');
  }

  /**
   * pods/binding: sets spec.nodeName once. One read-modify-write (the check
   * runs on the object being replaced, again on every retry), where a get and
   * then a patch read the pod twice on the scheduler's hottest path.
   */
  async bindPod(t: ResourceType, ns: string | undefined, name: string, nodeName: string, opts: WriteOptions = {}): Promise<WriteResult> {
    return this.mutate(t, ns, name, opts, [], (cur) => {
      if (cur.spec?.nodeName) throw new TugError('conflict', `pod ${name} is already assigned to node "${cur.spec.nodeName}"`);
      cur.spec = { ...cur.spec, nodeName };
      return cur;
    });
  }

  /** GET/PUT on the scale subresource (autoscaling/v1 Scale). */
  async getScale(t: ResourceType, ns: string | undefined, name: string): Promise<KObject> {
    return this.toScale(t, await this.get(t, ns, name));
  }

  async updateScale(t: ResourceType, ns: string | undefined, name: string, body: any, opts: WriteOptions = {}): Promise<WriteResult> {
    if (typeof body?.spec?.replicas !== 'number') throw invalidError(t, name, [{ field: 'spec.replicas', type: 'FieldValueRequired', message: 'Required value' }]);
    const res = await this.mutate(t, ns, name, { ...opts, subresource: 'scale' }, [], (cur) => {
      if (body.metadata?.resourceVersion && body.metadata.resourceVersion !== cur.metadata?.resourceVersion) throw conflictError(t, name);
      return this.fromScale(t, cur, body);
    });
    return { object: this.toScale(t, res.object), warnings: [] };
  }

  toScale(t: ResourceType, o: KObject): KObject {
    const sc = t.scale!;
    const m = o.metadata ?? {};
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
      spec: { replicas: getPath(o, sc.specReplicasPath) ?? 0 },
      status: { replicas: getPath(o, sc.statusReplicasPath) ?? 0, selector: scaleSelector(sc.selectorPath ? getPath(o, sc.selectorPath) : undefined) },
    };
  }

  private fromScale(t: ResourceType, cur: KObject, scale: KObject): KObject {
    const r = scale?.spec?.replicas;
    if (typeof r !== 'number' || !Number.isInteger(r) || r < 0) {
      throw invalidError(t, cur.metadata?.name ?? '', [{ field: 'spec.replicas', type: 'FieldValueInvalid', message: `Invalid value: ${String(r)}: must be greater than or equal to 0` }]);
    }
    const next = clone(cur);
    setPath(next, t.scale!.specReplicasPath, r);
    return next;
  }

  /**
   * The read-modify-write loop behind update, patch, status and scale. Retries
   * on a concurrent write unless the caller pinned a resourceVersion (then 409).
   */
  private async mutate(t: ResourceType, ns: string | undefined, name: string, opts: WriteOptions, warnings: string[], fn: (cur: KObject) => KObject, isApply = false): Promise<WriteResult> {
    for (let attempt = 0; ; attempt++) {
      const key = TypeRegistry.key(t, ns, name);
      const kv = await this.store.get(key);
      if (!kv) throw notFoundError(t, name);
      const cur = this.read(t, kv);
      // A second decode is a deep copy for fn to change, and cheaper than structuredClone.
      const proposed = fn(this.read(t, kv));
      const next = await this.prepareUpdate(t, cur, proposed, opts, () => this.read(t, kv));
      opts.admit?.(cur, next);
      if (!isApply) recordUpdate(cur, next, opts.fieldManager ?? 'unknown', apiVersionOf(t), t.schema, opts.subresource === 'scale' ? 'scale' : opts.subresource);
      // A no-op write keeps the resourceVersion, as Kubernetes does.
      const text = this.write(t, next);
      if (text === this.write(t, cur)) return { object: cur, warnings };
      if (opts.dryRun) return { object: next, warnings };
      const finalizing = next.metadata?.deletionTimestamp && !(next.metadata.finalizers?.length) && !(t.kind === 'Namespace' && next.spec?.finalizers?.length);
      try {
        if (finalizing && !(t.kind === 'Pod' && this.isGracefulPod(next))) {
          const del = await this.store.delete(key, kv.modRevision);
          const gone = this.read(t, { ...del, value: text });
          await this.hooks.get(t.kind)?.afterDelete?.(gone);
          return { object: gone, warnings };
        }
        const saved = await this.store.update(key, text, kv.modRevision);
        const out = this.read(t, saved);
        return { object: out, warnings };
      } catch (err) {
        if (isKind(err, 'conflict') && attempt < 20) continue;
        if (isKind(err, 'not-found')) throw notFoundError(t, name);
        throw err;
      }
    }
  }

  /** Carries server-owned state over from the stored object and re-validates. */
  /** copyOfCur: a deep copy of cur to build on (a decode of the stored value is cheaper than structuredClone). */
  private async prepareUpdate(t: ResourceType, cur: KObject, proposed: KObject, opts: WriteOptions, copyOfCur: () => KObject = () => clone(cur)): Promise<KObject> {
    let next: KObject;
    if (opts.subresource === 'status') {
      next = copyOfCur();
      next.status = proposed.status;
    } else if (opts.subresource === 'approval') {
      next = copyOfCur();
      next.status = { ...(cur.status ?? {}), conditions: proposed.status?.conditions };
      if (next.status.conditions === undefined) delete next.status.conditions;
    } else {
      next = proposed;
      next.apiVersion = apiVersionOf(t);
      next.kind = t.kind;
      if (t.status) next.status = cur.status;
    }
    const m = (next.metadata ??= {});
    const cm = cur.metadata ?? {};
    m.name = cm.name;
    if (t.namespaced) m.namespace = cm.namespace;
    m.uid ??= cm.uid;
    // Kubernetes ignores a client's creationTimestamp on update and patch (rest.BeforeUpdate), whatever format it was sent in.
    m.creationTimestamp = cm.creationTimestamp;
    m.deletionTimestamp = cm.deletionTimestamp;
    m.deletionGracePeriodSeconds = cm.deletionGracePeriodSeconds;
    if (m.deletionTimestamp === undefined) delete m.deletionTimestamp;
    if (m.deletionGracePeriodSeconds === undefined) delete m.deletionGracePeriodSeconds;
    m.resourceVersion = cm.resourceVersion;
    if (!m.managedFields) m.managedFields = cm.managedFields;
    if (cm.deletionTimestamp) {
      // Once deleting, finalizers may only shrink.
      const allowed = new Set(cm.finalizers ?? []);
      m.finalizers = (m.finalizers ?? []).filter((f) => allowed.has(f));
      if (!m.finalizers.length) delete m.finalizers;
    }
    t.defaults?.(next);
    if (t.hasSpec) m.generation = specOf(next) !== specOf(cur) ? (cm.generation ?? 1) + 1 : (cm.generation ?? 1);
    else delete m.generation;
    await this.hooks.get(t.kind)?.beforeUpdate?.(next, cur);
    this.validate(t, next, cur);
    return next;
  }

  private isGracefulPod(p: KObject): boolean {
    return !!p.spec?.nodeName && (p.metadata?.deletionGracePeriodSeconds ?? 0) > 0 && !['Succeeded', 'Failed'].includes(p.status?.phase);
  }

  // ---- delete ----

  async delete(t: ResourceType, ns: string | undefined, name: string, opts: DeleteOptions = {}): Promise<{ object: KObject; deleted: boolean }> {
    if (t.kind === 'Namespace' && protectedNamespaces.has(name)) {
      throw new TugError('forbidden', `namespaces "${name}" is forbidden: this namespace may not be deleted`);
    }
    for (let attempt = 0; ; attempt++) {
      const key = TypeRegistry.key(t, ns, name);
      const kv = await this.store.get(key);
      if (!kv) throw notFoundError(t, name);
      const cur = this.read(t, kv);
      const pre = opts.preconditions ?? {};
      if (pre.uid && pre.uid !== cur.metadata?.uid) {
        throw new TugError('conflict', `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${cur.metadata?.uid}`, { details: { name } });
      }
      if (pre.resourceVersion && pre.resourceVersion !== cur.metadata?.resourceVersion) {
        throw new TugError('conflict', `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${cur.metadata?.resourceVersion}`, { details: { name } });
      }
      const next = clone(cur);
      const m = next.metadata!;
      const finalizers = new Set(m.finalizers ?? []);
      if (opts.propagationPolicy === 'Orphan') finalizers.add('orphan');
      if (opts.propagationPolicy === 'Foreground') finalizers.add('foregroundDeletion');
      const grace = t.kind === 'Pod' ? await this.podGrace(cur, opts.gracePeriodSeconds) : 0;
      const nsFinalizing = t.kind === 'Namespace';
      if (nsFinalizing) {
        next.status = { ...(next.status ?? {}), phase: 'Terminating' };
      }
      const mustWait = finalizers.size > 0 || grace > 0 || (nsFinalizing && (next.spec?.finalizers?.length ?? 0) > 0);
      if (mustWait) {
        if (m.deletionTimestamp && grace >= (m.deletionGracePeriodSeconds ?? 0) && finalizers.size === (m.finalizers?.length ?? 0)) {
          return { object: cur, deleted: false };
        }
        m.deletionTimestamp ??= new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
        m.deletionGracePeriodSeconds = grace;
        m.finalizers = [...finalizers];
        if (!m.finalizers.length) delete m.finalizers;
        if (opts.dryRun) return { object: next, deleted: false };
        try {
          const saved = await this.store.update(key, this.write(t, next), kv.modRevision);
          const out = this.read(t, saved);
          return { object: out, deleted: false };
        } catch (err) {
          if (isKind(err, 'conflict') && attempt < 20) continue;
          throw err;
        }
      }
      if (opts.dryRun) return { object: cur, deleted: true };
      try {
        const del = await this.store.delete(key, kv.modRevision);
        const out = this.read(t, { ...del, value: kv.value });
        await this.hooks.get(t.kind)?.afterDelete?.(out);
        return { object: out, deleted: true };
      } catch (err) {
        if (isKind(err, 'conflict') && attempt < 20) continue;
        if (isKind(err, 'not-found')) throw notFoundError(t, name);
        throw err;
      }
    }
  }

  /** Pods bound to a node get a grace period for the node agent to stop them; unbound pods go at once. */
  private async podGrace(p: KObject, requested: number | undefined): Promise<number> {
    if (!p.spec?.nodeName || ['Succeeded', 'Failed'].includes(p.status?.phase)) return 0;
    // No such node means no agent will ever finish the deletion.
    const nodeType = this.registry.lookup('', 'v1', 'nodes')!;
    if (!(await this.getOrNull(nodeType, undefined, p.spec.nodeName))) return 0;
    const g = requested ?? p.spec?.terminationGracePeriodSeconds ?? 30;
    return Math.max(0, g);
  }

  async deleteCollection(t: ResourceType, ns: string | undefined, list: ListOptions, opts: DeleteOptions): Promise<KObject[]> {
    const { items } = await this.list(t, ns, { labelSelector: list.labelSelector, fieldSelector: list.fieldSelector });
    const out: KObject[] = [];
    for (const o of items) {
      try {
        out.push((await this.delete(t, o.metadata?.namespace, o.metadata!.name!, opts)).object);
      } catch (err) {
        if (!isKind(err, 'not-found')) throw err;
      }
    }
    return out;
  }

  // ---- watch ----

  /**
   * Streams events as Kubernetes watch events. Without a resourceVersion (or
   * "0") the current objects come first as ADDED, as the real server does.
   */
  async watch(t: ResourceType, ns: string | undefined, opts: WatchOptions, send: (e: ApiWatchEvent) => void, end: (err?: Error) => void): Promise<() => void> {
    const pred: Predicate | undefined = both(labelPredicate(opts.labelSelector), fieldPredicate(t, opts.fieldSelector));
    const prefix = TypeRegistry.keyPrefix(t, ns);
    let from: number;
    const rv = opts.resourceVersion;
    if (!rv || rv === '0' || opts.sendInitialEvents) {
      const initial = await this.list(t, ns, { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector });
      for (const o of initial.items) send({ type: 'ADDED', object: o });
      from = Number(initial.resourceVersion);
      if (opts.sendInitialEvents && opts.allowWatchBookmarks) {
        send({ type: 'BOOKMARK', object: bookmark(t, from, true) });
      }
    } else {
      from = Number(rv);
      if (!Number.isInteger(from) || from < 0) throw badRequest(`invalid resource version "${rv}"`);
    }
    const matches = (o: KObject | undefined) => !!o && (!pred || pred(o));
    // Events arrive in revision order; anything at or below what was already sent is a repeat.
    let sent = from;
    const decodeOne = (tt: ResourceType, kv: KeyValue) => this.read(tt, kv);
    const read = opts.readOnly ? (kv: KeyValue) => this.sharedReads.get(t, kv, decodeOne) : (kv: KeyValue) => this.read(t, kv);
    const onEvent = (e: WatchEvent) => {
      if (e.type !== 'BOOKMARK') {
        // The write's own revision (kv.modRevision) identifies it, whichever delivery path reported it.
        const rev = e.kv.modRevision;
        if (!(rev > sent)) return;
        sent = rev;
      }
      if (e.type === 'BOOKMARK') {
        if (opts.allowWatchBookmarks) send({ type: 'BOOKMARK', object: bookmark(t, e.revision) });
        return;
      }
      const o = read(e.kv);
      if (e.type === 'DELETE') {
        if (matches(o)) send({ type: 'DELETED', object: o });
        return;
      }
      // Without a selector every object matches, and the previous value cannot change the event type: skip decoding it.
      const prev = e.prevKv && pred ? read(e.prevKv) : undefined;
      const nowMatch = matches(o);
      const wasMatch = prev ? matches(prev) : false;
      if (nowMatch && e.kv.createRevision === e.kv.modRevision) send({ type: 'ADDED', object: o });
      else if (nowMatch && !prev) send({ type: 'MODIFIED', object: o });
      else if (nowMatch && wasMatch) send({ type: 'MODIFIED', object: o });
      else if (nowMatch && !wasMatch) send({ type: pred ? 'ADDED' : 'MODIFIED', object: o });
      else if (!nowMatch && wasMatch) send({ type: 'DELETED', object: o });
    };
    return this.store.watch(prefix, from, onEvent, (err) => {
      if (isKind(err, 'gone')) {
        send({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${from} (${String((err as TugError).detail?.compactRevision ?? '')})`, reason: 'Expired', code: 410 } });
      }
      end(err);
    });
  }
}

function bookmark(t: ResourceType, rev: number, initialEventsEnd = false): KObject {
  const meta: Record<string, unknown> = { resourceVersion: String(rev) };
  if (initialEventsEnd) meta.annotations = { 'k8s.io/initial-events-end': 'true' };
  return { kind: t.kind, apiVersion: apiVersionOf(t), metadata: meta };
}

/** Built-ins keep a LabelSelector object; custom resources point at a selector string. */
function scaleSelector(sel: unknown): string {
  if (sel === undefined || sel === null) return '';
  if (typeof sel === 'string') return sel;
  return selectorString(sel).replace('<none>', '');
}

export function getPath(o: any, path: string): any {
  return path.split('.').reduce((cur, k) => (cur === undefined || cur === null ? undefined : cur[k]), o);
}

function setPath(o: any, path: string, v: unknown): void {
  const parts = path.split('.');
  let cur = o;
  for (const k of parts.slice(0, -1)) cur = cur[k] ??= {};
  cur[parts[parts.length - 1]] = v;
}
