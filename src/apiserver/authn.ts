// Who is calling: a client certificate signed by the cluster CA (CN = user,
// O = groups) or a bearer token from the static token file. Anyone else is
// anonymous and gets 401 (health and version endpoints excepted).
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { readFile } from 'node:fs/promises';
import { timingSafeEqual } from 'node:crypto';
import { TugError } from '../errdefs.js';
import { ServiceAccountTokens, serviceAccountUser } from './service-account-tokens.js';
import type { UserInfo } from './user-info.js';

export interface TokenEntry {
  token: string;
  user: UserInfo;
}

/** Parses Kubernetes' static token file: token,user,uid,"group1,group2". */
export async function loadTokenFile(path: string): Promise<TokenEntry[]> {
  const text = await readFile(path, 'utf8');
  const out: TokenEntry[] = [];
  for (const line of text.split('\n')) {
    const l = line.trim();
    if (!l || l.startsWith('#')) continue;
    const m = l.match(/^([^,]+),([^,]+),([^,]*)(?:,"?([^"]*)"?)?$/);
    if (!m) continue;
    out.push({ token: m[1], user: { name: m[2], uid: m[3] || undefined, groups: m[4] ? m[4].split(',').map((g) => g.trim()).filter(Boolean) : [] } });
  }
  return out;
}

const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Does the ServiceAccount a token names still exist with the same uid? */
export type ServiceAccountLookup = (namespace: string, name: string) => Promise<string | undefined>;

export class Authenticator {
  constructor(
    private tokens: TokenEntry[],
    private readonly saTokens?: ServiceAccountTokens,
    private readonly saLookup?: ServiceAccountLookup,
  ) {}

  setTokens(tokens: TokenEntry[]): void {
    this.tokens = tokens;
  }

  /** The user a bearer token names (static token or ServiceAccount token), or null. Also answers TokenReviews. */
  async authenticateToken(raw: string): Promise<UserInfo | null> {
    const given = Buffer.from(raw);
    for (const t of this.tokens) {
      const want = Buffer.from(t.token);
      if (want.length === given.length && timingSafeEqual(want, given)) return withAuthenticated(t.user);
    }
    const claims = this.saTokens?.verify(raw);
    if (claims && this.saLookup) {
      const uid = await this.saLookup(claims.namespace, claims.name);
      if (uid && uid === claims.uid) return serviceAccountUser(claims);
    }
    return null;
  }

  async authenticate(req: IncomingMessage): Promise<UserInfo | null> {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) {
      const user = await this.authenticateToken(auth.slice(7).trim());
      if (!user) throw new TugError('unauthorized', 'Unauthorized');
      return user;
    }
    const sock = req.socket as TLSSocket;
    if (!sock.authorized) return null;
    // A connection's client certificate is fixed at the handshake, and decoding it
    // (getPeerCertificate) cost ~5% of a write's server time: once per connection.
    let user = certUsers.get(sock);
    if (user === undefined) {
      const cert = sock.getPeerCertificate();
      const cn = cert?.subject?.CN;
      user = cn ? withAuthenticated({ name: Array.isArray(cn) ? cn[0] : cn, groups: asList(cert.subject.O) }) : null;
      certUsers.set(sock, user);
    }
    return user && { ...user, groups: [...user.groups] };
  }
}

/** The user a TLS connection's client certificate names (null: none), per connection. */
const certUsers = new WeakMap<TLSSocket, UserInfo | null>();

function withAuthenticated(u: UserInfo): UserInfo {
  return { ...u, groups: [...new Set([...u.groups, 'system:authenticated'])] };
}

export const anonymousPaths = new Set(['/healthz', '/livez', '/readyz', '/version']);
