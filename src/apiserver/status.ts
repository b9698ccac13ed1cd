// Kubernetes Status bodies: the one place TugError kinds become HTTP codes and
// metav1.Status reasons, with the message shapes kubectl users know.
import { TugError, kindOf, messageOf, type ErrorKind } from '../errdefs.js';
import type { FieldError, ResourceType } from '../kube/api/resource-type.js';

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: { reason: string; message: string; field?: string }[]; retryAfterSeconds?: number };
  code: number;
}

const byKind: Record<ErrorKind, [number, string]> = {
  invalid: [400, 'BadRequest'],
  'not-found': [404, 'NotFound'],
  'already-exists': [409, 'AlreadyExists'],
  conflict: [409, 'Conflict'],
  unauthorized: [401, 'Unauthorized'],
  forbidden: [403, 'Forbidden'],
  unavailable: [503, 'ServiceUnavailable'],
  'not-modified': [304, 'NotModified'],
  'too-large': [413, 'RequestEntityTooLarge'],
  gone: [410, 'Expired'],
  internal: [500, 'InternalError'],
};

export function statusFromError(err: unknown): StatusBody {
  const kind = kindOf(err);
  let [code, reason] = byKind[kind];
  const detail = err instanceof TugError ? err.detail : undefined;
  if (detail?.code !== undefined) code = Number(detail.code);
  if (detail?.reason !== undefined) reason = String(detail.reason);
  const message = kind === 'internal' && !(err instanceof TugError) ? `Internal error occurred: ${messageOf(err)}` : messageOf(err);
  // Field order as kube-apiserver writes metav1.Status: details comes before code.
  const details = detail?.details as StatusBody['details'] | undefined;
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

/** "deployments.apps" — how Kubernetes names a resource in messages. */
export function qualifiedResource(t: ResourceType): string {
  return t.group ? `${t.plural}.${t.group}` : t.plural;
}

export function notFoundError(t: ResourceType, name: string): TugError {
  return new TugError('not-found', `${qualifiedResource(t)} "${name}" not found`, {
    details: { name, group: t.group || undefined, kind: t.plural },
  });
}

export function alreadyExistsError(t: ResourceType, name: string): TugError {
  return new TugError('already-exists', `${qualifiedResource(t)} "${name}" already exists`, {
    details: { name, group: t.group || undefined, kind: t.plural },
  });
}

export function conflictError(t: ResourceType, name: string): TugError {
  return new TugError(
    'conflict',
    `Operation cannot be fulfilled on ${qualifiedResource(t)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { details: { name, group: t.group || undefined, kind: t.plural } },
  );
}

/** 422 Invalid with one cause per field error, message as `Kind "name" is invalid: path: msg`. */
export function invalidError(t: ResourceType, name: string, errs: FieldError[]): TugError {
  const parts = errs.map((e) => `${e.field}: ${e.message}`);
  const joined = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  return new TugError('invalid', `${t.kind}${t.group ? `.${t.group}` : ''} "${name}" is invalid: ${joined}`, {
    code: 422,
    reason: 'Invalid',
    details: { name, group: t.group || undefined, kind: t.kind, causes: errs.map((e) => ({ reason: e.type, message: e.message, field: e.field })) },
  });
}

export function badRequest(message: string): TugError {
  return new TugError('invalid', message, { reason: 'BadRequest' });
}

export function methodNotAllowed(message: string): TugError {
  return new TugError('invalid', message, { code: 405, reason: 'MethodNotAllowed' });
}

/** reason: why no authorizer allowed it, when one said (the Node authorizer's "no relationship found..."). */
export function forbiddenError(user: string, verb: string, resource: string, group: string, namespace: string | undefined, name?: string, reason?: string): TugError {
  const scope = namespace ? `in the namespace "${namespace}"` : 'at the cluster scope';
  const res = group ? `${resource}.${group}` : resource;
  const nm = name ? ` "${name}"` : '';
  return new TugError('forbidden', `${res}${nm} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${group}" ${scope}${reason ? `: ${reason}` : ''}`, {
    details: { name, group, kind: resource },
  });
}

export function successStatus(t: ResourceType, name: string, uid?: string): StatusBody {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', message: '', reason: '', details: { name, group: t.group, kind: t.plural, uid }, code: 200 };
}
