// Response helpers: every reply carries the API version header, errors are the
// spec's JSON envelope, HEAD never gets a body.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { regError, toHttpError } from '../errors.js';

export type Headers = Record<string, string | number>;

export function send(res: ServerResponse, status: number, headers: Headers = {}, body?: Buffer | string): void {
  const buf = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
  res.statusCode = status;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  if (!('Content-Length' in headers)) res.setHeader('Content-Length', buf ? buf.length : 0);
  if (buf && res.req.method !== 'HEAD') res.end(buf);
  else res.end();
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Headers = {}, contentType = 'application/json'): void {
  send(res, status, { 'Content-Type': contentType, ...headers }, JSON.stringify(value));
}

export function sendError(res: ServerResponse, err: unknown, headers: Headers = {}): { status: number } {
  const { status, body } = toHttpError(err);
  if (res.headersSent) {
    res.destroy();
    return { status };
  }
  sendJson(res, status, body, headers);
  return { status };
}

/** Read a small body (manifests) with a hard cap; `onTooLarge` builds the error. */
export async function readSmallBody(req: IncomingMessage, limit: number, onTooLarge: () => Error): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) throw onTooLarge();
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > limit) throw onTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The last element and next-page Link header for tags/list and _catalog. */
export function paginate(items: string[], query: URLSearchParams, basePath: string): { page: string[]; link?: string } {
  const last = query.get('last');
  const nRaw = query.get('n');
  let list = last ? items.filter((i) => i > last) : items;
  if (nRaw === null) return { page: list };
  const n = Number(nRaw);
  if (!Number.isInteger(n) || n < 0) throw regError('PAGINATION_NUMBER_INVALID', `invalid page size n=${nRaw.slice(0, 40)}`);
  const more = list.length > n;
  list = list.slice(0, n);
  if (!more || list.length === 0) return { page: list };
  const next = new URLSearchParams({ n: String(n), last: list[list.length - 1] });
  return { page: list, link: `<${basePath}?${next.toString()}>; rel="next"` };
}
