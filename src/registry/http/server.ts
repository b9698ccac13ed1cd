// The registry HTTP(S) server: routing, auth, read-only mode, upload purging.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFile, mkdir } from 'node:fs/promises';
import { ensureDir } from '../../util/dir-mode.js';
import type { AddressInfo } from 'node:net';
import { Registry } from '../registry.js';
import { regError } from '../errors.js';
import { checkName } from '../names.js';
import { Authorizer, type Need } from '../auth/access.js';
import { Htpasswd } from '../auth/htpasswd.js';
import { loadPrivateKey, loadPublicKey } from '../auth/jwt.js';
import { issueToken, type IssuerConfig } from '../auth/token-issuer.js';
import { acquireWriteLock, type WriteLock } from '../lock.js';
import { invalid, messageOf } from '../../errdefs.js';
import * as h from './handlers.js';
import { readSmallBody, send, sendError, sendJson } from './respond.js';
import { RegistryMetrics } from './registry-metrics.js';
import { processMetrics, sendMetrics } from '../../util/metrics-registry.js';

export interface TokenOptions {
  /** Realm URL clients get tokens from; defaults to this server's /token when issuing itself. */
  realm?: string;
  service: string;
  issuer: string;
  /** PEM certificate (or public key) whose key verifies tokens. */
  certFile: string;
  /** PEM private key; needed only with issueForHtpasswd. */
  keyFile?: string;
  /** Serve GET /token here, checking Basic credentials against the htpasswd file. */
  issueForHtpasswd?: boolean;
}

export interface RegistryServerOptions {
  root: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  htpasswdFile?: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  readOnly?: boolean;
  token?: TokenOptions;
  /** Upload sessions older than this are removed (default 24 h). */
  uploadTtlMs?: number;
  /** Blob writes in flight at once; beyond this, 429 TOOMANYREQUESTS (default 128). */
  maxConcurrentUploads?: number;
  /** How often to look for abandoned uploads (default 1 h). */
  purgeIntervalMs?: number;
  log?: (line: string) => void;
  /** Called after each response (an access log; tests use it to see which path a client took). */
  onResponse?: (method: string, url: string, status: number) => void;
}

