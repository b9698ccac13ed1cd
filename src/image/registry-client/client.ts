// A session with one registry host for one set of credentials: finds out how
// to reach it (https, or plain http for insecure hosts), answers its auth
// challenges (Basic, or the Bearer token flow with per-scope tokens) and
// retries requests that fail on the way (connection errors, 5xx, 429).
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { TugError, messageOf, unavailable } from '../../errdefs.js';
import { parseChallenges, type AuthChallenge } from './challenge.js';
import { apiHostOf, extraCAsFor, isInsecureRegistry } from './hosts.js';
import { discard, readBody, send, type TlsMode } from './http-request.js';
import { describeErrorBody, registryError } from './registry-error.js';

/** Credentials as the Docker API passes them (X-Registry-Auth, /auth). */
export interface RegistryAuth {
  username?: string;
  password?: string;
  /** A refresh token from an earlier login (OAuth2 refresh_token grant). */
  identitytoken?: string;
  /** A bearer token to use as is. */
  registrytoken?: string;
  serveraddress?: string;
}

export interface RequestOptions {
  /** Repository actions this request needs, e.g. {'library/busybox': 'pull'}; decides the token scope. */
  scopes?: Record<string, string>;
  headers?: OutgoingHttpHeaders;
  /** A body: bytes (resent on retry) or a factory called once per attempt. */
  body?: Buffer | string | (() => Readable);
  /** Statuses returned to the caller instead of thrown (default: < 400). */
  accept?: (status: number) => boolean;
  /** Prefix for a thrown error's message. */
  what?: string;
  /** How many attempts in all (default 3); a streamed body from a factory is re-created each time. */
  attempts?: number;
}

const schemeCache = new Map<string, 'https:' | 'http:'>();
const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

export class RegistryClient {
  private challenge: AuthChallenge | undefined;
  private readonly tokens = new Map<string, string>();

  private constructor(
    /** The domain of references ('docker.io', '127.0.0.1:5000'). */
    readonly domain: string,
    /** Where requests go ('https://registry-1.docker.io'). */
    readonly base: URL,
    private readonly tls: TlsMode,
    private readonly auth: RegistryAuth | undefined,
  ) {}

  /** Reaches the registry's /v2/ endpoint once, learning its scheme and auth challenge. */
  static async connect(domain: string, auth?: RegistryAuth): Promise<RegistryClient> {
    const host = apiHostOf(domain);
    const insecure = isInsecureRegistry(host);
    const tls: TlsMode = { insecure, ca: await extraCAsFor(host) };
    const cached = schemeCache.get(host);
    const allowed: Array<'https:' | 'http:'> = insecure ? ['https:', 'http:'] : ['https:'];
    // What worked last time first; the other still gets a try (a registry restarted with or without TLS).
    const schemes = cached ? [cached, ...allowed.filter((s) => s !== cached)] : allowed;
    let lastErr: unknown;
    for (const scheme of schemes) {
      const base = new URL(`${scheme}//${host}`);
      const client = new RegistryClient(domain, base, tls, auth);
      try {
        const res = await send('GET', new URL('/v2/', base), { tls, idleTimeoutMs: 30_000 });
        discard(res);
        schemeCache.set(host, scheme);
        if (res.statusCode === 401) client.challenge = pickChallenge(parseChallenges(res.headers['www-authenticate']));
        return client;
      } catch (err) {
        // An insecure registry that speaks plain HTTP fails the TLS handshake: try http next.
        lastErr = err;
      }
    }
    throw unavailable(`Get "${schemes[schemes.length - 1]}//${host}/v2/": ${messageOf(lastErr)}`);
  }

  url(path: string): URL {
    return new URL(path, this.base);
  }

  /**
   * Checks the credentials the way `docker login` does: a Basic registry must
   * accept them on /v2/, a token registry must issue a token for them.
   */
  async login(): Promise<void> {
    const url = this.url('/v2/');
    if (!this.challenge) return; // no auth at all: any credentials "work", as with Docker
    if (this.challenge.scheme === 'bearer') {
      await this.fetchToken([], true);
      return;
    }
    const res = await send('GET', url, { tls: this.tls, headers: this.authHeaders([]) });
    discard(res);
    if (res.statusCode === 401 || res.statusCode === 403) {
      throw new TugError('unauthorized', `login attempt to ${url.href} failed with status: ${res.statusCode} ${res.statusCode === 401 ? 'Unauthorized' : 'Forbidden'}`);
    }
  }

