// A small token service for --token-issuer-for-htpasswd: the registry serves its
// own realm (GET /token), checks Basic credentials against the htpasswd file and
// signs a short-lived JWT granting what was asked for. It is what makes the
// whole Docker token flow testable with real clients and no external auth
// server; a real deployment would point --token-realm at its own issuer.
import type { KeyObject } from 'node:crypto';
import { Htpasswd, parseBasic } from './htpasswd.js';
import { parseScopes, signToken } from './jwt.js';

export const TOKEN_TTL_S = 300;

export interface IssuerConfig {
  htpasswd: Htpasswd;
  privateKey: KeyObject;
  issuer: string;
  service: string;
}

export type IssueResult =
  | { ok: true; body: { token: string; access_token: string; expires_in: number; issued_at: string } }
  | { ok: false; status: 400 | 401; message: string };

/**
 * GET /token with Basic credentials (Docker's token flow), or POST /token with an
 * OAuth2 password-grant form (what containerd tries first): pass the form as
 * `query` and no header.
 */
export async function issueToken(cfg: IssuerConfig, authHeader: string | undefined, query: URLSearchParams): Promise<IssueResult> {
  const service = query.get('service');
  if (service !== null && service !== cfg.service) return { ok: false, status: 400, message: `unknown service "${service}"` };
  const grant = query.get('grant_type');
  if (grant !== null && grant !== 'password') return { ok: false, status: 400, message: `unsupported grant_type "${grant}"` };
  const creds =
    grant === 'password' ? { user: query.get('username') ?? '', password: query.get('password') ?? '' } : parseBasic(authHeader);
  if (!creds || !(await cfg.htpasswd.check(creds.user, creds.password))) {
    return { ok: false, status: 401, message: 'invalid username or password' };
  }
  // Every htpasswd user may pull, push and delete: htpasswd has no groups to map.
  const access = parseScopes(query.getAll('scope')).filter((a) => a.type === 'repository' || a.type === 'registry');
  const now = Math.floor(Date.now() / 1000);
  const token = signToken(
    { iss: cfg.issuer, sub: creds.user, aud: cfg.service, iat: now, nbf: now - 1, exp: now + TOKEN_TTL_S, access },
    cfg.privateKey,
  );
  return { ok: true, body: { token, access_token: token, expires_in: TOKEN_TTL_S, issued_at: new Date(now * 1000).toISOString() } };
}
