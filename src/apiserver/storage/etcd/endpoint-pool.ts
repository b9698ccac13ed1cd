// Which etcd member to talk to, and moving on when it is gone. Every member of
// an etcd cluster serves every request (a follower forwards writes to the
// leader, and linearizable reads are confirmed with it), so any reachable one
// will do: requests go to the current member until it fails to connect, then
// to the next, for unary calls and watches alike. This is the whole failover
// policy of the etcd client, kept apart from the wire protocol so another
// transport (gRPC) can use it as it is.
//
// What is retried on the next member: a request that never reached a member
// (connection refused, no route, unknown host), and a read whose connection
// broke (reads have no effect). A write whose connection broke may or may not
// have been applied, so it is not sent again; its caller gets 'unavailable'.
import { unavailable } from '../../../errdefs.js';

export interface EndpointPool {
  /** Every member, in the order given. */
  readonly endpoints: readonly URL[];
  /** The member requests go to now. */
  current(): URL;
  /** ep failed: later requests go to the next member (unless another caller already moved on from ep). */
  failed(ep: URL): void;
  /** fn against the current member, then each other one in turn while the failure says the request may be sent again. */
  tryEach<T>(fn: (ep: URL) => Promise<T>, opts: { idempotent: boolean; what: string }): Promise<T>;
}

export function endpointPool(endpoints: string[]): EndpointPool {
  const urls = endpoints.map((e) => new URL(e.includes('://') ? e : `http://${e}`));
  let next = 0;
  const pool: EndpointPool = {
    endpoints: urls,
    current: () => urls[next % urls.length],
    failed(ep) {
      if (pool.current() === ep) next = (next + 1) % urls.length;
    },
    async tryEach(fn, opts) {
      let lastErr: unknown;
      for (let attempt = 0; attempt < urls.length; attempt++) {
        const ep = pool.current();
        try {
          return await fn(ep);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException)?.code;
          const broken = code === 'ECONNRESET' || code === 'EPIPE';
          if (!notSent(err) && !broken) throw err;
          pool.failed(ep);
          if (broken && !opts.idempotent) throw unavailable(`etcd ${opts.what}: connection to ${ep.host} broke; the write may or may not have been applied`);
          lastErr = err;
        }
      }
      throw unavailable(`etcd ${opts.what}: no member reachable (${urls.map((u) => u.host).join(', ')}): ${(lastErr as Error)?.message}`);
    },
  };
  return pool;
}

/** The request never reached a member: sending it to another is safe. */
export function notSent(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH';
}
