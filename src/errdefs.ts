// One error vocabulary for the whole program. Domain code throws TugError with a
// kind; each API maps kinds to its own status codes in exactly one place.

export type ErrorKind =
  | 'invalid' // bad input: a field, flag or file that cannot be accepted
  | 'not-found'
  | 'already-exists'
  | 'conflict' // the request clashes with current state (name in use, container running)
  | 'unauthorized'
  | 'forbidden'
  | 'unavailable' // a dependency (runc, a registry, the store) cannot serve now
  | 'not-modified'
  | 'too-large'
  | 'gone'
  | 'internal';

export class TugError extends Error {
  readonly kind: ErrorKind;
  /** Optional machine-readable detail an API may render (field path, spec error code). */
  readonly detail?: Record<string, unknown>;

  constructor(kind: ErrorKind, message: string, detail?: Record<string, unknown>) {
    super(message);
    this.name = 'TugError';
    this.kind = kind;
    this.detail = detail;
  }
}

export const invalid = (msg: string, detail?: Record<string, unknown>): TugError => new TugError('invalid', msg, detail);
export const notFound = (msg: string, detail?: Record<string, unknown>): TugError => new TugError('not-found', msg, detail);
export const alreadyExists = (msg: string, detail?: Record<string, unknown>): TugError =>
  new TugError('already-exists', msg, detail);
export const conflict = (msg: string, detail?: Record<string, unknown>): TugError => new TugError('conflict', msg, detail);
export const unavailable = (msg: string, detail?: Record<string, unknown>): TugError =>
  new TugError('unavailable', msg, detail);
export const internal = (msg: string, detail?: Record<string, unknown>): TugError => new TugError('internal', msg, detail);

export function isKind(err: unknown, kind: ErrorKind): boolean {
  return err instanceof TugError && err.kind === kind;
}

/** The kind of any thrown value: TugErrors keep theirs, everything else is internal. */
export function kindOf(err: unknown): ErrorKind {
  return err instanceof TugError ? err.kind : 'internal';
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
