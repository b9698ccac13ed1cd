// The dashboard's HTTP server, shared by `tug daemon` (engine) and `tug server`
// (cluster, plus its node's engine). Thin: it logs people in, checks the
// session and the CSRF token, and hands each request to the engine or the
// Kubernetes API unchanged (engine-upstream.ts, kube-upstream.ts). What a user
// may do there is decided there: the engine socket's owner may do anything,
// and the API server's RBAC judges the user's own token.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { invalid, messageOf, kindOf } from '../errdefs.js';
import { SessionStore, sessionCookie, clearedCookie, csrfMatches, sameEquals, CSRF_HEADER, type Session } from './sessions.js';
import { StaticAssets } from './static-assets.js';
import { proxyToEngine, execTerminal, statsOfMany } from './engine-upstream.js';
import { proxyToKube, relayKubeUpgrade, reviewToken, type KubeTarget } from './kube-upstream.js';
import { proxyNodeMetrics } from './node-stats.js';
import { readHub } from './registry-hub.js';
import { consumeTicket, ensureLoginToken, writeDashboardUrl, removeDashboardUrl, dashboardDir } from './dashboard-files.js';
import { formatUrl, type UiAddr } from './ui-addr.js';

export interface DashboardOptions {
  addr: UiAddr;
  /** The state directory holding ROOT/dashboard (token, url, tickets). */
  root: string;
  /** `tug daemon` or `tug server`, and the flag to name when the address is taken. */
  command: string;
  /** Set once the engine / API server is up (the listener is claimed before, so a taken port fails fast). */
  engineSocket?: string;
  kube?: KubeTarget & { adminToken: string };
  /** The registry the hub view lists (HOST:PORT, as in image names), read with the owner's `tug login` credentials. */
  registry?: string;
}

export interface Dashboard {
  url: string;
  /** The login token (ROOT/dashboard/token). */
  token: string;
  setEngine(socket: string): void;
  setKube(kube: KubeTarget & { adminToken: string }): void;
  close(): Promise<void>;
}

const MAX_LOGIN_BODY = 16 * 1024;

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }).end(data);
}

async function readBody(req: IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_LOGIN_BODY) throw invalid('request body too large');
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A request from another site (a page elsewhere posting here): its Origin names another host. */
function crossOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  return origin !== undefined && origin !== `http://${req.headers.host}`;
}

