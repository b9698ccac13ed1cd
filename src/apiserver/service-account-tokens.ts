// ServiceAccount tokens: ES256 JWTs signed with the cluster's service-account
// key (DIR/pki/sa.key), issued through the TokenRequest subresource
// (`kubectl create token`) and accepted as bearer tokens while the
// ServiceAccount they name still exists with the same uid.
import { createPrivateKey, createPublicKey, sign, verify, randomUUID, type KeyObject } from 'node:crypto';
import { TugError } from '../errdefs.js';
import type { UserInfo } from './user-info.js';

export const defaultAudience = 'https://kubernetes.default.svc.cluster.local';
const issuer = 'https://kubernetes.default.svc.cluster.local';

export interface ServiceAccountClaims {
  namespace: string;
  name: string;
  uid: string;
}

const b64url = (v: string | Buffer) => Buffer.from(v).toString('base64url');

export class ServiceAccountTokens {
  private readonly priv: KeyObject;
  private readonly pub: KeyObject;

  constructor(privateKeyPem: string) {
    this.priv = createPrivateKey(privateKeyPem);
    this.pub = createPublicKey(this.priv);
  }

  issue(sa: ServiceAccountClaims, audiences: string[], expirationSeconds: number): { token: string; expires: Date } {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + expirationSeconds;
    const header = { alg: 'ES256', typ: 'JWT' };
    const payload = {
      iss: issuer,
      sub: `system:serviceaccount:${sa.namespace}:${sa.name}`,
      aud: audiences.length ? audiences : [defaultAudience],
      iat: now,
      nbf: now,
      exp,
      jti: randomUUID(),
      'kubernetes.io': { namespace: sa.namespace, serviceaccount: { name: sa.name, uid: sa.uid } },
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    const sig = sign('sha256', Buffer.from(input), { key: this.priv, dsaEncoding: 'ieee-p1363' });
    return { token: `${input}.${b64url(sig)}`, expires: new Date(exp * 1000) };
  }

  /** Verified claims, or null if this is not one of our tokens (wrong signature, expired, wrong audience). */
  verify(token: string): ServiceAccountClaims | null {
    const parts = token.split('.');
    if (parts.length !== 3) return null;
    try {
      const ok = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key: this.pub, dsaEncoding: 'ieee-p1363' }, Buffer.from(parts[2], 'base64url'));
      if (!ok) return null;
      const p = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
      if (p.iss !== issuer || typeof p.exp !== 'number' || p.exp * 1000 < Date.now()) return null;
      if (!(Array.isArray(p.aud) ? p.aud : [p.aud]).includes(defaultAudience)) return null;
      const k = p['kubernetes.io'];
      if (!k?.namespace || !k.serviceaccount?.name) return null;
      return { namespace: k.namespace, name: k.serviceaccount.name, uid: k.serviceaccount.uid };
    } catch {
      return null;
    }
  }
}

export function serviceAccountUser(c: ServiceAccountClaims): UserInfo {
  return {
    name: `system:serviceaccount:${c.namespace}:${c.name}`,
    uid: c.uid,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${c.namespace}`, 'system:authenticated'],
  };
}

/** TokenRequest (authentication.k8s.io/v1) → the same object with status.token filled in. */
export function tokenRequestResponse(body: any, token: string, expires: Date, audiences: string[], expirationSeconds: number): Record<string, unknown> {
  return {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { ...(body?.metadata ?? {}), creationTimestamp: null },
    spec: { ...(body?.spec ?? {}), audiences, expirationSeconds },
    status: { token, expirationTimestamp: expires.toISOString().replace(/\.\d+Z$/, 'Z') },
  };
}

export function checkExpiration(seconds: unknown): number {
  if (seconds === undefined || seconds === null) return 3600;
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 600 || seconds > 2 ** 32) {
    throw new TugError('invalid', `TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: ${String(seconds)}: may not specify a duration less than 10 minutes`, { code: 422, reason: 'Invalid' });
  }
  return seconds;
}
