// Docker Engine API client over a unix socket (or tcp): plain requests, JSON,
// response streams, and the hijacked attach/exec connection. The API version
// is negotiated once with /_ping, as the docker CLI does, so the same client
// works against tug's daemon and an older real dockerd.
import { request, type IncomingMessage, type ClientRequest } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { TugError, type ErrorKind } from '../errdefs.js';

export const CLIENT_API_VERSION = '1.43';

/** An error the daemon answered with; printed as "Error response from daemon: …". */
export class DaemonError extends TugError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(kindForStatus(status), message, { status });
    this.name = 'DaemonError';
  }
}

function kindForStatus(s: number): ErrorKind {
  if (s === 400) return 'invalid';
  if (s === 401) return 'unauthorized';
  if (s === 403) return 'forbidden';
  if (s === 404) return 'not-found';
  if (s === 409) return 'conflict';
  if (s === 503) return 'unavailable';
  return 'internal';
}

export type Query = Record<string, string | number | boolean | string[] | undefined>;

export interface RequestOptions {
  query?: Query;
  /** A JSON value, raw bytes, or a stream to upload (tar for import/load/cp). */
  body?: unknown;
  headers?: Record<string, string>;
}

export function encodeQuery(q: Query | undefined): string {
  if (!q) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    const vals = Array.isArray(v) ? v : [typeof v === 'boolean' ? (v ? '1' : '0') : String(v)];
    for (const one of vals) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(one)}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

function isReadable(b: unknown): b is Readable {
  return typeof b === 'object' && b !== null && typeof (b as Readable).pipe === 'function';
}

export class ApiClient {
  private negotiated: string | undefined;
  private readonly socketPath?: string;
  private readonly hostname?: string;
  private readonly port?: number;

  constructor(readonly host: string) {
    if (host.startsWith('unix://')) this.socketPath = host.slice('unix://'.length);
    else if (host.startsWith('tcp://')) {
      const u = new URL(host.replace(/^tcp:/, 'http:'));
      this.hostname = u.hostname;
      this.port = Number(u.port || 2375);
    } else throw new TugError('invalid', `invalid host "${host}": use unix:///path or tcp://host:port`);
  }

  /**
   * servername '' (a TLS-only option; the client speaks plain HTTP) keeps Node's agent from
   * testing the host against its IPv6 pattern on the first request, ~5 ms of regex compile at start.
   */
  private base(): { socketPath?: string; host?: string; port?: number; servername: string } {
    const servername = '';
    return this.socketPath ? { socketPath: this.socketPath, servername } : { host: this.hostname, port: this.port, servername };
  }

  private unreachable(err: Error): TugError {
    return new TugError(
      'unavailable',
      `Cannot connect to the tug daemon at ${this.host}. Is the tug daemon running? (${err.message})`,
    );
  }

  /** Picks min(our version, daemon's) the first time it is needed. */
  async apiVersion(): Promise<string> {
    if (this.negotiated) return this.negotiated;
    const fixed = process.env.TUG_API_VERSION;
    if (fixed) return (this.negotiated = fixed);
    const res = await this.raw('GET', '/_ping', {}, false);
    res.resume();
    const server = String(res.headers['api-version'] ?? CLIENT_API_VERSION);
    this.negotiated = compareVersions(server, CLIENT_API_VERSION) < 0 ? server : CLIENT_API_VERSION;
    return this.negotiated;
  }

  private async path(p: string, q?: Query): Promise<string> {
    return `/v${await this.apiVersion()}${p}${encodeQuery(q)}`;
  }

