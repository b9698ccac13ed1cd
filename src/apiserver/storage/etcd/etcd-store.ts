// The HA backend: the Store contract on etcd v3, spoken over etcd's gRPC API
// through the etcd3 client (on @grpc/grpc-js). The mapping is direct, as in
// kube-apiserver's etcd3 storage: store revision = etcd revision; a create is
// one Txn (create_revision == 0 → put), an update one Txn (mod_revision ==
// expected → put), each answering with the new revision; watch is etcd Watch
// with start_revision and prev_kv, one etcd watch per prefix fanned out to its
// watchers (etcd-shared-watch.ts), all multiplexed on one gRPC stream
// (etcd-watch-stream.ts); compaction is etcd Compact.
//
// Endpoints: every member given is in etcd3's pool. A call that finds its
// member unreachable is retried on the next one, and a member unreachable 3
// times in a row is set aside for 2 s (etcd-fault-policy.ts); the watch stream
// moves to another member the same way.
//
// Read batching: gets and lists at the latest revision that arrive in one
// event-loop turn go to etcd as one read-only Txn of Range ops (up to etcd's
// default --max-txn-ops, 128), where each was its own unary call before. A
// pod create reads five things (namespace, AlreadyExists, LimitRanges,
// ResourceQuotas, ServiceAccount), and 16 concurrent creates sent 80 calls
// per round: on the server every gRPC call costs event-loop time (grpc-js
// opens an HTTP/2 stream per call), and etcd serves a read-only Txn as one
// linearizable read (ReadIndex), without a raft entry. The ranges of one Txn
// also see one revision.
//
// Bookmarks: a watcher reports the highest revision it has delivered (or, for a
// watch "from now", the revision it started at), plus any progress notification
// etcd sends. It never reports etcd's current revision from a separate read,
// because the stream may not have delivered everything up to that yet.
import etcd3 from 'etcd3';
import type { CallContext, Etcd3, IKeyValue, IRangeRequest, IRangeResponse, ITxnResponse, IWatchResponse } from 'etcd3';
import { alreadyExists, conflict, invalid, isKind, notFound, unavailable, TugError } from '../../../errdefs.js';
import { AutoCompactor, type AutoCompactOptions } from '../auto-compactor.js';
import { prefixEnd } from '../key-range.js';
import { gone, type KeyValue, type ListOptions, type ListResult, type Store, type WatchEvent } from '../store.js';
import { WatchChannel } from '../watch-channel.js';
import { etcdFaultHandling } from './etcd-fault-policy.js';
import { EtcdWatchStream } from './etcd-watch-stream.js';
import { SharedPrefixWatch } from './etcd-shared-watch.js';

export interface EtcdStoreOptions {
  /** Client URLs (http://host:port) or host:port of the etcd members. */
  endpoints: string[];
  /** Prepended to every key in etcd (like kube-apiserver's --etcd-prefix), so several clusters can share one etcd. */
  prefix?: string;
  autoCompact?: AutoCompactOptions | false;
}

/** A unary call that gets no answer in this long fails (unavailable) instead of hanging the request behind it. */
const CALL_TIMEOUT_MS = 60_000;

/** Range ops per batched read Txn: etcd's default --max-txn-ops. */
const MAX_TXN_OPS = 128;

/** A read waiting for the next batched Txn. */
interface PendingRead {
  /** What the read is, for its error message. */
  what: string;
  req: IRangeRequest;
  resolve: (res: IRangeResponse) => void;
  reject: (err: unknown) => void;
}

/** How much etcd may send on the connection (and on one stream) before this client acknowledges it. */
const FLOW_CONTROL_WINDOW_BYTES = 16 * 2 ** 20;

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

const buf = (s: string): Buffer => Buffer.from(s, 'utf8');
const num = (s: string | number | undefined): number => (s ? Number(s) : 0);

class EtcdStore implements Store {
  private readonly client: Etcd3;
  private readonly watchStream: EtcdWatchStream;
  private readonly prefix: string;
  private readonly watchers = new Set<WatchChannel>();
  /** One etcd watch per prefix, shared by its watchers (etcd-shared-watch.ts). */
  private readonly shared = new Map<string, SharedPrefixWatch>();
  /** The highest compacted revision this store knows of: a watch from below it gets its own etcd watch, and etcd's gone. */
  private compactedRevision = 0;
  private readonly compactor: AutoCompactor | null;
  private closed = false;
  /** The newest etcd revision seen in any response (the start of a watch "from now"). */
  private lastSeenRevision = 0;
  /** Reads waiting for this turn's batched Txn (see the header). */
  private reads: PendingRead[] = [];

