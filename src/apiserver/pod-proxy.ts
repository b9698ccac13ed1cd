// pods/log, pods/exec and pods/attach: the API server finds the pod's node and
// relays the request to that node's agent (node.status.daemonEndpoints, at
// the node's InternalIP), as kube-apiserver relays to the kubelet. Plain requests (logs)
// are streamed through; upgrades (kubectl's websocket exec/attach) become a
// byte pipe after the API server has authenticated and authorized them.
// Every hop to an agent is TLS both ways (kubelet-client.ts): the agent's
// serving certificate is verified against the cluster CA and the node's
// address, and the API server presents its kubelet-client certificate, which
// the agent authorizes for nodes/proxy (SubjectAccessReview).
import { nodeAgentEndpoint } from './node-endpoint.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { TugError, invalid } from '../errdefs.js';
import type { ObjectStore } from './object-store.js';
import type { Authenticator } from './authn.js';
import type { RbacAuthorizer } from './rbac.js';
import { statusFromError } from './status.js';
import { relayFromAgent } from './ws-frame-relay.js';
import { agentConnect, agentRequest, type KubeletClientTls } from './kubelet-client.js';

export const podProxySubresources = new Set(['log', 'exec', 'attach']);
const agentPathKind: Record<string, string> = { log: 'containerLogs', exec: 'exec', attach: 'attach' };

interface ProxyConfig {
  objects: ObjectStore;
  /** How the API server reaches agents: the CA their serving certificates chain to, and its own client certificate. */
  kubeletClient: KubeletClientTls;
}

interface AgentTarget {
  nodeName: string;
  /** The node's InternalIP: agents listen on their node's address. */
  host: string;
  port: number;
  path: string;
}

async function agentTarget(objects: ObjectStore, ns: string, name: string, sub: string, url: URL): Promise<AgentTarget> {
  const reg = objects.registry;
  const pod = await objects.get(reg.lookup('', 'v1', 'pods')!, ns, name);
  const nodeName = pod.spec?.nodeName as string | undefined;
  if (!nodeName) throw invalid(`pod ${name} does not have a host assigned`);
  const node = await objects.getOrNull(reg.lookup('', 'v1', 'nodes')!, undefined, nodeName);
  const endpoint = nodeAgentEndpoint(node);
  if (!endpoint) throw new TugError('unavailable', `node ${nodeName} has no agent endpoint`);
  const { host, port } = endpoint;
  // Port-forward targets the pod (its IP), not a container: /portForward/{ns}/{pod}, with the ports a websocket client asks for.
  if (sub === 'portforward') return { nodeName, host, port, path: `/portForward/${encodeURIComponent(ns)}/${encodeURIComponent(name)}${url.search}` };
  const q = new URLSearchParams(url.searchParams);
  let container = q.get('container');
  q.delete('container');
  const containers = (pod.spec?.containers ?? []) as Array<{ name: string }>;
  if (!container) {
    const byAnnotation = pod.metadata?.annotations?.['kubectl.kubernetes.io/default-container'];
    container = byAnnotation ?? containers[0]?.name;
  }
  const all = [...containers, ...((pod.spec?.initContainers ?? []) as Array<{ name: string }>)];
  if (!all.some((c) => c.name === container)) throw invalid(`container ${container} is not valid for pod ${name}`);
  const qs = q.toString();
  return { nodeName, host, port, path: `/${agentPathKind[sub]}/${encodeURIComponent(ns)}/${encodeURIComponent(name)}/${encodeURIComponent(container!)}${qs ? `?${qs}` : ''}` };
}

/** GET pods/log (and any non-upgrade request for the other subresources). */
export async function proxyPodSubresource(cfg: ProxyConfig, req: IncomingMessage, res: ServerResponse, ns: string, name: string, sub: string, url: URL): Promise<void> {
  const t = await agentTarget(cfg.objects, ns, name, sub, url);
  await new Promise<void>((resolve, reject) => {
    const up = agentRequest(cfg.kubeletClient, t, { path: t.path, method: 'GET' }, (ur) => {
      if ((ur.statusCode ?? 500) >= 400) {
        const chunks: Buffer[] = [];
        ur.on('data', (c: Buffer) => chunks.push(c));
        ur.on('end', () => reject(agentError(ur.statusCode ?? 500, Buffer.concat(chunks).toString())));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
      res.flushHeaders();
      ur.pipe(res);
      ur.on('end', resolve);
      ur.on('error', resolve);
    }, reject, t.nodeName);
    req.once('close', () => up.destroy());
    res.once('close', () => up.destroy());
    up.end();
  });
}

/** An agent's refusal as the API server's error: its own 401/403 mean the proxy's credential was refused (a server-side fault). */
function agentError(status: number, body: string): TugError {
  const msg = body || `agent answered ${status}`;
  if (status === 404) return new TugError('not-found', msg);
  if (status === 401 || status === 403) return new TugError('internal', `node agent refused the API server: ${msg}`);
  if (status >= 500) return new TugError('unavailable', msg);
  return new TugError('invalid', msg);
}

/** The HTTPS server's 'upgrade' handler: exec and attach over websocket, portforward over SPDY/3.1 or its websocket tunnel. */
export function podProxyUpgrade(cfg: ProxyConfig & { authn: Authenticator; authz: RbacAuthorizer }) {
  return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'https://x');
      const m = url.pathname.match(/^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|attach|portforward)$/);
      if (!m) throw new TugError('not-found', 'the server could not find the requested resource');
      const [, ns, name, sub] = m.map(decodeURIComponent);
      const user = await cfg.authn.authenticate(req);
      if (!user) throw new TugError('unauthorized', 'Unauthorized');
      const d = await cfg.authz.authorize(user, { verb: 'create', group: '', resource: 'pods', subresource: sub, namespace: ns, name });
      if (!d.allowed) throw new TugError('forbidden', `pods "${name}" is forbidden: User "${user.name}" cannot create resource "pods/${sub}" in API group "" in the namespace "${ns}"`);
      const t = await agentTarget(cfg.objects, ns, name, sub, url);
      const up = await agentConnect(cfg.kubeletClient, t, t.nodeName);
      const headers: string[] = [`GET ${t.path} HTTP/1.1`, `Host: ${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const k = req.rawHeaders[i].toLowerCase();
        if (k === 'host' || k === 'authorization') continue;
        headers.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      }
      // The caller's own credential stays here; the agent sees the API server's client certificate.
      up.write(`${headers.join('\r\n')}\r\n\r\n`);
      if (head.length) up.write(head);
      void relayFromAgent(up, socket)
        .then(() => socket.end())
        .catch(() => socket.destroy());
      socket.pipe(up);
      up.on('error', () => socket.destroy());
      socket.on('error', () => up.destroy());
      // The relay ends the client's socket once the agent's last frame is written.
      socket.on('close', () => up.destroy());
    })().catch((err) => {
      const st = statusFromError(err);
      const body = `${JSON.stringify(st)}\n`;
      socket.end(`HTTP/1.1 ${st.code} ${st.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    });
  };
}

