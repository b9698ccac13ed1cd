// A small Kubernetes API client over HTTPS: a kubeconfig's client certificate
// or a bearer token. Verbs get/list/watch/create/update/patch/delete plus the
// status subresource, on any resource path. Errors come back as TugErrors
// whose kind follows the HTTP status (404 not-found, 409 conflict, 410 gone...).
import { request, Agent } from 'node:https';
import { createSecureContext } from 'node:tls';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { TugError, type ErrorKind } from '../../errdefs.js';
import { resourcePath } from './resource-path.js';
import { kubeconfigOptions } from './kubeconfig.js';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name?: string; namespace?: string; uid?: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string>; deletionTimestamp?: string; deletionGracePeriodSeconds?: number; creationTimestamp?: string; [k: string]: unknown };
  spec?: any;
  status?: any;
  [k: string]: unknown;
}

export interface KubeList<T = KubeObject> {
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

export interface WatchEvent<T = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export interface KubeClientOptions {
  server: string;
  /**
   * Every API server of the cluster, server among them (k3s agents' client-side
   * load balancer): requests go to one until it cannot be reached, then to the
   * next. All must present certificates from the same CA.
   */
  servers?: string[];
  /** PEM CA bundle; without it the server certificate is checked against the system's CAs. */
  ca?: string;
  /** Do not verify the server at all (kubeconfig's insecure-skip-tls-verify; an agent's explicit opt-out). */
  insecureSkipTLSVerify?: boolean;
  cert?: string;
  key?: string;
  token?: string;
  /** How long a connection may take to finish its TLS handshake (a server that accepts and never answers) while another server is left to try; default DEFAULT_CONNECT_TIMEOUT_MS. */
  connectTimeoutMs?: number;
  /** How long a request other than a watch may take, body included; default DEFAULT_REQUEST_TIMEOUT_MS. A watch waits this long for its response headers only. */
  requestTimeoutMs?: number;
  /** How long an open watch may go without a byte (the server bookmarks every 5 s); default DEFAULT_WATCH_IDLE_MS. */
  watchIdleMs?: number;
  /** Connections kept for requests other than watches; default MAX_REQUEST_SOCKETS. A load generator that wants more in flight says so. */
  maxRequestSockets?: number;
}

/**
 * Timeouts. A server that accepts connections and never answers (hung, or
 * stopped with SIGSTOP, or behind a dead link that still answers SYN) must be
 * left for the next one as a refusing server is. A TLS handshake takes
 * milliseconds between machines and well under a second on a loaded one: 3 s
 * without one, while another server is left to try, means this one is gone,
 * and the request was never sent, so it goes to the next server. The last
 * server left (the only one, for most clients) is given the whole request
 * time, because a machine so loaded that its handshakes take seconds (load 24
 * on two cores was seen in CI) must still work when slowly. A request takes
 * milliseconds, the API server's slowest (a big list on etcd) about a second
 * on such a machine: 30 s without its answer means the server hangs. The
 * server may have applied it, so only reads are repeated on the next server;
 * writes fail 'unavailable' and their callers (informers, heartbeats, work
 * queues) try again, now on the next server.
 * Watches are long by design: their stream is checked for silence instead,
 * against the BOOKMARK the server sends every 5 s.
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 3_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_WATCH_IDLE_MS = 30_000;

/** Names one resource collection: group '' is the core group. */
export interface ResourceRef {
  group: string;
  version: string;
  /** Plural resource name: 'pods', 'nodes', 'leases'. */
  resource: string;
  /** Omit for cluster-scoped resources (or to list across namespaces). */
  namespace?: string;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  limit?: number;
}

/**
 * The verbs controllers use, apart from the HTTPS transport: KubeClient is one
 * implementation, the API server's in-process client another, and tests pass a
 * fake that records what a reconcile did (as client-go's fake clientset).
 */
export type KubeApi = Pick<KubeClient, 'get' | 'getOrNull' | 'list' | 'create' | 'update' | 'updateStatus' | 'patch' | 'delete' | 'watch'>;

/** What an informer needs: list and watch. */
export type ListWatcher = Pick<KubeClient, 'list' | 'watch'>;

const kindByStatus: Record<number, ErrorKind> = { 400: 'invalid', 401: 'unauthorized', 403: 'forbidden', 404: 'not-found', 409: 'conflict', 410: 'gone', 413: 'too-large', 422: 'invalid', 503: 'unavailable' };

/**
 * Connections one client keeps for requests other than watches. A controller that
 * fires a status update and an Event per pod without waiting (the scheduler, for
 * pods it cannot place) had ~1,400 requests in flight against a busy server, each on
 * a new TLS connection: a handshake on both sides per request, and the API server's
 * queue 1,400 deep in front of every other client. Beyond this many, requests wait
 * in the client, as client-go's wait behind its rate limiter and HTTP/2 stream limit.
 */
export const MAX_REQUEST_SOCKETS = 16;

export class KubeClient {
  /** Requests (bounded, MAX_REQUEST_SOCKETS) and watches (one connection each, as long as they last): a watch never waits for a request slot. */
  private agents: Agents;
  /** Agents of credentials replaced by setClientCertificate: their open watches run on; closed with the client. */
  private readonly retired: Agents[] = [];
  private readonly servers: string[];
  /** The server requests go to now (an index into servers). */
  private current = 0;