  constructor(opts: EtcdStoreOptions) {
    this.client = new etcd3.Etcd3({
      hosts: opts.endpoints.map((e) => (e.includes('://') ? e : `http://${e}`)),
      grpcOptions: {
        // A list without a limit returns every key of a prefix in one message; grpc-js would cap it at 4 MiB.
        'grpc.max_receive_message_length': -1,
        // HTTP/2 flow-control window, per stream and for the connection. grpc-js keeps HTTP/2's 64 KiB
        // default, and every call and the shared Watch stream draw on one connection window, so etcd could
        // send only 64 KiB before waiting for a WINDOW_UPDATE from this (busy) event loop: watch events
        // queued for seconds behind each other, and gets and list pages waited behind the watch stream.
        // 16 MiB is the ceiling grpc-go's (kube-apiserver's) window grows to.
        'grpc-node.flow_control_window': FLOW_CONTROL_WINDOW_BYTES,
        // No client keepalive: on a loaded machine the event loop held a ping's ack past a 20 s timeout,
        // and the dropped connection failed every call in flight. A member that dies resets its connections;
        // the 60 s call deadline bounds the rest.
      },
      defaultCallOptions: (ctx: CallContext) => (ctx.isStream ? {} : { deadline: Date.now() + CALL_TIMEOUT_MS }),
      faultHandling: etcdFaultHandling(opts.endpoints.length),
    });
    // etcd3 opens a watch stream on a member chosen at random and does not always count a stream that
    // fails against its member, so a dead member can be chosen several times in a row: with one of two
    // dead, 4 attempts all missed 1 time in 16 (a flaky test); 4 attempts a member (10) all miss 1 time in 1,000.
    this.watchStream = new EtcdWatchStream(this.client, opts.endpoints.length * 4 + 2);
    this.prefix = opts.prefix ?? '';
    this.compactor = opts.autoCompact === false ? null : new AutoCompactor(() => this.currentRevision(), (r) => this.compact(r), opts.autoCompact);
  }

  async get(key: string): Promise<KeyValue | null> {
    const res = await this.read('get', { key: buf(this.prefix + key) });
    return res.kvs.length ? this.toKv(res.kvs[0]) : null;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    const [start, end] = this.range(prefix);
    let from = start;
    // key > startAfter  ⇔  key >= startAfter + "\0"
    if (opts.startAfter !== undefined && this.prefix + opts.startAfter + '\0' > from) from = this.prefix + opts.startAfter + '\0';
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    const req: IRangeRequest = { key: buf(from), range_end: buf(end), limit, revision: opts.revision ?? 0 };
    // A read at an older revision can fail on its own (compacted): it gets its own call.
    const res = opts.revision ? await this.call(`list at revision ${opts.revision}`, () => this.client.kv.range(req)) : await this.read('list at revision latest', req);
    const items = res.kvs.map((kv) => this.toKv(kv));
    const revision = opts.revision || num(res.header.revision);
    // etcd's count is every key in [from, end), not just the returned page.
    return res.more ? { items, revision, more: true, remaining: num(res.count) - items.length } : { items, revision, more: false };
  }

  async count(prefix: string): Promise<number> {
    const [start, end] = this.range(prefix);
    const res = await this.call('count', () => this.client.kv.range({ key: buf(start), range_end: buf(end), count_only: true }));
    return num(res.count);
  }

  async create(key: string, value: string): Promise<KeyValue> {
    this.checkKey(key);
    const k = buf(this.prefix + key);
    const res = await this.call(`create ${key}`, () =>
      this.client.kv.txn({
        compare: [{ target: 'Create', key: k, result: 'Equal', create_revision: 0 }],
        success: [{ request_put: { key: k, value: buf(value) } }],
      }),
    );
    if (!res.succeeded) throw alreadyExists(`key ${key} already exists`);
    const rev = num(res.header.revision);
    return { key, value, createRevision: rev, modRevision: rev };
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    this.checkKey(key);
    const k = buf(this.prefix + key);
    const res = await this.call(`update ${key}`, () =>
      this.client.kv.txn({
        compare: [
          // An absent key has mod_revision 0: also require that it exists, so update never creates.
          { target: 'Version', key: k, result: 'Greater', version: 0 },
          { target: 'Mod', key: k, result: 'Equal', mod_revision: expectedModRevision },
        ],
        success: [{ request_put: { key: k, value: buf(value), prev_kv: true } }],
        failure: [{ request_range: { key: k, keys_only: true } }],
      }),
    );
    if (!res.succeeded) throw this.writeFailure(key, res, expectedModRevision);
    const prev = res.responses[0]?.response_put?.prev_kv;
    const rev = num(res.header.revision);
    return { key, value, createRevision: prev ? num(prev.create_revision) : rev, modRevision: rev };
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    this.checkKey(key);
    const k = buf(this.prefix + key);
    const res = await this.call(`delete ${key}`, () =>
      this.client.kv.txn({
        compare: expectedModRevision === undefined ? [] : [{ target: 'Mod', key: k, result: 'Equal', mod_revision: expectedModRevision }],
        success: [{ request_delete_range: { key: k, prev_kv: true } }],
        failure: [{ request_range: { key: k, keys_only: true } }],
      }),
    );
    if (!res.succeeded) throw this.writeFailure(key, res, expectedModRevision);
    const prev = res.responses[0]?.response_delete_range?.prev_kvs?.[0];
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
    let detach = (): void => {};
    const ch = new WatchChannel(prefix, from, onEvent, onError, (c) => {
      this.watchers.delete(c);
      detach();
    });
    this.watchers.add(ch);
    const shared = this.sharedWatch(prefix);
    if (this.canJoin(shared, from)) {
      shared.join(ch);
      detach = () => shared.leave(ch);
    } else detach = this.watchAlone(ch, fromRevision, shared);
    return () => ch.cancel();
  }

