// Who may do what. Three modes: open (no auth configured), Basic against an
// htpasswd file (any valid user may do everything), and Docker token auth
// (a JWT bearer whose `access` claim must cover the repository and action).
import type { KeyObject } from 'node:crypto';
import { Htpasswd, parseBasic } from './htpasswd.js';
import { verifyToken, type AccessEntry } from './jwt.js';
import { messageOf } from '../../errdefs.js';

/** What a request needs; an empty list (GET /v2/) only needs a valid identity. */
export type Need = AccessEntry;

export interface Denial {
  status: 401 | 403;
  code: 'UNAUTHORIZED' | 'DENIED';
  message: string;
  challenge?: string;
}

export interface TokenVerifyConfig {
  /** Fixed realm URL, or one built from the request's Host header (our own /token). */
  realm: string | ((host: string | undefined) => string);
  service: string;
  issuer: string;
  publicKey: KeyObject;
}

export class Authorizer {
  constructor(
    private readonly htpasswd?: Htpasswd,
    private readonly token?: TokenVerifyConfig,
    private readonly basicRealm = 'tug-registry',
  ) {}

  /** undefined when allowed; otherwise what to answer. */
  async check(authHeader: string | undefined, needs: Need[], host?: string): Promise<Denial | undefined> {
    if (this.token) return this.checkToken(authHeader, needs, host);
    if (this.htpasswd) {
      const creds = parseBasic(authHeader);
      if (creds && (await this.htpasswd.check(creds.user, creds.password))) return undefined;
      return {
        status: 401,
        code: 'UNAUTHORIZED',
        message: creds ? 'invalid username or password' : 'authentication required',
        challenge: `Basic realm="${this.basicRealm}"`,
      };
    }
    return undefined;
  }

  private checkToken(authHeader: string | undefined, needs: Need[], host: string | undefined): Denial | undefined {
    const t = this.token!;
    const realm = typeof t.realm === 'string' ? t.realm : t.realm(host);
    const scope = needs.map((n) => `${n.type}:${n.name}:${n.actions.join(',')}`).join(' ');
    const challenge = (error?: string) =>
      `Bearer realm="${realm}",service="${t.service}"` + (scope ? `,scope="${scope}"` : '') + (error ? `,error="${error}"` : '');
    if (!authHeader || !/^bearer /i.test(authHeader)) {
      return { status: 401, code: 'UNAUTHORIZED', message: 'authentication required', challenge: challenge() };
    }
    let granted: AccessEntry[];
    try {
      granted = verifyToken(authHeader.slice(7).trim(), t.publicKey, { issuer: t.issuer, audience: t.service }).access;
    } catch (err) {
      return { status: 401, code: 'UNAUTHORIZED', message: messageOf(err), challenge: challenge('invalid_token') };
    }
    for (const need of needs) {
      if (!covers(granted, need)) {
        // Distribution answers 401 + insufficient_scope so the client fetches a wider token.
        return {
          status: 401,
          code: 'UNAUTHORIZED',
          message: `token does not grant ${need.actions.join(',')} on ${need.type} ${need.name}`,
          challenge: challenge('insufficient_scope'),
        };
      }
    }
    return undefined;
  }
}

function covers(granted: AccessEntry[], need: Need): boolean {
  return need.actions.every((action) =>
    granted.some(
      (g) => g.type === need.type && g.name === need.name && (g.actions.includes(action) || g.actions.includes('*')),
    ),
  );
}
