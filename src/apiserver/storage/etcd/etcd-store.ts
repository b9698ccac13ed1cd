// The HA backend: the Store contract on etcd v3, spoken through etcd's JSON
// gateway (see etcd-gateway.ts for why). The mapping is direct, as in
// kube-apiserver's etcd3 storage: store revision = etcd revision, optimistic
// writes are Txns comparing create_revision/mod_revision, watch is etcd Watch
// with start_revision and prev_kv, compaction is etcd Compact.
//
// Bookmarks: a watcher reports the highest revision it has delivered (or, for a
// watch "from now", the revision it started at), plus any progress notification
// etcd sends. It never reports etcd's current revision from a separate read,
// because the stream may not have delivered everything up to that yet.
import { alreadyExists, conflict, invalid, notFound, unavailable, TugError } from '../../../errdefs.js';
import { AutoCompactor, type AutoCompactOptions } from '../auto-compactor.js';
import { prefixEnd } from '../key-range.js';
import { gone, type KeyValue, type ListOptions, type ListResult, type Store, type WatchEvent } from '../store.js';
import { WatchChannel } from '../watch-channel.js';
import { EtcdError, EtcdGateway, b64, num, unb64, type EtcdKv, type RangeResponse, type TxnResponse, type WatchResponse } from './etcd-gateway.js';

export interface EtcdStoreOptions {
  endpoints: string[];
  /** Prepended to every key in etcd (like kube-apiserver's --etcd-prefix), so several clusters can share one etcd. */
  prefix?: string;
  autoCompact?: AutoCompactOptions | false;
}

