// The agent's streaming endpoint (the kubelet's :10250 role), on the node's
// address (its InternalIP, 127.0.0.1 only on a machine without a network): the API server proxies pods/log, pods/exec and pods/attach here.
//   GET /containerLogs/{ns}/{pod}/{container}?follow&previous&tailLines&timestamps&sinceSeconds
//   GET /exec/{ns}/{pod}/{container}?command=..&stdin&stdout&stderr&tty   (websocket)
//   GET /attach/{ns}/{pod}/{container}?stdin&stdout&stderr&tty            (websocket)
//   GET /portForward/{ns}/{pod}      (SPDY/3.1 upgrade or websocket tunnel: port-forward.ts)
//   GET /stats/summary               (the kubelet's Summary: stats-summary.ts)
//   GET /metrics/resource            (the kubelet's resource metrics: resource-metrics.ts)
//   GET /metrics                     (the agent's own Prometheus series: agent-metrics.ts, plus process_*)
//   GET /metrics/cadvisor            (per-container CPU, memory, network under cAdvisor's names: cadvisor-metrics.ts)
// HTTPS only, with the serving certificate the cluster issued this node
// (serving-cert.ts; a renewed one is used by new connections at once). A
// client certificate is asked for and, when given, must chain to the cluster
// CA, or the connection is dropped (Go's VerifyClientCertIfGiven, as the
// kubelet). Every request must come from a user allowed nodes/proxy on this node
// (SubjectAccessReview): a client certificate's (the API server presents
// its kubelet-client one) or a bearer token's the API server vouches for
// (TokenReview): agent-auth.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { uptime } from 'node:os';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Engine } from '../../engine/engine.js';
import type { ContainerService } from '../../engine/container-service.js';
import type { ContainerRecord } from '../../engine/container-record.js';
import { messageOf, notFound, invalid, TugError } from '../../errdefs.js';
import { L } from './labels.js';
import { serveStream, channelProtocols } from './stream-channels.js';
import { createPortForwarder } from './port-forward.js';
import type { AgentAuth } from './agent-auth.js';
import { queryBool } from '../../kube/api/query-params.js';
import { UsageTracker } from './resource-usage.js';
import { statsSummary } from './stats-summary.js';
import { resourceMetricsText } from './resource-metrics.js';
import { cadvisorMetricsText } from './cadvisor-metrics.js';
import type { AgentMetrics } from './agent-metrics.js';
import type { ServingCertificate } from './serving-cert.js';
import { METRICS_CONTENT_TYPE, processMetrics, sendMetrics } from '../../util/metrics-registry.js';

export interface AgentServer {
  port: number;
  close(): Promise<void>;
}

/** The attempts of one container of a pod (by namespace/name), oldest first. */
function attemptsOf(engine: Engine, ns: string, pod: string, container: string): ContainerRecord[] {
  return engine.containers
    .all()
    .filter((c) => c.Config.Labels?.[L.podNamespace] === ns && c.Config.Labels[L.podName] === pod && c.Config.Labels[L.container] === container && c.Config.Labels[L.role] !== 'sandbox')
    .sort((a, b) => Number(a.Config.Labels[L.attempt]) - Number(b.Config.Labels[L.attempt]) || a.Created.localeCompare(b.Created));
}

function statusOf(err: unknown): number {
  if (!(err instanceof TugError)) return 500;
  const byKind: Partial<Record<string, number>> = { 'not-found': 404, invalid: 400, conflict: 409, unauthorized: 401, forbidden: 403, unavailable: 503 };
  return byKind[err.kind] ?? 500;
}

const reasons: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 503: 'Service Unavailable' };

export interface AgentServerTls {
  /** The node's serving certificate (kept, issued, renewed). */
  serving: ServingCertificate;
  /** The cluster CA: client certificates must chain to it. */
  clientCa: string;
}