export interface RunningRegistry {
  /** Base URL, e.g. http://127.0.0.1:5000 */
  url: string;
  host: string;
  port: number;
  registry: Registry;
  close(): Promise<void>;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** handler: Distribution's route name, the label of the registry_http_* series. */
type Route = { needs: Need[]; handler: string; name?: string; writesBlob?: boolean; run: (ctx: h.Ctx) => Promise<void> };

function actionsFor(method: string): string[] {
  if (method === 'GET' || method === 'HEAD') return ['pull'];
  if (method === 'DELETE') return ['delete'];
  return ['pull', 'push'];
}

/** Map method + path to a handler and the access it needs; undefined = no such endpoint. */
function route(method: string, path: string): Route | 'method' | undefined {
  if (path === '/v2/' || path === '/v2') {
    return method === 'GET' || method === 'HEAD' ? { needs: [], handler: 'base', run: async (c) => sendJson(c.res, 200, {}) } : 'method';
  }
  if (path === '/v2/_catalog') {
    return method === 'GET' ? { needs: [{ type: 'registry', name: 'catalog', actions: ['*'] }], handler: 'catalog', run: h.catalog } : 'method';
  }
  const table: [RegExp, string, Record<string, (c: h.Ctx, name: string, ref: string) => Promise<void>>][] = [
    [/^\/v2\/(.+)\/tags\/list$/, 'tags', { GET: (c, n) => h.listTags(c, n) }],
    [/^\/v2\/(.+)\/manifests\/([^/]+)$/, 'manifest', { GET: h.getManifest, HEAD: h.getManifest, PUT: h.putManifest, DELETE: h.deleteManifest }],
    [/^\/v2\/(.+)\/blobs\/uploads\/?$/, 'blob_upload', { POST: (c, n) => h.startUpload(c, n) }],
    [
      /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/,
      'blob_upload_chunk',
      { GET: h.uploadStatus, PATCH: h.patchUpload, PUT: h.finishUpload, DELETE: h.cancelUpload },
    ],
    [/^\/v2\/(.+)\/blobs\/([^/]+)$/, 'blob', { GET: h.getBlob, HEAD: h.getBlob, DELETE: h.deleteBlob }],
    [/^\/v2\/(.+)\/referrers\/([^/]+)$/, 'referrers', { GET: h.referrers }],
  ];
  for (const [re, handler, methods] of table) {
    const m = re.exec(path);
    if (!m) continue;
    const fn = methods[method];
    if (!fn) return 'method';
    const name = checkName(m[1]);
    const ref = m[2] ?? '';
    const writesBlob = (method === 'PATCH' || method === 'PUT' || method === 'POST') && re.source.includes('uploads');
    return { name, handler, writesBlob, needs: [{ type: 'repository', name, actions: actionsFor(method) }], run: (c) => fn(c, name, ref) };
  }
  return undefined;
}

async function loadAuth(opts: RegistryServerOptions, selfUrl: (host: string | undefined) => string): Promise<{ auth: Authorizer; issuer?: IssuerConfig }> {
  const htpasswd = opts.htpasswdFile ? await Htpasswd.load(opts.htpasswdFile) : undefined;
  if (!opts.token) return { auth: new Authorizer(htpasswd) };
  const t = opts.token;
  const publicKey = loadPublicKey(await readFile(t.certFile, 'utf8'));
  let issuer: IssuerConfig | undefined;
  if (t.issueForHtpasswd) {
    if (!htpasswd) throw invalid('--token-issuer-for-htpasswd needs --htpasswd FILE');
    if (!t.keyFile) throw invalid('--token-issuer-for-htpasswd needs --token-key FILE');
    issuer = { htpasswd, privateKey: loadPrivateKey(await readFile(t.keyFile, 'utf8')), issuer: t.issuer, service: t.service };
  } else if (!t.realm) {
    throw invalid('token auth needs --token-realm URL (or --token-issuer-for-htpasswd)');
  }
  const cfg = { service: t.service, issuer: t.issuer, publicKey, realm: t.realm ?? ((host: string | undefined) => `${selfUrl(host)}/token`) };
  return { auth: new Authorizer(undefined, cfg), issuer };
}

export async function startRegistryServer(opts: RegistryServerOptions): Promise<RunningRegistry> {
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const tls = opts.tlsCertFile !== undefined || opts.tlsKeyFile !== undefined;
  if (tls && !(opts.tlsCertFile && opts.tlsKeyFile)) throw invalid('TLS needs both --tls-cert and --tls-key');
  let url = '';
  // Our own realm is named after the Host the client used, so it works behind 0.0.0.0 too.
  const { auth, issuer } = await loadAuth(opts, (host) => (host && /^[A-Za-z0-9.:[\]-]+$/.test(host) ? `${tls ? 'https' : 'http'}://${host}` : url));
  const reg = new Registry(opts.root);
  // 0700: blobs and manifests are for clients that pass the registry's auth,
  // not for every local user. A read-only registry may sit on a read-only
  // filesystem, so it leaves the mode as it is.
  if (opts.readOnly) await mkdir(opts.root, { recursive: true });
  else await ensureDir(opts.root, 0o700);
  const lock: WriteLock | undefined = opts.readOnly ? undefined : await acquireWriteLock(opts.root, 'tug registry serve');
  const ttl = opts.uploadTtlMs ?? 24 * 3600_000;
  const maxUploads = opts.maxConcurrentUploads ?? 128;
  let uploadsInFlight = 0;
  const metrics = new RegistryMetrics();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    if (opts.onResponse) res.once('finish', () => opts.onResponse!(req.method ?? '', req.url ?? '', res.statusCode));
    const method = req.method ?? 'GET';
    const u = new URL(req.url ?? '/', 'http://registry');
    // Prometheus metrics, unauthenticated as on Distribution's debug listener; no route of the API lives outside /v2/.
    if (u.pathname === '/metrics' && (method === 'GET' || method === 'HEAD')) return sendMetrics(res, [processMetrics(), metrics.registry], method === 'HEAD');
    let handler = '';
    metrics.track(req, res, () => handler);
    try {
      if (issuer && u.pathname === '/token' && (method === 'GET' || method === 'POST')) {
        handler = 'token';
        const r =
          method === 'POST'
            ? await issueToken(issuer, undefined, new URLSearchParams((await readSmallBody(req, 64 * 1024, () => regError('SIZE_INVALID', 'token request too large'))).toString('utf8')))
            : await issueToken(issuer, req.headers.authorization, u.searchParams);
        if (r.ok) return sendJson(res, 200, r.body);
        const headers: Record<string, string> = r.status === 401 ? { 'WWW-Authenticate': 'Basic realm="tug-registry-token"' } : {};
        return sendJson(res, r.status, { errors: [{ code: 'UNAUTHORIZED', message: r.message }] }, headers);
      }
      const r = route(method, u.pathname);
      if (typeof r === 'object') handler = r.handler;
      if (r === undefined) throw regError('UNSUPPORTED', `no such endpoint ${method} ${u.pathname.slice(0, 200)}`, undefined, 404);
      if (r === 'method') throw regError('UNSUPPORTED', `method ${method} not allowed on ${u.pathname.slice(0, 200)}`);
      const denial = await auth.check(req.headers.authorization, r.needs, req.headers.host);
      if (denial) {
        const headers: Record<string, string> = denial.challenge ? { 'WWW-Authenticate': denial.challenge } : {};
        return sendJson(res, denial.status, { errors: [{ code: denial.code, message: denial.message, detail: r.needs }] }, headers);
      }
      if (opts.readOnly && WRITE_METHODS.has(method)) {
        throw regError('UNSUPPORTED', 'the registry is in read-only mode');
      }
      if (r.writesBlob) {
        // Each blob write holds a file and a hash; bound them so a flood cannot exhaust fds.
        if (uploadsInFlight >= maxUploads) throw regError('TOOMANYREQUESTS', `more than ${maxUploads} blob uploads in flight; retry later`);
        uploadsInFlight++;
        res.once('close', () => uploadsInFlight--);
      }
      const ctx: h.Ctx = {
        reg,
        req,
        res,
        query: u.searchParams,
        canPull: async (repo) => (await auth.check(req.headers.authorization, [{ type: 'repository', name: repo, actions: ['pull'] }])) === undefined,
      };
      await r.run(ctx);
    } catch (err) {
      // A client that hangs up mid-stream is not a server error worth logging.
      const hungUp = res.headersSent || req.destroyed;
      const { status } = sendError(res, err);
      if (status >= 500 && !hungUp) log(`registry: ${method} ${u.pathname}: ${messageOf(err)}`);
    }
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err) => {
      log(`registry: ${messageOf(err)}`);
      if (!res.headersSent) send(res, 500);
      else res.destroy();
    });
  };
  // No request timeout: a 600 MB layer over a slow link is a legitimate long request.
  const serverOpts = { requestTimeout: 0, keepAliveTimeout: 30_000 };
  let server: Server;
  try {
    server = tls
      ? createHttpsServer({ ...serverOpts, cert: await readFile(opts.tlsCertFile!), key: await readFile(opts.tlsKeyFile!) }, listener)
      : createHttpServer(serverOpts, listener);
    await reg.uploads.purgeStale(ttl);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 5000, opts.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await lock?.release();
    throw err;
  }
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  url = `${tls ? 'https' : 'http'}://${host}:${addr.port}`;
  const timer = setInterval(() => {
    reg.uploads.purgeStale(ttl).catch((err) => log(`registry: purging uploads: ${messageOf(err)}`));
  }, opts.purgeIntervalMs ?? 3600_000);
  timer.unref();

  let closed: Promise<void> | undefined;
  return {
    url,
    host: addr.address,
    port: addr.port,
    registry: reg,
    close: () =>
      (closed ??= (async () => {
        clearInterval(timer);
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await lock?.release();
      })()),
  };
}
