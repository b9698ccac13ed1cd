// Who is calling: a client certificate signed by the cluster CA (CN = user,
// O = groups), a bearer token from the static token file, a ServiceAccount
// token or a bootstrap token (a kube-system Secret, kube/api/bootstrap-token.ts).
// Anyone else is anonymous and gets 401 (health and version endpoints excepted).
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { readFile } from 'node:fs/promises';
import { timingSafeEqual } from 'node:crypto';
import { TugError } from '../errdefs.js';
import { ServiceAccountTokens, serviceAccountUser } from './service-account-tokens.js';
import type { UserInfo } from './user-info.js';
import { BOOTSTRAPPERS_GROUP, BOOTSTRAP_TOKEN_SECRET_TYPE, BOOTSTRAP_USER_PREFIX, isTokenExpired, parseBootstrapToken, tokenSecretField, type TokenSecretLike } from '../kube/api/bootstrap-token.js';

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

/** The Secret kube-system/<name>, if any. */
export type SecretLookup = (name: string) => Promise<TokenSecretLike | null>;

const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The user a bootstrap token names, if its Secret exists, matches, allows authentication and has not expired. */
async function bootstrapTokenUser(raw: string, lookup: SecretLookup): Promise<UserInfo | null> {
  const t = parseBootstrapToken(raw);
  if (!t) return null;
  const secret = await lookup(`bootstrap-token-${t.id}`);
  if (!secret || secret.type !== BOOTSTRAP_TOKEN_SECRET_TYPE) return null;
  if (tokenSecretField(secret, 'token-id') !== t.id || !sameSecret(tokenSecretField(secret, 'token-secret') ?? '', t.secret)) return null;
  if (tokenSecretField(secret, 'usage-bootstrap-authentication') !== 'true' || isTokenExpired(secret)) return null;
  const extra = (tokenSecretField(secret, 'auth-extra-groups') ?? '').split(',').map((g) => g.trim()).filter((g) => g.startsWith(`${BOOTSTRAPPERS_GROUP}:`));
  return withAuthenticated({ name: `${BOOTSTRAP_USER_PREFIX}${t.id}`, groups: [BOOTSTRAPPERS_GROUP, ...extra] });
}

export class Authenticator {
  constructor(
    private tokens: TokenEntry[],
    private readonly saTokens?: ServiceAccountTokens,
    private readonly saLookup?: ServiceAccountLookup,
    private readonly secretLookup?: SecretLookup,
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
    if (this.secretLookup) return bootstrapTokenUser(raw, this.secretLookup);
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