  constructor(private opts: KubeClientOptions) {
    this.servers = [opts.server, ...(opts.servers ?? []).filter((s) => s !== opts.server)];
    for (const s of this.servers) new URL(s);
    this.agents = KubeClient.agentsFor(opts);
  }

  private static agentsFor(opts: KubeClientOptions): Agents {
    // One secure context for every connection: without it each new socket parses the CA, cert and key again.
    const secureContext = createSecureContext({ ca: opts.ca, cert: opts.cert, key: opts.key });
    // Idle sockets close on our side before the API server's keep-alive timeout (65 s)
    // closes them on its side, so a request rarely lands on a socket the server is closing.
    const base = { keepAlive: true, timeout: IDLE_SOCKET_MS, secureContext, rejectUnauthorized: !opts.insecureSkipTLSVerify };
    return { requests: new Agent({ ...base, maxSockets: opts.maxRequestSockets ?? MAX_REQUEST_SOCKETS }), watches: new Agent(base) };
  }

  /** A renewed client certificate (a node's rotation): new requests use it; requests already open finish on the old one. */
  setClientCertificate(cert: string, key: string): void {
    this.opts = { ...this.opts, cert, key };
    const old = this.agents;
    this.agents = KubeClient.agentsFor(this.opts);
    this.retired.push(old);
    // Idle keep-alive sockets of the old credential go now; busy ones (watches) end on their own.
    for (const a of [old.requests, old.watches]) for (const list of Object.values(a.freeSockets)) for (const s of list ?? []) s.destroy();
  }

  /** Reads a kubeconfig's current context (inline *-data fields or file paths). */
  static async fromKubeconfig(path: string): Promise<KubeClient> {
    return new KubeClient(await KubeClient.readKubeconfig(path));
  }

  /** What fromKubeconfig connects with. */
  static async readKubeconfig(path: string): Promise<KubeClientOptions> {
    return kubeconfigOptions(parseYaml(await readFile(path, 'utf8')), path);
  }

  /** The CA this client verifies the API server with (PEM), when it has one: a node agent verifies its own callers' client certificates against it too. */
  get caPem(): string | undefined {
    return this.opts.ca;
  }

  /** The API server requests go to now. */
  get server(): string {
    return this.servers[this.current];
  }

  /** The path of a collection or (with name) an object, optionally a subresource. */
  static path(ref: ResourceRef, name?: string, subresource?: string): string {
    return resourcePath(ref, name, subresource);
  }

  /** A JSON request to any API path: discovery documents (/apis/GROUP/VERSION) and subresources such as scale. */
  async request<T = KubeObject>(method: 'GET' | 'PUT', path: string, body?: unknown): Promise<T> {
    return this.json<T>(method, path, body);
  }

  async get<T = KubeObject>(ref: ResourceRef, name: string): Promise<T> {
    return this.json<T>('GET', KubeClient.path(ref, name));
  }

  async getOrNull<T = KubeObject>(ref: ResourceRef, name: string): Promise<T | null> {
    try {
      return await this.get<T>(ref, name);
    } catch (err) {
      if (err instanceof TugError && err.kind === 'not-found') return null;
      throw err;
    }
  }

  async list<T = KubeObject>(ref: ResourceRef, opts: ListOptions = {}): Promise<KubeList<T>> {
    return this.json<KubeList<T>>('GET', KubeClient.path(ref) + query({ ...opts }));
  }

  async create<T = KubeObject>(ref: ResourceRef, obj: object): Promise<T> {
    return this.json<T>('POST', KubeClient.path(ref), obj);
  }

  async update<T = KubeObject>(ref: ResourceRef, obj: KubeObject): Promise<T> {
    return this.json<T>('PUT', KubeClient.path(ref, obj.metadata.name), obj);
  }

  async updateStatus<T = KubeObject>(ref: ResourceRef, obj: KubeObject): Promise<T> {
    return this.json<T>('PUT', KubeClient.path(ref, obj.metadata.name, 'status'), obj);
  }