export async function startAgentServer(containers: ContainerService, auth: AgentAuth, metrics: AgentMetrics, tls: AgentServerTls, host = '127.0.0.1'): Promise<AgentServer> {
  const { engine } = containers;
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => channelProtocols.find((p) => protocols.has(p)) ?? false });
  const portForwarder = createPortForwarder(engine);
  const usage = new UsageTracker(engine);
  const bootTime = new Date(Date.now() - uptime() * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  const contextOf = (p: { cert: string; key: string }) => ({ cert: p.cert, key: p.key, ca: tls.clientCa });
  const server = createServer({ ...contextOf(tls.serving.current), requestCert: true, rejectUnauthorized: false }, (req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) res.writeHead(statusOf(err), { 'content-type': 'text/plain' });
      res.end(messageOf(err));
    });
  });
  // Connections made from now on get the renewed certificate; open ones keep theirs.
  tls.serving.onChange((p) => server.setSecureContext(contextOf(p)));
  // A client certificate that is given must verify; without one, a bearer token may still do (agent-auth.ts).
  server.on('secureConnection', (socket: TLSSocket) => {
    if (!socket.authorized && Object.keys(socket.getPeerCertificate()).length) socket.destroy();
  });

  const target = (path: string): { kind: string; ns: string; pod: string; container: string } => {
    const segs = path.split('/').filter(Boolean).map(decodeURIComponent);
    if (segs.length !== 4) throw invalid(`bad path ${path}`);
    return { kind: segs[0], ns: segs[1], pod: segs[2], container: segs[3] };
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    await auth.check(req);
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/stats/summary') {
      const body = JSON.stringify(statsSummary(auth.nodeName, bootTime, await usage.snapshot()));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      return void res.end(body);
    }
    if (url.pathname === '/metrics/resource') {
      const body = resourceMetricsText(await usage.snapshot());
      res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
      return void res.end(body);
    }
    if (url.pathname === '/metrics/cadvisor') {
      const body = await cadvisorMetricsText(await usage.snapshot());
      res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
      return void res.end(body);
    }
    if (url.pathname === '/metrics') return sendMetrics(res, [processMetrics(), metrics.registry]);
    const t = target(url.pathname);
    if (t.kind !== 'containerLogs') throw notFound(`no handler for ${url.pathname}`);
    const q = url.searchParams;
    const attempts = attemptsOf(engine, t.ns, t.pod, t.container);
    const previous = queryBool(q, 'previous');
    const c = previous ? attempts[attempts.length - 2] : attempts[attempts.length - 1];
    if (!c) {
      throw previous
        ? invalid(`previous terminated container "${t.container}" in pod "${t.pod}" not found`)
        : invalid(`container "${t.container}" in pod "${t.pod}" is waiting to start: ContainerCreating`);
    }
    const tail = q.get('tailLines') ? Number(q.get('tailLines')) : undefined;
    const sinceSeconds = q.get('sinceSeconds') ? Number(q.get('sinceSeconds')) : undefined;
    const since = q.get('sinceTime') ? new Date(q.get('sinceTime')!) : sinceSeconds ? new Date(Date.now() - sinceSeconds * 1000) : undefined;
    const timestamps = queryBool(q, 'timestamps');
    const follow = queryBool(q, 'follow') && !previous;
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.flushHeaders();
    const abort = new AbortController();
    req.once('close', () => abort.abort());
    res.once('close', () => abort.abort());
    try {
      for await (const e of containers.logs(c.Id, { follow, since, tail, signal: abort.signal })) {
        res.write(timestamps ? Buffer.concat([Buffer.from(e.time.toISOString().replace('Z', '000000Z') + ' '), e.data]) : e.data);
      }
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    }
    res.end();
  }

  server.on('upgrade', (req, socket, head) => {
    void upgrade(req, socket, head).catch((err) => {
      const code = statusOf(err);
      socket.end(`HTTP/1.1 ${code} ${reasons[code] ?? 'Error'}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${messageOf(err)}`);
    });
  });

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    await auth.check(req);
    const url = new URL(req.url ?? '/', 'http://x');
    const pf = url.pathname.match(/^\/portForward\/([^/]+)\/([^/]+)$/);
    if (pf) {
      portForwarder.handleUpgrade(req, socket, head, decodeURIComponent(pf[1]), decodeURIComponent(pf[2]));
      return;
    }
    const t = target(url.pathname);
    if (t.kind !== 'exec' && t.kind !== 'attach') throw notFound(`no streaming handler for ${url.pathname}`);
    const attempts = attemptsOf(engine, t.ns, t.pod, t.container);
    const c = attempts[attempts.length - 1];
    if (!c?.State.Running) throw invalid(`container ${t.container} is not running`);
    wss.handleUpgrade(req, socket, head, (ws) => {
      void serveStream(ws, { kind: t.kind as 'exec' | 'attach', containers, container: c, query: url.searchParams }).catch(() => ws.close());
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        portForwarder.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
