// Request bodies in (JSON or YAML, size-capped) and responses out (JSON,
// Status errors, Warning headers) for the API server.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { TugError } from '../errdefs.js';
import { statusFromError } from './status.js';
import { badRequest } from './status.js';
import { decodeK8sProtobuf } from './protobuf/decode.js';

/** Kubernetes' own request limit is 3 MiB for objects. */
const MAX_BODY = 3 * 1024 * 1024;

/** The raw body, size-capped. Plain 'data'/'end' listeners: an async iterator per request cost ~3% of a write. */
function readRaw(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (b: Buffer): void => {
      size += b.length;
      if (size > MAX_BODY) {
        cleanup();
        // Stop reading; the error response goes out and the connection is not reused for the rest.
        req.pause();
        reject(new TugError('too-large', 'Request entity too large: limit is 3145728'));
        return;
      }
      chunks.push(b);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

export async function readBody(req: IncomingMessage): Promise<unknown> {
  const raw = await readRaw(req);
  const ct = (req.headers['content-type'] ?? '').split(';')[0].trim();
  // kubectl's typed clients (create <kind>, run, auth can-i) send protobuf.
  if (ct === 'application/vnd.kubernetes.protobuf') {
    try {
      return decodeK8sProtobuf(raw);
    } catch (err) {
      if (err instanceof TugError) throw err;
      throw badRequest(`the request body could not be decoded: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const text = raw.toString('utf8');
  if (!text.trim()) return undefined;
  try {
    if (ct.includes('yaml')) return parseYaml(text);
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`the request body could not be decoded: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function sendJson(res: ServerResponse, code: number, body: unknown, contentType = 'application/json', warnings: string[] = []): void {
  // kube-apiserver's JSON serializer is a json.Encoder: every body ends with a newline.
  const text = `${JSON.stringify(body)}\n`;
  const headers: Record<string, string | string[]> = { 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(text)), 'Cache-Control': 'no-cache, private' };
  if (warnings.length) headers.Warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  res.writeHead(code, headers);
  res.end(text);
}

export function sendError(res: ServerResponse, err: unknown): void {
  const status = statusFromError(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status.code, status);
}

export function sendText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)) });
  res.end(text);
}