  /** Sends a request to the registry, authenticating and retrying as needed. */
  async request(method: string, path: string | URL, opts: RequestOptions = {}): Promise<IncomingMessage> {
    const url = typeof path === 'string' ? this.url(path) : path;
    const scopes = scopeStrings(opts.scopes ?? {});
    const accept = opts.accept ?? ((s: number) => s < 400);
    const what = opts.what ?? `${method} ${url.href}`;
    const attempts = opts.attempts ?? 3;
    let reauthed = false;
    for (let attempt = 1; ; attempt++) {
      let res: IncomingMessage;
      try {
        const headers = { ...(opts.headers ?? {}), ...(await this.authHeadersFor(scopes, false)) };
        const body = typeof opts.body === 'function' ? opts.body() : opts.body;
        res = await send(method, url, { tls: this.tls, headers, body });
      } catch (err) {
        if (err instanceof TugError || attempt >= attempts) throw err instanceof TugError ? err : unavailable(`${what}: ${messageOf(err)}`);
        await backoff(attempt);
        continue;
      }
      const status = res.statusCode ?? 500;
      if (status === 401 && !reauthed && !this.auth?.registrytoken) {
        // A fresh challenge (first contact, an expired token or a scope we did not ask for): answer it once.
        const ch = pickChallenge(parseChallenges(res.headers['www-authenticate']));
        if (ch) {
          discard(res);
          this.challenge = ch;
          reauthed = true;
          if (ch.scheme === 'bearer') {
            if (ch.params.scope) for (const s of ch.params.scope.split(' ')) if (!scopes.includes(s)) scopes.push(s);
            this.tokens.delete(scopes.join(' '));
            await this.authHeadersFor(scopes, true);
          }
          continue;
        }
      }
      if (accept(status)) return res;
      if (RETRY_STATUSES.has(status) && attempt < attempts) {
        discard(res);
        await backoff(attempt);
        continue;
      }
      throw await registryError(res, what);
    }
  }

  /** Authorization headers for requests needing `scopes`; fetches a token when the registry wants Bearer. */
  private async authHeadersFor(scopes: string[], force: boolean): Promise<OutgoingHttpHeaders> {
    if (this.auth?.registrytoken) return { Authorization: `Bearer ${this.auth.registrytoken}` };
    if (!this.challenge) return {};
    if (this.challenge.scheme === 'bearer') {
      const key = scopes.join(' ');
      let token = force ? undefined : this.tokens.get(key);
      if (!token) {
        token = await this.fetchToken(scopes, false);
        this.tokens.set(key, token);
      }
      return { Authorization: `Bearer ${token}` };
    }
    return this.authHeaders(scopes);
  }

  private authHeaders(_scopes: string[]): OutgoingHttpHeaders {
    const a = this.auth;
    if (this.challenge?.scheme === 'basic' && a?.username !== undefined && a.username !== '') {
      return { Authorization: 'Basic ' + Buffer.from(`${a.username}:${a.password ?? ''}`).toString('base64') };
    }
    return {};
  }

  /** The token flow: GET realm?service&scope (Basic with the credentials), or the refresh_token grant for an identity token. */
  private async fetchToken(scopes: string[], forLogin: boolean): Promise<string> {
    const params = this.challenge!.params;
    if (!params.realm) throw unavailable(`registry ${this.domain} asked for a bearer token but named no realm`);
    const realm = new URL(params.realm);
    const a = this.auth;
    let res: IncomingMessage;
    if (a?.identitytoken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: a.identitytoken, client_id: 'tug' });
      if (params.service) form.set('service', params.service);
      if (scopes.length) form.set('scope', scopes.join(' '));
      res = await send('POST', realm, { tls: this.tls, body: form.toString(), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    } else {
      if (params.service) realm.searchParams.set('service', params.service);
      for (const s of scopes) realm.searchParams.append('scope', s);
      if (forLogin) realm.searchParams.set('client_id', 'tug');
      const headers: OutgoingHttpHeaders = {};
      if (a?.username) headers.Authorization = 'Basic ' + Buffer.from(`${a.username}:${a.password ?? ''}`).toString('base64');
      res = await send('GET', realm, { tls: this.tls, headers });
    }
    const body = await readBody(res, 1024 * 1024);
    if ((res.statusCode ?? 500) >= 400) {
      const status = res.statusCode ?? 500;
      const kind = status === 401 || status === 403 ? 'unauthorized' : status >= 500 ? 'unavailable' : 'invalid';
      throw new TugError(kind, `Get "${params.realm}": ${describeErrorBody(status, body).replace(/^(?!unauthorized)/, status === 401 ? 'unauthorized: ' : '')}`);
    }
    let token: string | undefined;
    try {
      const j = JSON.parse(body.toString('utf8')) as { token?: string; access_token?: string };
      token = j.token || j.access_token;
    } catch {
      // fall through
    }
    if (!token) throw unavailable(`token server ${params.realm} answered without a token`);
    return token;
  }
}

function pickChallenge(list: AuthChallenge[]): AuthChallenge | undefined {
  return list.find((c) => c.scheme === 'bearer') ?? list.find((c) => c.scheme === 'basic');
}

function scopeStrings(scopes: Record<string, string>): string[] {
  return Object.entries(scopes).map(([repo, actions]) => `repository:${repo}:${actions}`);
}

function backoff(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, 250 * 2 ** (attempt - 1)));
}