  /** patchType: 'merge' (application/merge-patch+json) or 'strategic' or 'json'. */
  async patch<T = KubeObject>(ref: ResourceRef, name: string, patch: unknown, opts: { subresource?: 'status'; patchType?: 'merge' | 'strategic' | 'json' } = {}): Promise<T> {
    const ct = { merge: 'application/merge-patch+json', strategic: 'application/strategic-merge-patch+json', json: 'application/json-patch+json' }[opts.patchType ?? 'merge'];
    return this.json<T>('PATCH', KubeClient.path(ref, name, opts.subresource), patch, ct);
  }

  async delete(ref: ResourceRef, name: string, opts: { gracePeriodSeconds?: number; uid?: string; propagationPolicy?: string } = {}): Promise<void> {
    const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
    if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
    if (opts.uid) body.preconditions = { uid: opts.uid };
    if (opts.propagationPolicy) body.propagationPolicy = opts.propagationPolicy;
    await this.json('DELETE', KubeClient.path(ref, name), body);
  }

  /**
   * Streams watch events from resourceVersion until the server ends the
   * stream or signal aborts. An ERROR event with code 410 throws a 'gone'
   * TugError, so callers (the informer) know to relist.
   */
  async *watch<T = KubeObject>(ref: ResourceRef, opts: ListOptions & { signal?: AbortSignal; timeoutSeconds?: number } = {}): AsyncGenerator<WatchEvent<T>> {
    const q = query({ ...opts, watch: '1', allowWatchBookmarks: 'true', timeoutSeconds: opts.timeoutSeconds ?? 300 });
    const server = this.current;
    const res = await this.send('GET', KubeClient.path(ref) + q, undefined, undefined, opts.signal, true);
    if ((res.statusCode ?? 500) >= 400) throw await errorOf(res);
    let buf = '';
    // Silence longer than the server's bookmark period many times over: it hangs. The caller re-watches, on the next server.
    const idleMs = this.opts.watchIdleMs ?? DEFAULT_WATCH_IDLE_MS;
    let idle = false;
    const silence = () => {
      idle = true;
      this.leave(server);
      res.destroy();
    };
    const timer = setTimeout(silence, idleMs);
    try {
      for await (const chunk of res) {
        timer.refresh();
        buf += String(chunk);
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          const ev = JSON.parse(line) as WatchEvent<T>;
          if (ev.type === 'ERROR') {
            const st = ev.object as unknown as { code?: number; message?: string };
            throw new TugError(kindByStatus[st.code ?? 500] ?? 'internal', st.message ?? 'watch error');
          }
          yield ev;
        }
      }
      if (idle) throw new TugError('unavailable', `watch ${this.servers[server]}${KubeClient.path(ref)}: nothing from the server in ${idleMs} ms`);
    } catch (err) {
      if (opts.signal?.aborted) return;
      if (idle) throw new TugError('unavailable', `watch ${this.servers[server]}${KubeClient.path(ref)}: nothing from the server in ${idleMs} ms`);
      throw err;
    } finally {
      clearTimeout(timer);
      res.destroy();
    }
  }

  /** Requests go to the next server from now on, unless another request already moved on from `i`. */
  private leave(i: number): void {
    if (this.current === i) this.current = (i + 1) % this.servers.length;
  }

  close(): void {
    for (const a of [this.agents, ...this.retired.splice(0)]) {
      a.requests.destroy();
      a.watches.destroy();
    }
  }

