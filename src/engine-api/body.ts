// Reading and writing request/response bodies for the Docker API.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { invalid } from '../errdefs.js';

const maxJsonBody = 8 * 1024 * 1024;

export async function readJson<T = any>(req: IncomingMessage): Promise<T | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > maxJsonBody) throw invalid('request body too large');
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw invalid(`invalid JSON in request body: ${(err as Error).message}`);
  }
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export function sendNoContent(res: ServerResponse, status = 204): void {
  res.writeHead(status).end();
}

export function boolParam(q: URLSearchParams, name: string, dflt = false): boolean {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  return v === '1' || v.toLowerCase() === 'true';
}

export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw invalid(`invalid value for ${name}: ${v}`);
  return n;
}

/** Docker's filters param: JSON of {key: [values]} or legacy {key: {value: true}}. */
export function filtersParam(q: URLSearchParams): Record<string, string[]> {
  const raw = q.get('filters');
  if (!raw) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalid(`invalid filter: ${raw}`);
  }
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (Array.isArray(v)) out[k] = v.map(String);
    else if (v && typeof v === 'object') out[k] = Object.keys(v as object).filter((x) => (v as Record<string, unknown>)[x]);
    else throw invalid(`invalid filter '${k}'`);
  }
  return out;
}

/**
 * A JSON object's fields under their canonical names. dockerd decodes bodies
 * with Go's encoding/json, which matches a field name case-insensitively when
 * no key matches exactly, so clients get away with other spellings (docker-py
 * sends an exec's `detachKeys`). Keys that name no field are dropped.
 */
export function canonicalFields(body: unknown, names: readonly string[]): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return {};
  const src = body as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const name of names) {
    if (Object.hasOwn(src, name)) {
      out[name] = src[name];
      continue;
    }
    const lower = name.toLowerCase();
    const key = Object.keys(src).find((k) => k.toLowerCase() === lower);
    if (key !== undefined) out[name] = src[key];
  }
  return out;
}