export async function openEtcdStore(opts: EtcdStoreOptions): Promise<Store> {
  if (!opts.endpoints || opts.endpoints.length === 0) throw invalid('etcd store: at least one endpoint is required');
  const store = new EtcdStore(opts);
  // Fail at open, not at first request, when no endpoint answers.
  try {
    await store.currentRevision();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

class EtcdStore implements Store {
  private readonly gw: EtcdGateway;
  private readonly prefix: string;
  private readonly watchers = new Set<WatchChannel>();
  private readonly compactor: AutoCompactor | null;
  private closed = false;
  /** The newest etcd revision seen in any response (the start of a watch "from now"). */
  private lastSeenRevision = 0;

  constructor(opts: EtcdStoreOptions) {
    this.gw = new EtcdGateway(opts.endpoints);
    this.prefix = opts.prefix ?? '';
    this.compactor = opts.autoCompact === false ? null : new AutoCompactor(() => this.currentRevision(), (r) => this.compact(r), opts.autoCompact);
  }

  async get(key: string): Promise<KeyValue | null> {
    const res = await this.rpc<RangeResponse>('/v3/kv/range', { key: b64(this.prefix + key) });
    return res.kvs?.length ? this.toKv(res.kvs[0]) : null;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    const [start, end] = this.range(prefix);
    let from = start;
    // key > startAfter  ⇔  key >= startAfter + "\0"
    if (opts.startAfter !== undefined && this.prefix + opts.startAfter + '\0' > from) from = this.prefix + opts.startAfter + '\0';
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    const req: Record<string, unknown> = { key: b64(from), range_end: b64(end) };
    if (limit > 0) req.limit = String(limit);
    if (opts.revision) req.revision = String(opts.revision);
    const res = await this.rpc<RangeResponse>('/v3/kv/range', req, `list at revision ${opts.revision ?? 'latest'}`);
    const items = (res.kvs ?? []).map((kv) => this.toKv(kv));
    const revision = opts.revision || num(res.header.revision);
    const more = !!res.more;
    // etcd's count is every key in [from, end), not just the returned page.
    return more ? { items, revision, more, remaining: num(res.count) - items.length } : { items, revision, more };
  }

  async count(prefix: string): Promise<number> {
    const [start, end] = this.range(prefix);
    const res = await this.rpc<RangeResponse>('/v3/kv/range', { key: b64(start), range_end: b64(end), count_only: true });
    return num(res.count);
  }

  async create(key: string, value: string): Promise<KeyValue> {
    this.checkKey(key);
    const k = b64(this.prefix + key);
    const res = await this.rpc<TxnResponse>('/v3/kv/txn', {
      compare: [{ target: 'CREATE', key: k, result: 'EQUAL', create_revision: '0' }],
      success: [{ request_put: { key: k, value: b64(value) } }],
    });
    if (!res.succeeded) throw alreadyExists(`key ${key} already exists`);
    const rev = num(res.header.revision);
    return { key, value, createRevision: rev, modRevision: rev };
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    this.checkKey(key);
    const k = b64(this.prefix + key);
    const res = await this.rpc<TxnResponse>('/v3/kv/txn', {
      compare: [
        // An absent key has mod_revision 0: also require that it exists, so update never creates.
        { target: 'VERSION', key: k, result: 'GREATER', version: '0' },
        { target: 'MOD', key: k, result: 'EQUAL', mod_revision: String(expectedModRevision) },
      ],
      success: [{ request_put: { key: k, value: b64(value), prev_kv: true } }],
      failure: [{ request_range: { key: k } }],
    });
    if (!res.succeeded) throw this.writeFailure(key, res, expectedModRevision);
    const prev = res.responses?.[0]?.response_put?.prev_kv;
    const rev = num(res.header.revision);
    return { key, value, createRevision: prev ? num(prev.create_revision) : rev, modRevision: rev };
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    this.checkKey(key);
    const k = b64(this.prefix + key);
    const compare = expectedModRevision === undefined ? [] : [{ target: 'MOD', key: k, result: 'EQUAL', mod_revision: String(expectedModRevision) }];
    const res = await this.rpc<TxnResponse>('/v3/kv/txn', {
      compare,
      success: [{ request_delete_range: { key: k, prev_kv: true } }],
      failure: [{ request_range: { key: k } }],
    });
    if (!res.succeeded) throw this.writeFailure(key, res, expectedModRevision);
    const prev = res.responses?.[0]?.response_delete_range?.prev_kvs?.[0];
    if (!prev) throw notFound(`key ${key} not found`);
    return { ...this.toKv(prev), modRevision: num(res.header.revision) };
  }

  watch(prefix: string, fromRevision: number, onEvent: (e: WatchEvent) => void, onError: (err: Error) => void): () => void {
    if (this.closed) throw invalid('etcd store is closed');
    // "From now" must include every write this Store makes after watch() returns,
    // but etcd only registers the watch a round trip later. So "now" is the newest
    // revision this Store has seen in any response: all its completed writes are at
    // or below it, anything later is delivered.
    const from = fromRevision > 0 ? fromRevision : this.lastSeenRevision;
    let closeStream = (): void => {};
    const ch = new WatchChannel(prefix, from, onEvent, onError, (c) => {
      this.watchers.delete(c);
      closeStream();
    });
    this.watchers.add(ch);
    const [start, end] = this.range(prefix);
    const open = (startRevision: number): void => {
      const create: Record<string, unknown> = { key: b64(start), range_end: b64(end), prev_kv: true, progress_notify: true };
      if (startRevision > 0) create.start_revision = String(startRevision + 1);
      closeStream = this.gw.watch(
        create,
        (m) => {
          // A "from now" watch is never gone: if what this Store last saw was compacted meanwhile, start at etcd's now.
          if (fromRevision === 0 && startRevision > 0 && m.canceled && num(m.compact_revision) > 0) {
            closeStream();
            open(0);
            return;
          }
          this.onWatchMessage(ch, startRevision, m);
        },
        (err) => {
          if (err) ch.fail(this.mapError(err, 'watch'));
        },
      );
    };
    open(from);
    return () => ch.cancel();
  }

  async currentRevision(): Promise<number> {
    const res = await this.rpc<RangeResponse>('/v3/kv/range', { key: b64('\0'), count_only: true });
    return num(res.header.revision);
  }

  async compact(revision: number): Promise<void> {
    try {
      await this.gw.call('/v3/kv/compaction', { revision: String(revision) });
    } catch (err) {
      // Compacting to a revision already compacted is a no-op in this contract.
      if (err instanceof EtcdError && /required revision has been compacted/.test(err.message)) return;
      throw this.mapError(err, `compact to ${revision}`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.compactor?.stop();
    for (const ch of [...this.watchers]) ch.cancel();
    this.gw.close();
  }

  // ---- internals ----

  private onWatchMessage(ch: WatchChannel, fromRevision: number, m: WatchResponse): void {
    if (m.canceled) {
      const compacted = num(m.compact_revision);
      ch.fail(
        compacted > 0
          ? gone(`watch from revision ${fromRevision}: revisions up to ${compacted} have been compacted`, { compactRevision: compacted })
          : unavailable(`etcd canceled the watch: ${m.cancel_reason ?? 'no reason given'}`),
      );
      return;
    }
    if (m.created) {
      // A watch from now starts right after the revision etcd reports at creation.
      if (fromRevision === 0) ch.advance(num(m.header.revision));
      return;
    }
    if (!m.events?.length) {
      // Progress notification: everything up to header.revision has been sent.
      ch.advance(num(m.header.revision));
      return;
    }
    for (const e of m.events) {
      const rev = num(e.kv.mod_revision);
      if (e.type === 'DELETE') {
        const last = e.prev_kv ? this.toKv(e.prev_kv) : { key: this.unprefix(unb64(e.kv.key)), value: '', createRevision: 0, modRevision: rev };
        ch.push({ type: 'DELETE', kv: { ...last, modRevision: rev }, revision: rev });
      } else {
        const event: WatchEvent = { type: 'PUT', kv: this.toKv(e.kv), revision: rev };
        // etcd sends prev_kv for creates after a delete too; the contract has prevKv only for updates.
        if (e.prev_kv && num(e.kv.version) > 1) event.prevKv = this.toKv(e.prev_kv);
        ch.push(event);
      }
    }
  }

  private async rpc<T>(path: string, body: unknown, what = path): Promise<T> {
    if (this.closed) throw invalid('etcd store is closed');
    try {
      const res = await this.gw.call<T>(path, body);
      const rev = num((res as { header?: { revision?: string } }).header?.revision);
      if (rev > this.lastSeenRevision) this.lastSeenRevision = rev;
      return res;
    } catch (err) {
      throw this.mapError(err, what);
    }
  }

  private mapError(err: unknown, what: string): Error {
    if (err instanceof TugError) return err;
    if (err instanceof EtcdError) {
      if (/required revision has been compacted/.test(err.message)) return gone(`${what}: ${err.message}`);
      if (/future revision/.test(err.message)) return invalid(`${what}: ${err.message}`);
      return unavailable(`etcd ${what}: ${err.message}`);
    }
    return unavailable(`etcd ${what}: ${(err as Error).message}`);
  }

  private writeFailure(key: string, res: TxnResponse, expected: number | undefined): TugError {
    const current = res.responses?.[0]?.response_range?.kvs?.[0];
    if (!current) return notFound(`key ${key} not found`);
    return conflict(`key ${key} was modified: modRevision is ${num(current.mod_revision)}, expected ${expected}`);
  }

  private checkKey(key: string): void {
    if (!key) throw invalid('key must not be empty');
  }

  /** [start, end) in etcd key space for a store prefix. */
  private range(prefix: string): [string, string] {
    // etcd rejects an empty key; "\0" is the smallest real key.
    const start = this.prefix + prefix || '\0';
    // "\0" as range_end means "every key >= start" in etcd.
    return [start, prefixEnd(this.prefix + prefix) ?? '\0'];
  }

  private unprefix(k: string): string {
    return k.startsWith(this.prefix) ? k.slice(this.prefix.length) : k;
  }

  private toKv(kv: EtcdKv): KeyValue {
    return { key: this.unprefix(unb64(kv.key)), value: unb64(kv.value), createRevision: num(kv.create_revision), modRevision: num(kv.mod_revision) };
  }
}
