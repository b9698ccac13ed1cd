// Docker registry tokens: compact JWS (RS256 or ES256) whose `access` claim
// lists per-repository actions. Node's crypto does the signing; the JOSE
// framing is a few lines, so no JWT library.
import { createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { TugError } from '../../errdefs.js';

export interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
  access: AccessEntry[];
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

function algFor(key: KeyObject): 'RS256' | 'ES256' {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new TugError('invalid', `token key must be RSA or EC P-256, got ${key.asymmetricKeyType}`);
}

export function loadPrivateKey(pem: string): KeyObject {
  const key = createPrivateKey(pem);
  algFor(key);
  return key;
}

/** Public key from a PEM certificate or public key. */
export function loadPublicKey(pem: string): KeyObject {
  const key = createPublicKey(pem);
  algFor(key);
  return key;
}

export function signToken(claims: Omit<TokenClaims, 'jti'>, key: KeyObject): string {
  const alg = algFor(key);
  const header = b64url(JSON.stringify({ alg, typ: 'JWT' }));
  const payload = b64url(JSON.stringify({ ...claims, jti: randomBytes(12).toString('hex') }));
  const input = Buffer.from(`${header}.${payload}`);
  const sig = sign('sha256', input, alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key);
  return `${header}.${payload}.${b64url(sig)}`;
}

const unauthorized = (msg: string) => new TugError('unauthorized', msg);
const LEEWAY_S = 60;

/** Verify signature, issuer, audience and validity window; returns the claims. */
export function verifyToken(token: string, key: KeyObject, want: { issuer: string; audience: string }, nowS = Date.now() / 1000): TokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3) throw unauthorized('bearer token is not a JWS');
  let header: { alg?: string };
  let claims: TokenClaims;
  try {
    header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    throw unauthorized('bearer token is not valid JSON');
  }
  const alg = algFor(key);
  if (header.alg !== alg) throw unauthorized(`bearer token alg ${String(header.alg)} is not ${alg}`);
  const input = Buffer.from(`${parts[0]}.${parts[1]}`);
  const sig = Buffer.from(parts[2], 'base64url');
  const ok = verify('sha256', input, alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key, sig);
  if (!ok) throw unauthorized('bearer token signature does not verify');
  if (claims.iss !== want.issuer) throw unauthorized(`bearer token issuer "${claims.iss}" is not "${want.issuer}"`);
  const aud = Array.isArray(claims.aud) ? (claims.aud as string[]) : [claims.aud];
  if (!aud.includes(want.audience)) throw unauthorized(`bearer token audience is not "${want.audience}"`);
  if (typeof claims.exp !== 'number' || claims.exp + LEEWAY_S < nowS) throw unauthorized('bearer token has expired');
  if (typeof claims.nbf === 'number' && claims.nbf - LEEWAY_S > nowS) throw unauthorized('bearer token is not valid yet');
  if (!Array.isArray(claims.access)) claims.access = [];
  return claims;
}

/** Parse `scope` query values like "repository:foo/bar:pull,push". */
export function parseScopes(scopes: string[]): AccessEntry[] {
  const out: AccessEntry[] = [];
  for (const s of scopes) {
    for (const one of s.split(' ')) {
      const first = one.indexOf(':');
      const last = one.lastIndexOf(':');
      if (first < 0 || last === first) continue;
      out.push({ type: one.slice(0, first), name: one.slice(first + 1, last), actions: one.slice(last + 1).split(',').filter(Boolean) });
    }
  }
  return out;
}
