// The dashboard's door to the Kubernetes API: requests under /api/kube/* go to
// the API server with the logged-in user's own bearer token, so the API
// server's authentication and RBAC decide every read and write (as the
// Kubernetes Dashboard does); the dashboard holds no rights of its own there.
// Watches and logs stream through; WebSocket upgrades (pod exec) are relayed
// byte for byte after the API server's 101. Secret values are blanked unless
// the page asks for them (?showSecretValues=1), so a list never shows them.
import { request, type RequestOptions } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { forwardHeaders, relayResponse, relayRequest, eachLine } from './relay.js';

export interface KubeTarget {
  /** https://HOST:PORT of the API server. */
  url: string;
  /** The cluster CA that signed its serving certificate. */
  ca: string;
}

function options(t: KubeTarget, path: string, method: string, headers: Record<string, string | string[]>): RequestOptions {
  const u = new URL(t.url);
  return { host: u.hostname, port: Number(u.port), path, method, headers, ca: t.ca, servername: u.hostname === '127.0.0.1' ? undefined : u.hostname };
}

/** Secrets (one or a list) with each value replaced by an empty string: keys stay visible. */
function blankSecrets(body: any): any {
  const blank = (s: any): void => {
    for (const field of ['data', 'stringData']) if (s?.[field]) for (const k of Object.keys(s[field])) s[field][k] = '';
  };
  if (body?.kind === 'Secret') blank(body);
  if (body?.kind === 'SecretList') for (const s of body.items ?? []) blank(s);
  if (body?.type && body.object?.kind === 'Secret') blank(body.object);
  return body;
}

const isSecretPath = (path: string): boolean => /\/secrets(?:\/|\?|$)/.test(path);

export function proxyToKube(t: KubeTarget, token: string, path: string, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(path, 'http://x');
  const reveal = url.searchParams.get('showSecretValues') === '1';
  url.searchParams.delete('showSecretValues');
  const upstreamPath = url.pathname + url.search;
  const redact = isSecretPath(url.pathname) && !reveal;
  const headers: Record<string, string | string[]> = { ...forwardHeaders(req.headers), authorization: `Bearer ${token}` };
  if (redact) headers['accept'] = 'application/json';
  const up = request(options(t, upstreamPath, req.method ?? 'GET', headers), (r) => relayResponse(r, res, redact ? redactSecrets : undefined));
  relayRequest(up, req, res, (message) => ({ kind: 'Status', status: 'Failure', code: 502, message: `the API server did not answer: ${message}` }));
}

/** A watch is one JSON object per line; a get or list is one object: each goes on with its Secret values blanked. */
function redactSecrets(r: IncomingMessage, res: ServerResponse): void {
  eachLine(
    r,
    (l) => res.write(`${JSON.stringify(blankSecrets(JSON.parse(l)))}\n`),
    (rest) => {
      if (rest.trim()) {
        try {
          res.write(JSON.stringify(blankSecrets(JSON.parse(rest))));
        } catch {
          // Not JSON (an error page): nothing secret in it.
          res.write(rest);
        }
      }
      res.end();
    },
  );
}

/** Relays a WebSocket upgrade (pod exec, attach, port-forward) to the API server with the user's token. */
export function relayKubeUpgrade(t: KubeTarget, token: string, path: string, req: IncomingMessage, client: Duplex, head: Buffer): void {
  const headers: Record<string, string | string[]> = { authorization: `Bearer ${token}`, connection: 'Upgrade', upgrade: 'websocket' };
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && k.startsWith('sec-websocket-')) headers[k] = v;
  const up = request(options(t, path, 'GET', headers));
  up.on('upgrade', (r, socket, upHead) => {
    const lines = [`HTTP/1.1 101 Switching Protocols`];
    for (let i = 0; i < r.rawHeaders.length; i += 2) lines.push(`${r.rawHeaders[i]}: ${r.rawHeaders[i + 1]}`);
    client.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (upHead.length) client.write(upHead);
    if (head.length) socket.write(head);
    socket.pipe(client).pipe(socket);
    socket.on('error', () => client.destroy());
    client.on('error', () => socket.destroy());
    socket.on('close', () => client.destroy());
    client.on('close', () => socket.destroy());
  });
  up.on('response', (r) => {
    client.end(`HTTP/1.1 ${r.statusCode} ${r.statusMessage}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n`);
    r.resume();
  });
  up.on('error', () => client.destroy());
  up.end();
}

/** One API server call with a JSON answer, as the holder of token. */
export function kubeJson(t: KubeTarget, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json', ...(data ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(data)) } : {}) };
    const r = request(options(t, path, method, headers), (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 502, json: text ? JSON.parse(text) : undefined });
        } catch {
          resolve({ status: res.statusCode ?? 502, json: { message: text } });
        }
      });
    });
    r.on('error', reject);
    r.end(data);
  });
}

/** Who a bearer token is, asked of the API server with the dashboard's own (admin) token: the user name, or undefined if the token is not valid. */
export async function reviewToken(t: KubeTarget, adminToken: string, token: string): Promise<string | undefined> {
  const { json } = await kubeJson(t, adminToken, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } });
  return json?.status?.authenticated ? String(json.status.user?.username ?? 'unknown') : undefined;
}