  /** Sends a request and resolves with the response head; the body is left to stream. */
  private raw(method: string, fullPath: string, opts: RequestOptions, _versioned = true): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      let payload: Buffer | undefined;
      const b = opts.body;
      if (b !== undefined && !isReadable(b)) {
        if (Buffer.isBuffer(b)) payload = b;
        else {
          payload = Buffer.from(JSON.stringify(b));
          headers['Content-Type'] ??= 'application/json';
        }
        headers['Content-Length'] = String(payload.length);
      }
      const req = request({ ...this.base(), method, path: fullPath, headers }, resolve);
      req.on('error', (e) => reject(this.unreachable(e)));
      if (isReadable(b)) b.pipe(req);
      else req.end(payload);
    });
  }

  /**
   * GET /version without a version prefix (the daemon answers at its own
   * version), and adopt the negotiated version from it: one round trip.
   */
  async serverVersion(): Promise<any> {
    const res = await this.raw('GET', '/version', {});
    if ((res.statusCode ?? 500) >= 400) throw await errorFrom(res);
    const v = JSON.parse((await readAll(res)).toString('utf8'));
    if (!this.negotiated && typeof v?.ApiVersion === 'string') {
      this.negotiated = compareVersions(v.ApiVersion, CLIENT_API_VERSION) < 0 ? v.ApiVersion : CLIENT_API_VERSION;
    }
    return v;
  }

  async response(method: string, p: string, opts: RequestOptions = {}): Promise<IncomingMessage> {
    const res = await this.raw(method, await this.path(p, opts.query), opts);
    if ((res.statusCode ?? 500) >= 400) throw await errorFrom(res);
    return res;
  }

  async call(method: string, p: string, opts: RequestOptions = {}): Promise<Buffer> {
    return readAll(await this.response(method, p, opts));
  }

  async json<T = any>(method: string, p: string, opts: RequestOptions = {}): Promise<T> {
    const buf = await this.call(method, p, opts);
    return (buf.length ? JSON.parse(buf.toString('utf8')) : undefined) as T;
  }

  /** HEAD-style stat: resolves with response headers, or throws DaemonError. */
  async head(p: string, query?: Query): Promise<IncomingMessage['headers']> {
    const res = await this.raw('HEAD', await this.path(p, query), {});
    res.resume();
    if ((res.statusCode ?? 500) >= 400) {
      throw new DaemonError(res.statusCode ?? 500, res.statusCode === 404 ? `Could not find the file ${String(query?.path ?? '')}` : `status ${res.statusCode}`);
    }
    return res.headers;
  }

  /**
   * Opens a hijacked connection (attach, exec start): the daemon answers 101
   * and the socket then carries the raw or multiplexed stream both ways.
   */
  async hijack(method: string, p: string, opts: RequestOptions = {}): Promise<{ socket: Socket; head: Buffer }> {
    const fullPath = await this.path(p, opts.query);
    return new Promise((resolve, reject) => {
      const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
      const headers: Record<string, string> = { Connection: 'Upgrade', Upgrade: 'tcp' };
      if (payload) {
        headers['Content-Type'] = 'application/json';
        headers['Content-Length'] = String(payload.length);
      }
      const req: ClientRequest = request({ ...this.base(), method, path: fullPath, headers });
      req.on('upgrade', (_res, socket, head) => resolve({ socket, head }));
      req.on('response', (res) => {
        // Some daemons answer 200 without upgrading: the body is then the stream.
        if ((res.statusCode ?? 500) >= 400) {
          errorFrom(res).then(reject, reject);
          return;
        }
        resolve({ socket: res.socket as Socket, head: Buffer.alloc(0) });
      });
      req.on('error', (e) => reject(this.unreachable(e)));
      req.end(payload);
    });
  }
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

export function readAll(res: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
  });
}

async function errorFrom(res: IncomingMessage): Promise<DaemonError> {
  const text = (await readAll(res)).toString('utf8').trim();
  let msg = text;
  try {
    const j = JSON.parse(text) as { message?: string };
    if (typeof j.message === 'string') msg = j.message;
  } catch {
    // Not JSON: the plain text is the message.
  }
  return new DaemonError(res.statusCode ?? 500, msg || `HTTP ${res.statusCode}`);
}

/** Calls onMessage for each JSON object in a newline-delimited JSON stream (events, pull, load). */
export async function eachJsonLine(res: Readable, onMessage: (m: any) => void): Promise<void> {
  let buf = '';
  for await (const chunk of res) {
    buf += (chunk as Buffer).toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) onMessage(JSON.parse(line));
    }
  }
  if (buf.trim()) onMessage(JSON.parse(buf));
}
