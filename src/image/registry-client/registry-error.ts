// Registry error bodies ({"errors":[{"code","message","detail"}]}) turned into
// TugErrors worded the way the docker CLI shows them ("manifest unknown: …",
// "unauthorized: authentication required").
import type { IncomingMessage } from 'node:http';
import { TugError, type ErrorKind } from '../../errdefs.js';
import { readBody } from './http-request.js';

export function kindForStatus(status: number): ErrorKind {
  if (status === 400) return 'invalid';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 409) return 'conflict';
  if (status === 413) return 'too-large';
  if (status === 429 || status >= 500) return 'unavailable';
  return 'internal';
}

/** The text of an error body as Docker renders errcode errors: lower-case code, then the message. */
export function describeErrorBody(status: number, body: Buffer): string {
  const text = body.toString('utf8').trim();
  try {
    const j = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }>; details?: string; error?: string };
    if (Array.isArray(j.errors) && j.errors.length) {
      return j.errors
        .map((e) => {
          const code = (e.code ?? 'unknown').toLowerCase().replace(/_/g, ' ');
          return e.message ? `${code}: ${e.message}` : code;
        })
        .join(', ');
    }
    if (typeof j.details === 'string') return j.details; // token servers (Docker Hub) answer this way
    if (typeof j.error === 'string') return j.error;
  } catch {
    // not JSON
  }
  if (status === 401) return 'unauthorized: authentication required';
  return text ? text.slice(0, 200) : `unexpected status ${status}`;
}

/** Reads the error body of `res` and makes a TugError of it, prefixed with what was being done. */
export async function registryError(res: IncomingMessage, what: string): Promise<TugError> {
  let body: Buffer = Buffer.alloc(0);
  try {
    body = await readBody(res, 64 * 1024);
  } catch {
    // An unreadable body still leaves the status to report.
  }
  const status = res.statusCode ?? 500;
  return new TugError(kindForStatus(status), `${what}: ${describeErrorBody(status, body)}`, { status });
}
