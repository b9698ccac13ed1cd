// One HTTP(S) request to a registry with node:http/https (streams both ways,
// Range, no buffering of blobs). Keep-alive agents are shared per process.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 16 });
const httpsAgents = new Map<string, HttpsAgent>();

export interface TlsMode {
  /** Skip certificate verification (insecure registries). */
  insecure?: boolean;
  /** Extra CAs trusted on top of the system's. */
  ca?: Buffer[];
}

export interface SendOptions {
  headers?: OutgoingHttpHeaders;
  body?: Buffer | string | Readable;
  tls?: TlsMode;
  /** Abort the request when idle this long (connect or between chunks). */
  idleTimeoutMs?: number;
}

function httpsAgentFor(tls: TlsMode | undefined): HttpsAgent {
  const key = `${tls?.insecure ? 'insecure' : 'verify'}:${tls?.ca?.map((c) => c.length).join(',') ?? ''}`;
  let a = httpsAgents.get(key);
  if (!a) {
    a = new HttpsAgent({
      keepAlive: true,
      maxSockets: 16,
      rejectUnauthorized: !tls?.insecure,
      ...(tls?.ca ? { ca: [...rootCertificates, ...tls.ca.map((c) => c.toString('utf8'))] } : {}),
    });
    httpsAgents.set(key, a);
  }
  return a;
}

/** Sends a request and resolves with the response head; the caller consumes or discards the body. */
export function send(method: string, url: URL, opts: SendOptions = {}): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const isHttps = url.protocol === 'https:';
    const headers: OutgoingHttpHeaders = { 'User-Agent': 'tug', ...(opts.headers ?? {}) };
    const body = opts.body;
    if (typeof body === 'string' || Buffer.isBuffer(body)) headers['Content-Length'] = Buffer.byteLength(body);
    const req = (isHttps ? httpsRequest : httpRequest)(url, {
      method,
      headers,
      agent: isHttps ? httpsAgentFor(opts.tls) : httpAgent,
    });
    const idle = opts.idleTimeoutMs ?? 120_000;
    req.setTimeout(idle, () => req.destroy(new Error(`no response from ${url.host} for ${Math.round(idle / 1000)}s`)));
    req.on('response', (res) => {
      // The timeout keeps watching the body: a registry that stalls mid-blob is cut off.
      res.socket?.setTimeout(idle);
      resolve(res);
    });
    req.on('error', reject);
    if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    else pipeline(body, req).catch((err: unknown) => req.destroy(err as Error));
  });
}

export async function readBody(res: IncomingMessage, limit = 16 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of res) {
    size += (c as Buffer).length;
    if (size > limit) {
      res.destroy();
      throw new Error(`response from registry larger than ${limit} bytes`);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Drops a response body we do not need, so the keep-alive socket is reused. */
export function discard(res: IncomingMessage): void {
  res.resume();
}