/** Claims the address (or throws naming --ui-addr) and serves the dashboard. */
export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const assets = await StaticAssets.load();
  const token = await ensureLoginToken(o.root);
  const sessions = await SessionStore.open(dashboardDir(o.root));
  let engineSocket = o.engineSocket;
  let kube = o.kube;
  const wss = new WebSocketServer({ noServer: true });

  // The owner acts in the cluster with the daemon's admin token, looked up when used (it is not kept with the session).
  const kubeTokenOf = (s: Session): string | undefined => (s.engine ? kube?.adminToken : s.kubeToken);
  const login = async (given: string): Promise<Session | undefined> => {
    if (sameEquals(given, token)) return sessions.create({ user: 'owner', engine: true });
    if (!kube) return undefined;
    const user = await reviewToken(kube, kube.adminToken, given);
    return user ? sessions.create({ user, engine: false, kubeToken: given }) : undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const path = url.pathname;
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('x-frame-options', 'DENY');
    res.setHeader('referrer-policy', 'no-referrer');
    res.setHeader('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
    if ((req.method === 'GET' || req.method === 'HEAD') && !path.startsWith('/api/') && path !== '/login') {
      if (assets.serve(path, req, res)) return;
      // Views are client-side routes (#/…); anything else is not here.
      json(res, 404, { message: `no such page: ${path}` });
      return;
    }
    if (path === '/login' && req.method === 'GET') {
      const s = (await consumeTicket(o.root, url.searchParams.get('ticket') ?? '')) ? await sessions.create({ user: 'owner', engine: true }) : undefined;
      res.writeHead(303, { location: s ? '/' : '/#login-expired', 'cache-control': 'no-store', ...(s ? { 'set-cookie': sessionCookie(s.id) } : {}) }).end();
      return;
    }
    if (path === '/api/login' && req.method === 'POST') {
      // JSON only: a cross-site form cannot send it without a CORS preflight, which this server never grants.
      if (crossOrigin(req) || !String(req.headers['content-type'] ?? '').startsWith('application/json')) return json(res, 403, { message: 'login must be a same-origin JSON request' });
      let given = '';
      try {
        given = String((JSON.parse(await readBody(req)) as { token?: unknown }).token ?? '').trim();
      } catch {
        return json(res, 400, { message: 'body must be {"token": "..."}' });
      }
      if (!given) return json(res, 401, { message: 'a token is required' });
      const s = await login(given);
      if (!s) return json(res, 401, { message: 'that token is not valid here' });
      return json(res, 200, { user: s.user, engine: s.engine && !!engineSocket, kube: !!kubeTokenOf(s), registry: s.engine ? o.registry : undefined, csrf: s.csrf }, { 'set-cookie': sessionCookie(s.id) });
    }
    const s = sessions.fromRequest(req);
    if (!s) return json(res, 401, { message: 'not logged in' }, { 'set-cookie': clearedCookie });
    const changes = !(req.method === 'GET' || req.method === 'HEAD');
    if (changes && (crossOrigin(req) || !csrfMatches(s, req.headers[CSRF_HEADER] as string | undefined))) return json(res, 403, { message: 'missing or wrong CSRF token' }, { 'x-tug-csrf': 'refused' });
    if (path === '/api/session') return json(res, 200, { user: s.user, engine: s.engine && !!engineSocket, kube: !!kubeTokenOf(s), registry: s.engine ? o.registry : undefined, csrf: s.csrf });
    if (path === '/api/logout' && req.method === 'POST') {
      await sessions.delete(s.id);
      return json(res, 200, {}, { 'set-cookie': clearedCookie });
    }
    if (path === '/api/engine-stats') {
      if (!engineSocket || !s.engine) return json(res, 403, { message: `${s.user} may not use the engine` });
      return statsOfMany(engineSocket, url.searchParams.getAll('id'), res);
    }
    if (path.startsWith('/api/engine/')) {
      if (!engineSocket) return json(res, 404, { message: 'this daemon has no engine' });
      if (!s.engine) return json(res, 403, { message: `${s.user} may not use the engine: log in with the daemon's token` });
      return proxyToEngine(engineSocket, path.slice('/api/engine'.length) + url.search, req, res);
    }
    if (path === '/api/hub') {
      if (!s.engine) return json(res, 403, { message: `${s.user} may not see the registry: log in with the daemon's token` });
      if (!o.registry) return json(res, 404, { message: `no registry is configured: start ${o.command} with --ui-registry HOST:PORT` });
      try {
        return json(res, 200, await readHub(o.registry));
      } catch (err) {
        // The registry's refusal as the page's: credentials it does not take are this user's 403, an unreachable one a 502.
        const kind = kindOf(err);
        const refused = kind === 'unauthorized' || kind === 'forbidden';
        const hint = refused ? ` (the daemon reads it with the credentials \`tug login ${o.registry}\` stored for the daemon's user)` : '';
        return json(res, refused ? 403 : kind === 'unavailable' ? 502 : 500, { message: `registry ${o.registry}: ${messageOf(err)}${hint}` });
      }
    }
    const kubeToken = kubeTokenOf(s);
    if (path.startsWith('/api/node-metrics/')) {
      if (!kube || !kubeToken) return json(res, 404, { message: 'this daemon serves no cluster' });
      return proxyNodeMetrics(kube, kubeToken, decodeURIComponent(path.slice('/api/node-metrics/'.length)), req, res);
    }
    if (path.startsWith('/api/kube/')) {
      if (!kube || !kubeToken) return json(res, 404, { message: 'this daemon serves no cluster' });
      return proxyToKube(kube, kubeToken, path.slice('/api/kube'.length) + url.search, req, res);
    }
    json(res, 404, { message: `no such API: ${req.method} ${path}` });
  };

  const upgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    const refuse = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${text}\n`);
    };
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const s = sessions.fromRequest(req);
    if (!s) return refuse(401, 'Unauthorized');
    // A browser cannot set headers on a WebSocket: the CSRF token rides in the query, and the Origin must be this page.
    if (crossOrigin(req) || !csrfMatches(s, url.searchParams.get('csrf'))) return refuse(403, 'Forbidden');
    url.searchParams.delete('csrf');
    if (url.pathname === '/api/engine/exec') {
      if (!engineSocket || !s.engine) return refuse(403, 'Forbidden');
      const sock = engineSocket;
      wss.handleUpgrade(req, socket, head, (ws) => {
        const cmd = url.searchParams.getAll('cmd');
        execTerminal(sock, ws, url.searchParams.get('container') ?? '', cmd.length ? cmd : ['sh']).catch((err) => ws.close(1011, messageOf(err).slice(0, 120)));
      });
      return;
    }
    const kubeToken = kubeTokenOf(s);
    if (url.pathname.startsWith('/api/kube/') && kube && kubeToken) return relayKubeUpgrade(kube, kubeToken, url.pathname.slice('/api/kube'.length) + url.search, req, socket, head);
    refuse(404, 'Not Found');
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) json(res, 500, { message: messageOf(err) });
      else res.destroy();
    });
  });
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => undefined);
    upgrade(req, socket, head).catch(() => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const where = `${o.addr.host}:${o.addr.port}`;
      if (err.code === 'EADDRINUSE') reject(invalid(`${o.command}: the dashboard address ${where} is already in use (another tug daemon or server?): give this one another --ui-addr HOST:PORT, or --ui-addr off`));
      else reject(invalid(`${o.command}: --ui-addr ${where}: ${err.message}`));
    });
    server.listen(o.addr.port, o.addr.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.addr.port;
  const url = formatUrl(o.addr.host === '0.0.0.0' ? '127.0.0.1' : o.addr.host, port);
  await writeDashboardUrl(o.root, url);
  return {
    url,
    token,
    setEngine: (socket) => {
      engineSocket = socket;
    },
    setKube: (k) => {
      kube = k;
    },
    async close() {
      await removeDashboardUrl(o.root);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