  async currentRevision(): Promise<number> {
    const res = await this.call('revision', () => this.client.kv.range({ key: buf('\0'), count_only: true }));
    return num(res.header.revision);
  }

  async compact(revision: number): Promise<void> {
    try {
      await this.call(`compact to ${revision}`, () => this.client.kv.compact({ revision }));
      if (revision > this.compactedRevision) this.compactedRevision = revision;
    } catch (err) {
      // Compacting to a revision already compacted is a no-op in this contract.
      if (isKind(err, 'gone')) {
        if (revision > this.compactedRevision) this.compactedRevision = revision;
        return;
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.compactor?.stop();
    for (const ch of [...this.watchers]) ch.cancel();
    this.watchStream.close();
    this.client.close();
  }

  // ---- internals ----

  /** A watcher from `revision` gets its events from the prefix's shared watch, unless they are older than it keeps or compacted (etcd then answers itself). */
  private canJoin(shared: SharedPrefixWatch, revision: number): boolean {
    return revision >= this.compactedRevision && shared.canServe(revision);
  }

  /** The prefix's one etcd watch, opened "now" (after the newest revision seen) if there is none. */
  private sharedWatch(prefix: string): SharedPrefixWatch {
    const have = this.shared.get(prefix);
    if (have && !have.isClosed) return have;
    // Never 0: opening the store read the current revision.
    const start = this.lastSeenRevision;
    const w = new SharedPrefixWatch(start, (x) => {
      if (this.shared.get(prefix) === x) this.shared.delete(prefix);
    });
    this.shared.set(prefix, w);
    const [key, end] = this.range(prefix);
    const sub = {
      key: buf(key),
      rangeEnd: buf(end),
      startRevision: start + 1,
      onResponse: (m: IWatchResponse) => {
        if (m.canceled) return w.fail(this.cancelError(start, m));
        if (m.created) return;
        if (!m.events?.length) return w.progress(num(m.header.revision));
        w.deliver(this.eventsOf(m));
        // Where to pick up if the stream has to be re-created.
        sub.startRevision = w.position + 1;
      },
      onLost: (err: Error) => w.fail(err),
    };
    w.cancel = this.watchStream.add(sub);
    return w;
  }

  /**
   * A watcher on an etcd watch of its own, from a revision the shared watch no
   * longer has (or a compacted one: etcd answers gone). Once it has caught up with
   * the shared watch it moves there. Returns what ends it.
   */
  private watchAlone(ch: WatchChannel, fromRevision: number, shared: SharedPrefixWatch): () => void {
    const release = shared.holdForCatchUp();
    let stop = (): void => {};
    let joined: SharedPrefixWatch | null = null;
    const [start, end] = this.range(ch.prefix);
    const open = (startRevision: number): void => {
      const sub = {
        key: buf(start),
        rangeEnd: buf(end),
        startRevision: startRevision > 0 ? startRevision + 1 : 0,
        onResponse: (m: IWatchResponse) => {
          // A "from now" watch is never gone: if what this Store last saw was compacted meanwhile, start at etcd's now.
          if (fromRevision === 0 && startRevision > 0 && m.canceled && num(m.compact_revision) > 0) {
            open(0);
            return;
          }
          this.onWatchMessage(ch, startRevision, m);
          // Where to pick up if the stream has to be re-created: right after what the channel has.
          if (ch.position > 0) sub.startRevision = ch.position + 1;
          // Caught up with the prefix's shared watch (the one it started with, or a newer one): continue there.
          const s = this.shared.get(ch.prefix);
          if (!ch.isClosed && !m.canceled && s && this.canJoin(s, ch.position)) {
            // Join before letting go of the hold: when this watcher is the prefix's only one, the release would close it.
            stop();
            joined = s;
            s.join(ch);
            release();
          }
        },
        onLost: (err: Error) => ch.fail(err),
      };
      stop = this.watchStream.add(sub);
    };
    open(ch.position);
    return () => {
      if (joined) joined.leave(ch);
      else {
        stop();
        release();
      }
    };
  }

  private cancelError(fromRevision: number, m: IWatchResponse): Error {
    const compacted = num(m.compact_revision);
    if (compacted > this.compactedRevision) this.compactedRevision = compacted;
    return compacted > 0
      ? gone(`watch from revision ${fromRevision}: revisions up to ${compacted} have been compacted`, { compactRevision: compacted })
      : unavailable(`etcd canceled the watch: ${m.cancel_reason || 'no reason given'}`);
  }

  private onWatchMessage(ch: WatchChannel, fromRevision: number, m: IWatchResponse): void {
    if (m.canceled) {
      ch.fail(this.cancelError(fromRevision, m));
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
    for (const e of this.eventsOf(m)) ch.push(e);
  }

  /** An etcd watch response's events as the Store's. */
  private eventsOf(m: IWatchResponse): WatchEvent[] {
    return m.events.map((e): WatchEvent => {
      const rev = num(e.kv.mod_revision);
      if (e.type === 'Delete') {
        const last = e.prev_kv ? this.toKv(e.prev_kv) : { key: this.unprefix(e.kv.key.toString('utf8')), value: '', createRevision: 0, modRevision: rev };
        return { type: 'DELETE', kv: { ...last, modRevision: rev }, revision: rev };
      }
      const event: WatchEvent = { type: 'PUT', kv: this.toKv(e.kv), revision: rev };
      // etcd sends prev_kv for creates after a delete too; the contract has prevKv only for updates.
      if (e.prev_kv && num(e.kv.version) > 1) event.prevKv = this.toKv(e.prev_kv);
      return event;
    });
  }

  /** A Range at the latest revision, sent with the others of this event-loop turn. */
  private read(what: string, req: IRangeRequest): Promise<IRangeResponse> {
    if (this.closed) return Promise.reject(invalid('etcd store is closed'));
    return new Promise((resolve, reject) => {
      if (this.reads.push({ what, req, resolve, reject }) === 1) setImmediate(() => this.sendReads());
    });
  }

  private sendReads(): void {
    const all = this.reads;
    this.reads = [];
    for (let i = 0; i < all.length; i += MAX_TXN_OPS) {
      const batch = all.slice(i, i + MAX_TXN_OPS);
      if (batch.length === 1) {
        const [r] = batch;
        this.call(r.what, () => this.client.kv.range(r.req)).then(r.resolve, r.reject);
        continue;
      }
      this.call(`${batch.length} reads (${batch[0].what}, ...)`, () => this.client.kv.txn({ compare: [], success: batch.map((r) => ({ request_range: r.req })) })).then(
        (res) => batch.forEach((r, j) => {
          const range = res.responses[j]?.response_range;
          // Ranges inside a Txn carry no header of their own: the Txn's revision is theirs.
          if (range) r.resolve({ ...range, header: res.header });
          else r.reject(unavailable(`etcd ${batch.length} reads: no answer for read ${j}`));
        }),
        (err: unknown) => {
          // An etcd run with a lower --max-txn-ops refuses the batch: send its reads one by one.
          if (/too many operations in txn request/.test((err as Error)?.message ?? '')) {
            for (const r of batch) this.call(r.what, () => this.client.kv.range(r.req)).then(r.resolve, r.reject);
          } else batch.forEach((r) => r.reject(err));
        },
      );
    }
  }

  /** One RPC: refuses after close, maps etcd's errors to the Store's, and remembers the newest revision seen. */
  private async call<T extends { header: { revision: string } }>(what: string, rpc: () => Promise<T>): Promise<T> {
    if (this.closed) throw invalid('etcd store is closed');
    let res: T;
    try {
      res = await rpc();
    } catch (err) {
      throw mapError(err, what);
    }
    const rev = num(res.header.revision);
    if (rev > this.lastSeenRevision) this.lastSeenRevision = rev;
    return res;
  }

  private writeFailure(key: string, res: ITxnResponse, expected: number | undefined): TugError {
    const current = res.responses[0]?.response_range?.kvs?.[0];
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

  private toKv(kv: IKeyValue): KeyValue {
    return { key: this.unprefix(kv.key.toString('utf8')), value: kv.value.toString('utf8'), createRevision: num(kv.create_revision), modRevision: num(kv.mod_revision) };
  }
}

function mapError(err: unknown, what: string): Error {
  if (err instanceof TugError) return err;
  const message = (err as Error)?.message ?? String(err);
  if (/required revision has been compacted/.test(message)) return gone(`${what}: ${message}`);
  if (/future revision/.test(message)) return invalid(`${what}: ${message}`);
  return unavailable(`etcd ${what}: ${message}`);
}
