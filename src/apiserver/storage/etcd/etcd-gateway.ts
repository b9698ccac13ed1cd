// A small client for etcd v3's gRPC gateway: the same KV/Watch RPCs as gRPC, as
// JSON over plain HTTP/1.1 (/v3/kv/range, /v3/kv/txn, /v3/watch ...).
//
// Why the gateway and not gRPC: it is built into every etcd v3 server (3.4 on
// Debian), needs no new npm dependencies and no .proto files, and its watch is a
// long-lived chunked response of one JSON message per line, so streaming watch
// works. What it cannot do is send more requests on an open watch stream (Go's
// HTTP/1 server is not full duplex), so each watcher is one HTTP request and
// progress requests are not available; see etcd-store.ts for what that means.
//
// Keys and values are base64 in JSON, int64 fields are decimal strings, and
// proto3 leaves out fields with default values (false, 0, empty).
import http from 'node:http';
import { unavailable } from '../../../errdefs.js';
import { endpointPool, notSent, type EndpointPool } from './endpoint-pool.js';

/** RPCs without effect: sent again on another member when a connection breaks. */
const readOnly = new Set(['/v3/kv/range']);

export interface EtcdKv {
  key?: string;
  value?: string;
  create_revision?: string;
  mod_revision?: string;
  version?: string;
}
export interface EtcdHeader {
  revision?: string;
}
export interface RangeResponse {
  header: EtcdHeader;
  kvs?: EtcdKv[];
  more?: boolean;
  count?: string;
}
export interface TxnResponse {
  header: EtcdHeader;
  succeeded?: boolean;
  responses?: {
    response_range?: RangeResponse;
    response_put?: { header: EtcdHeader; prev_kv?: EtcdKv };
    response_delete_range?: { header: EtcdHeader; deleted?: string; prev_kvs?: EtcdKv[] };
  }[];
}
export interface WatchResponse {
  header: EtcdHeader;
  created?: boolean;
  canceled?: boolean;
  compact_revision?: string;
  cancel_reason?: string;
  events?: { type?: 'PUT' | 'DELETE'; kv: EtcdKv; prev_kv?: EtcdKv }[];
}

/** An error etcd answered with (as opposed to not answering at all). */
export class EtcdError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
    this.name = 'EtcdError';
  }
}

export const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
export const unb64 = (s: string | undefined): string => (s ? Buffer.from(s, 'base64').toString('utf8') : '');
export const num = (s: string | undefined): number => (s ? Number(s) : 0);

export class EtcdGateway {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly pool: EndpointPool;

  constructor(endpoints: string[]) {
    this.pool = endpointPool(endpoints);
  }

  /** One unary RPC, on the next member when one is unreachable (endpoint-pool.ts says when that is safe). */
  async call<T>(path: string, body: unknown): Promise<T> {
    const payload = JSON.stringify(body);
    return this.pool.tryEach((ep) => this.post<T>(ep, path, payload), { idempotent: readOnly.has(path), what: path });
  }

  /**
   * Opens a watch stream: onMessage gets each WatchResponse; onEnd gets the error
   * that ended the stream (null when it was closed by close()). Returns close().
   */
  watch(createRequest: Record<string, unknown>, onMessage: (m: WatchResponse) => void, onEnd: (err: Error | null) => void): () => void {
    const ep = this.pool.current();
    let closed = false;
    let ended = false;
    const end = (err: Error | null): void => {
      if (ended) return;
      ended = true;
      onEnd(closed ? null : err);
    };
    // Own connection, not the pooled agent: a watch holds its socket for its whole life.
    const req = http.request(ep, { method: 'POST', path: '/v3/watch', headers: { 'content-type': 'application/json' }, agent: false });
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        collect(res).then((text) => end(errorFromBody(res.statusCode ?? 0, text)), end);
        return;
      }
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          let msg: { result?: WatchResponse; error?: { message?: string; code?: number } };
          try {
            msg = JSON.parse(line);
          } catch {
            end(unavailable(`etcd watch: bad message from ${ep.host}`));
            req.destroy();
            return;
          }
          if (msg.error) {
            end(new EtcdError(`etcd watch: ${msg.error.message}`, msg.error.code ?? 2));
            req.destroy();
            return;
          }
          if (msg.result && !closed) onMessage(msg.result);
        }
      });
      res.on('end', () => end(unavailable(`etcd watch stream from ${ep.host} ended`)));
      res.on('aborted', () => {
        this.pool.failed(ep);
        end(unavailable(`etcd watch stream from ${ep.host} broke`));
      });
      res.on('error', (err) => end(err));
    });
    req.on('error', (err) => {
      const code = (err as NodeJS.ErrnoException).code;
      // The watcher opens the stream again (etcd-store.ts): on the next member, if this one is gone.
      if (notSent(err) || code === 'ECONNRESET') this.pool.failed(ep);
      end(notSent(err) || code === 'ECONNRESET' ? unavailable(`etcd watch: ${ep.host}: ${err.message}`) : err);
    });
    req.end(JSON.stringify({ create_request: createRequest }));
    return () => {
      closed = true;
      req.destroy();
      end(null);
    };
  }

  close(): void {
    this.agent.destroy();
  }

  private post<T>(ep: URL, path: string, payload: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const req = http.request(ep, {
        method: 'POST',
        path,
        agent: this.agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      });
      req.on('response', (res) => {
        collect(res).then((text) => {
          if (res.statusCode !== 200) return reject(errorFromBody(res.statusCode ?? 0, text));
          try {
            resolve(JSON.parse(text) as T);
          } catch {
            reject(unavailable(`etcd ${path}: response is not JSON`));
          }
        }, reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
  }
}

function collect(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

function errorFromBody(status: number, text: string): Error {
  try {
    const body = JSON.parse(text) as { message?: string; error?: string; code?: number };
    return new EtcdError(body.message ?? body.error ?? text, body.code ?? 2);
  } catch {
    return new EtcdError(`etcd HTTP ${status}: ${text.slice(0, 200)}`, 2);
  }
}
