// Bootstrap tokens, as kubeadm makes them: "<token-id>.<token-secret>"
// (6 and 16 characters of [a-z0-9]) stored in the Secret
// kube-system/bootstrap-token-<token-id> of type bootstrap.kubernetes.io/token.
// The API server authenticates such a bearer token as system:bootstrap:<id>
// in group system:bootstrappers (plus the Secret's auth-extra-groups) until
// its expiration; the token cleaner deletes it after that.
import { randomInt } from 'node:crypto';
import { invalid } from '../../errdefs.js';

export const BOOTSTRAP_TOKEN_SECRET_TYPE = 'bootstrap.kubernetes.io/token';
export const BOOTSTRAP_TOKEN_PREFIX = 'bootstrap-token-';
export const BOOTSTRAPPERS_GROUP = 'system:bootstrappers';
/** The extra group the join command's token carries (kubeadm: system:bootstrappers:kubeadm:default-node-token). */
export const DEFAULT_NODE_TOKEN_GROUP = 'system:bootstrappers:tug:default-node-token';
export const BOOTSTRAP_USER_PREFIX = 'system:bootstrap:';
/** kubeadm's default token TTL. */
export const DEFAULT_TOKEN_TTL_MS = 24 * 3600_000;

const tokenRe = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';

export interface BootstrapToken {
  id: string;
  secret: string;
}

export function randomBootstrapToken(): BootstrapToken {
  const pick = (n: number) => Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join('');
  return { id: pick(6), secret: pick(16) };
}

/** The parts of "<id>.<secret>", or undefined when it is not shaped like a bootstrap token. */
export function parseBootstrapToken(s: string): BootstrapToken | undefined {
  const m = tokenRe.exec(s);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

export function checkBootstrapToken(s: string, flag = 'token'): BootstrapToken {
  const t = parseBootstrapToken(s);
  if (!t) throw invalid(`${flag} "${s}" is not a bootstrap token: the format is [a-z0-9]{6}.[a-z0-9]{16}`);
  return t;
}

/** A Secret as read from the API (only data matters here). */
export interface TokenSecretLike {
  data?: Record<string, string>;
  [k: string]: unknown;
}

export interface TokenSecretOptions {
  ttlMs?: number;
  description?: string;
  extraGroups?: string[];
  now?: number;
}

/** The Secret that holds a bootstrap token (kubeadm's field names, base64 as every Secret's data). */
export function bootstrapTokenSecret(t: BootstrapToken, o: TokenSecretOptions = {}): Record<string, unknown> {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const data: Record<string, string> = {
    'token-id': b64(t.id),
    'token-secret': b64(t.secret),
    'usage-bootstrap-authentication': b64('true'),
    'usage-bootstrap-signing': b64('true'),
    'auth-extra-groups': b64((o.extraGroups ?? [DEFAULT_NODE_TOKEN_GROUP]).join(',')),
  };
  // A TTL of 0 means never expires, as kubeadm's --ttl 0.
  const ttl = o.ttlMs ?? DEFAULT_TOKEN_TTL_MS;
  if (ttl > 0) data.expiration = b64(new Date((o.now ?? Date.now()) + ttl).toISOString().replace(/\.\d{3}Z$/, 'Z'));
  if (o.description) data.description = b64(o.description);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `${BOOTSTRAP_TOKEN_PREFIX}${t.id}`, namespace: 'kube-system' },
    type: BOOTSTRAP_TOKEN_SECRET_TYPE,
    data,
  };
}

/** A bootstrap token Secret's fields, decoded. */
export function tokenSecretField(secret: TokenSecretLike, key: string): string | undefined {
  const v = secret.data?.[key];
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString();
}

/** The Secret's expiration, or undefined when it never expires; NaN when unparseable (treated as expired). */
export function tokenExpiry(secret: TokenSecretLike): number | undefined {
  const e = tokenSecretField(secret, 'expiration');
  return e === undefined ? undefined : Date.parse(e);
}

export function isTokenExpired(secret: TokenSecretLike, now = Date.now()): boolean {
  const exp = tokenExpiry(secret);
  return exp !== undefined && !(exp > now);
}
