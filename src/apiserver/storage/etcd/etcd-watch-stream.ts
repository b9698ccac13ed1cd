// Every watch of one etcd store on one gRPC Watch stream: etcd multiplexes many
// watchers on a stream by watch id, so a server with dozens of informers holds
// one HTTP/2 stream on one connection, not a socket per watcher.
//
// Watch ids are chosen here (etcd 3.4+ accepts a client-chosen watch_id), so
// creates are pipelined and every response names its watcher without waiting
// for creates to be acknowledged in order.
//
// When the stream breaks (the member went away), it is opened again (etcd3's
// connection pool picks a reachable member) and each watcher is re-created
// from the revision after the last one it was handed, so nothing is lost or
// repeated. If no member takes the stream back within a few attempts, every
// watcher ends with unavailable, as the Store contract asks.
import type { Etcd3, IWatchRequest, IWatchResponse } from 'etcd3';
import { unavailable } from '../../../errdefs.js';

/** One etcd watcher: its key range and where it has got to. */
export interface WatchSubscription {
  key: Buffer;
  rangeEnd: Buffer;
  /** Revision to start from when (re)created; 0 = now. Kept up to date by the owner. */
  startRevision: number;
  onResponse(m: IWatchResponse): void;
  /** The stream could not be re-established: no more responses will come. */
  onLost(err: Error): void;
}

type Stream = Awaited<ReturnType<Etcd3['watchClient']['watch']>>;

const REOPEN_DELAY_MS = 200;

export class EtcdWatchStream {
  private stream: Stream | null = null;
  private readonly subs = new Map<number, WatchSubscription>();
  private nextId = 1;
  private closed = false;
  /** Consecutive reopen attempts that ended before etcd answered anything. */
  private failedOpens = 0;
  private answered = false;
  private opening: Promise<void> | null = null;

  constructor(
    private readonly client: Etcd3,
    /** How many reopen attempts in a row may fail before watchers are told the stream is lost. */
    private readonly maxFailedOpens: number,
  ) {}

  /** Starts a watcher; returns its cancel function. */
  add(sub: WatchSubscription): () => void {
    const id = this.nextId++;
    this.subs.set(id, sub);
    if (this.stream) this.sendCreate(this.stream, id, sub);
    else this.open();
    return () => {
      if (!this.subs.delete(id)) return;
      // Responses still in flight for this id are dropped by dispatch.
      this.stream?.write({ cancel_request: { watch_id: id } } as IWatchRequest);
    };
  }

  close(): void {
    this.closed = true;
    this.subs.clear();
    this.stream?.cancel();
    this.stream = null;
  }

  private open(): void {
    if (this.opening || this.closed) return;
    this.answered = false;
    this.opening = this.client.watchClient.watch().then(
      (stream) => {
        this.opening = null;
        if (this.closed) return stream.cancel();
        this.stream = stream;
        stream.on('data', (m: IWatchResponse) => this.dispatch(m));
        stream.on('error', (err: Error) => this.lost(stream, err));
        stream.on('end', () => this.lost(stream, new Error('watch stream ended')));
        for (const [id, sub] of this.subs) this.sendCreate(stream, id, sub);
      },
      (err: Error) => {
        this.opening = null;
        this.lost(null, err);
      },
    );
  }

  private sendCreate(stream: Stream, id: number, sub: WatchSubscription): void {
    const req: Record<string, unknown> = { key: sub.key, range_end: sub.rangeEnd, prev_kv: true, progress_notify: true, watch_id: id };
    if (sub.startRevision > 0) req.start_revision = sub.startRevision;
    stream.write({ create_request: req } as IWatchRequest);
  }

  private dispatch(m: IWatchResponse): void {
    if (!this.answered) {
      this.answered = true;
      this.failedOpens = 0;
    }
    const sub = this.subs.get(Number(m.watch_id));
    if (!sub) return;
    if (m.canceled) this.subs.delete(Number(m.watch_id));
    sub.onResponse(m);
  }

  private lost(stream: Stream | null, err: Error): void {
    if (stream !== this.stream && stream !== null) return; // an old stream's late error
    this.stream = null;
    stream?.cancel();
    if (this.closed || this.subs.size === 0) return;
    if (!this.answered) this.failedOpens++;
    if (this.failedOpens >= this.maxFailedOpens) {
      const subs = [...this.subs.values()];
      this.subs.clear();
      this.failedOpens = 0;
      const e = unavailable(`etcd watch: no member took the watch stream: ${err.message}`);
      for (const s of subs) s.onLost(e);
      return;
    }
    setTimeout(() => this.open(), this.answered ? 0 : REOPEN_DELAY_MS).unref();
  }
}
