// The distribution spec's error codes, carried on TugError so the rest of tug
// can still reason about kinds, and rendered to HTTP in exactly one place.
import { TugError, type ErrorKind } from '../errdefs.js';

export type RegistryErrorCode =
  | 'BLOB_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'SIZE_INVALID'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'TOOMANYREQUESTS'
  | 'PAGINATION_NUMBER_INVALID';

const DEFAULTS: Record<RegistryErrorCode, { status: number; kind: ErrorKind }> = {
  BLOB_UNKNOWN: { status: 404, kind: 'not-found' },
  BLOB_UPLOAD_INVALID: { status: 400, kind: 'invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, kind: 'not-found' },
  DIGEST_INVALID: { status: 400, kind: 'invalid' },
  MANIFEST_BLOB_UNKNOWN: { status: 400, kind: 'invalid' },
  MANIFEST_INVALID: { status: 400, kind: 'invalid' },
  MANIFEST_UNKNOWN: { status: 404, kind: 'not-found' },
  NAME_INVALID: { status: 400, kind: 'invalid' },
  NAME_UNKNOWN: { status: 404, kind: 'not-found' },
  SIZE_INVALID: { status: 400, kind: 'invalid' },
  UNAUTHORIZED: { status: 401, kind: 'unauthorized' },
  DENIED: { status: 403, kind: 'forbidden' },
  UNSUPPORTED: { status: 405, kind: 'invalid' },
  TOOMANYREQUESTS: { status: 429, kind: 'unavailable' },
  PAGINATION_NUMBER_INVALID: { status: 400, kind: 'invalid' },
};

/** A spec error; `status` overrides the code's usual status (416 for ranges, 413 for size). */
export function regError(code: RegistryErrorCode, message: string, detail?: unknown, status?: number): TugError {
  const d = DEFAULTS[code];
  return new TugError(d.kind, message, { code, status: status ?? d.status, detail });
}

const KIND_FALLBACK: Partial<Record<ErrorKind, { status: number; code: RegistryErrorCode }>> = {
  invalid: { status: 400, code: 'UNSUPPORTED' },
  'not-found': { status: 404, code: 'NAME_UNKNOWN' },
  unauthorized: { status: 401, code: 'UNAUTHORIZED' },
  forbidden: { status: 403, code: 'DENIED' },
  'too-large': { status: 413, code: 'SIZE_INVALID' },
  conflict: { status: 409, code: 'UNSUPPORTED' },
  unavailable: { status: 503, code: 'UNSUPPORTED' },
};

export interface HttpError {
  status: number;
  body: { errors: { code: string; message: string; detail?: unknown }[] };
}

/** The one mapping from any thrown value to a spec error response. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof TugError) {
    const d = err.detail as { code?: RegistryErrorCode; status?: number; detail?: unknown } | undefined;
    if (d?.code && d.status) {
      return { status: d.status, body: { errors: [{ code: d.code, message: err.message, detail: d.detail ?? null }] } };
    }
    const fb = KIND_FALLBACK[err.kind];
    if (fb) return { status: fb.status, body: { errors: [{ code: fb.code, message: err.message }] } };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { status: 500, body: { errors: [{ code: 'UNKNOWN', message }] } };
}