  private async json<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const res = await this.send(method, path, body === undefined ? undefined : JSON.stringify(body), contentType);
    if ((res.statusCode ?? 500) >= 400) throw await errorOf(res);
    const text = await readAll(res);
    return (text ? JSON.parse(text) : {}) as T;
  }

  /**
   * One request, to the current server. When that server cannot be reached the
   * next one becomes current; the request itself goes to it too if it was never
   * sent (connection refused, no route), since then it had no effect. A request
   * cut off midway is not repeated (it may have been applied): its caller gets
   * 'unavailable', as informers and heartbeats expect, and tries again.
   */
  private async send(method: string, path: string, body?: string, contentType?: string, signal?: AbortSignal, stream = false): Promise<import('node:http').IncomingMessage> {
    let staleRetried = false;
    for (let attempt = 1; ; attempt++) {
      const i = this.current;
      try {
        return await this.sendTo(this.servers[i], method, path, body, contentType, signal, stream, attempt < this.servers.length);
      } catch (err) {
        if (signal?.aborted) throw new TugError('unavailable', 'request aborted');
        const code = (err as NodeJS.ErrnoException).code ?? '';
        // A kept-alive socket the server closed while idle fails at once with ECONNRESET
        // and no response: the server never read the request, so any method goes again, once.
        if ((err as StaleSocketError).staleSocket && !staleRetried) {
          staleRetried = true;
          attempt--;
          continue;
        }
        if (notSent.has(code) || brokenOff.has(code)) this.leave(i);
        // A read cut off (or left unanswered) may be asked again: it changed nothing.
        const again = notSent.has(code) || (method === 'GET' && brokenOff.has(code));
        if (!again || attempt >= this.servers.length) throw new TugError('unavailable', `${method} ${this.servers[i]}${path}: ${(err as Error).message}`);
      }
    }
  }

  /** othersLeft: another server may be tried if this one does not finish its handshake in time (else only the request timeout applies). */
  private sendTo(server: string, method: string, path: string, body: string | undefined, contentType: string | undefined, signal: AbortSignal | undefined, stream: boolean, othersLeft: boolean): Promise<import('node:http').IncomingMessage> {
    const base = new URL(server);
    const connectMs = this.opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const requestMs = this.opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
      if (body !== undefined) {
        headers['content-type'] = contentType ?? 'application/json';
        headers['content-length'] = String(Buffer.byteLength(body));
      }
      const req = request({ host: base.hostname, port: base.port || 443, path, method, headers, agent: stream ? this.agents.watches : this.agents.requests, signal });
      const fail = (code: string, msg: string) => req.destroy(Object.assign(new Error(msg), { code }));
      // Counted from when the request has a socket: it may first wait for a free one (MAX_REQUEST_SOCKETS).
      let handshake: NodeJS.Timeout | undefined;
      const answer = setTimeout(() => fail(RESPONSE_TIMEOUT, `no ${stream ? 'response' : 'complete response'} within ${requestMs} ms`), requestMs);
      const done = () => {
        clearTimeout(handshake);
        clearTimeout(answer);
      };
      req.on('socket', (sock) => {
        // A kept-alive socket is connected already; a new one is once its handshake is done.
        if (req.reusedSocket || !othersLeft) return;
        handshake = setTimeout(() => fail(CONNECT_TIMEOUT, `no TLS handshake within ${connectMs} ms`), connectMs);
        sock.once('secureConnect', () => clearTimeout(handshake));
      });
      req.on('response', (res) => {
        answered = true;
        clearTimeout(handshake);
        if (stream) clearTimeout(answer);
        else res.once('close', done);
        resolve(res);
      });
      let answered = false;
      req.on('error', (err) => {
        done();
        if (req.reusedSocket && !answered && (err as NodeJS.ErrnoException).code === 'ECONNRESET') (err as StaleSocketError).staleSocket = true;
        reject(err);
      });
      req.on('close', () => clearTimeout(handshake));
      req.end(body);
    });
  }
}

type StaleSocketError = Error & { staleSocket?: boolean };
interface Agents {
  requests: Agent;
  watches: Agent;
}
/** Below the API server's keepAliveTimeout (65 s). */
const IDLE_SOCKET_MS = 55_000;
const CONNECT_TIMEOUT = 'ETUG_CONNECT_TIMEOUT';
const RESPONSE_TIMEOUT = 'ETUG_RESPONSE_TIMEOUT';
/** Connection failures where the request never reached the server (no TLS session: nothing was sent). */
const notSent = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', CONNECT_TIMEOUT]);
/** Connection failures after the request may have been sent. */
const brokenOff = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', RESPONSE_TIMEOUT]);

function query(opts: Record<string, unknown>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(opts)) if (v !== undefined && v !== '' && k !== 'signal') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** The whole response body (listeners, not an async iterator: this runs for every call). */
function readAll(res: import('node:http').IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.once('end', () => resolve(Buffer.concat(chunks).toString()));
    res.once('error', reject);
    // A connection that dies mid-body ends the response with 'aborted'/'close' but no 'end'.
    res.once('close', () => {
      if (!res.complete) reject(new TugError('unavailable', 'the connection closed before the response body ended'));
    });
  });
}

async function errorOf(res: import('node:http').IncomingMessage): Promise<TugError> {
  const text = await readAll(res);
  let msg = text;
  let reason = '';
  try {
    const st = JSON.parse(text) as { message?: string; reason?: string };
    msg = st.message ?? text;
    reason = st.reason ?? '';
  } catch {
    /* not a Status object */
  }
  // 409 is both AlreadyExists and Conflict; the Status reason tells them apart.
  const kind = reason === 'AlreadyExists' ? 'already-exists' : (kindByStatus[res.statusCode ?? 500] ?? 'internal');
  return new TugError(kind, msg || `HTTP ${res.statusCode}`);
}
