// The one place where engine error kinds become Docker API status codes.
import type { ServerResponse } from 'node:http';
import { kindOf, messageOf, type ErrorKind } from '../errdefs.js';

const statusByKind: Record<ErrorKind, number> = {
  invalid: 400,
  'not-found': 404,
  'already-exists': 409,
  conflict: 409,
  unauthorized: 401,
  forbidden: 403,
  unavailable: 503,
  'not-modified': 304,
  'too-large': 413,
  gone: 410,
  internal: 500,
};

export function statusOf(err: unknown): number {
  return statusByKind[kindOf(err)];
}

/** Docker's error body: {"message": "..."}; 304 has no body. */
export function sendError(res: ServerResponse, err: unknown): void {
  const status = statusOf(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (status === 304) {
    res.writeHead(304).end();
    return;
  }
  const body = JSON.stringify({ message: messageOf(err) }) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
}
