// Browser sessions of the dashboard: an opaque id in an HttpOnly,
// SameSite=Strict cookie, mapped to what the login proved (the daemon's
// owner, or a Kubernetes bearer token) and a CSRF token that every
// state-changing request must echo in a header.
//
// Sessions survive a daemon restart: they are kept in ROOT/dashboard/sessions.json
// (0600, in the 0700 dashboard directory) under the SHA-256 of their id, never
// the id itself, so the file alone logs no one in. A user's Kubernetes token
// is stored encrypted (AES-256-GCM) with a key derived from the session id,
// which only the browser's cookie holds: the file alone does not reveal it
// either. The CSRF token is derived from the id too, so nothing else secret is
// written. An owner's session stores no token at all (the daemon's own admin
// token is looked up when used). Sessions idle longer than IDLE_MS are dropped,
// in memory at use and from the file at start and on each save.
import { randomBytes, timingSafeEqual, createHash, createHmac, hkdfSync, createCipheriv, createDecipheriv } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { writeFileAtomic } from '../util/atomic-file.js';

export const SESSION_COOKIE = 'tug_session';
export const CSRF_HEADER = 'x-csrf-token';
export const IDLE_MS = 12 * 3600_000;
/** lastUsed is written back at most this often per session (not on every request). */
const TOUCH_WRITE_MS = 60_000;

export interface Session {
  id: string;
  csrf: string;
  /** Who logged in, as shown in the page. */
  user: string;
  /** The daemon's owner (its login token or a ticket): may use the engine, and the cluster with the daemon's admin token. */
  engine: boolean;
  /** The bearer token of a user who logged in with their own (the API server's RBAC judges it). */
  kubeToken?: string;
  lastUsed: number;
}

/** One session as the file keeps it. */
interface StoredSession {
  /** SHA-256 of the id, hex. */
  hash: string;
  user: string;
  engine: boolean;
  /** The user's token sealed with the id's key: iv.tag.ciphertext, base64url. */
  sealedToken?: string;
  lastUsed: number;
}

const hashOf = (id: string): string => createHash('sha256').update(id).digest('hex');
const keyOf = (id: string): Buffer => Buffer.from(hkdfSync('sha256', id, '', 'tug-dashboard-session-token', 32));
const csrfOf = (id: string): string => createHmac('sha256', id).update('tug-dashboard-csrf').digest('base64url');

function seal(id: string, token: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', keyOf(id), iv);
  const body = Buffer.concat([c.update(token, 'utf8'), c.final()]);
  return [iv, c.getAuthTag(), body].map((b) => b.toString('base64url')).join('.');
}

function unseal(id: string, sealed: string): string | undefined {
  const [iv, tag, body] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
  try {
    const d = createDecipheriv('aes-256-gcm', keyOf(id), iv!);
    d.setAuthTag(tag!);
    return Buffer.concat([d.update(body!), d.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

export class SessionStore {
  /** By id hash: the stored form, and once a request has shown the id, the live session. */
  private readonly sessions = new Map<string, { stored: StoredSession; live?: Session; written: number }>();
  private saving: Promise<void> = Promise.resolve();

  private constructor(private readonly file: string | undefined) {}

  /** The sessions kept in dir/sessions.json (expired ones dropped), or memory only without dir. */
  static async open(dir?: string): Promise<SessionStore> {
    const store = new SessionStore(dir ? join(dir, 'sessions.json') : undefined);
    if (!store.file) return store;
    let stored: StoredSession[] = [];
    try {
      stored = (JSON.parse(await readFile(store.file, 'utf8')) as { sessions?: StoredSession[] }).sessions ?? [];
    } catch {
      // No file yet (or a torn one from before atomic writes): nobody stays logged in.
    }
    const now = Date.now();
    for (const s of stored) if (typeof s.hash === 'string' && now - s.lastUsed <= IDLE_MS) store.sessions.set(s.hash, { stored: s, written: s.lastUsed });
    if (stored.length !== store.sessions.size) await store.save();
    return store;
  }

  async create(init: { user: string; engine: boolean; kubeToken?: string }): Promise<Session> {
    const id = randomBytes(32).toString('base64url');
    const s: Session = { ...init, id, csrf: csrfOf(id), lastUsed: Date.now() };
    if (s.engine) delete s.kubeToken;
    const stored: StoredSession = { hash: hashOf(id), user: s.user, engine: s.engine, lastUsed: s.lastUsed, ...(s.kubeToken ? { sealedToken: seal(id, s.kubeToken) } : {}) };
    this.sessions.set(stored.hash, { stored, live: s, written: s.lastUsed });
    await this.save();
    return s;
  }

  /** The live session a request's cookie names, or undefined. */
  fromRequest(req: IncomingMessage): Session | undefined {
    const id = cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
    const hash = hashOf(id);
    const entry = this.sessions.get(hash);
    if (!entry) return undefined;
    const now = Date.now();
    if (now - entry.stored.lastUsed > IDLE_MS) {
      this.sessions.delete(hash);
      void this.save();
      return undefined;
    }
    if (!entry.live) {
      const kubeToken = entry.stored.sealedToken ? unseal(id, entry.stored.sealedToken) : undefined;
      if (entry.stored.sealedToken && kubeToken === undefined) return undefined;
      entry.live = { id, csrf: csrfOf(id), user: entry.stored.user, engine: entry.stored.engine, kubeToken, lastUsed: entry.stored.lastUsed };
    }
    entry.live.lastUsed = entry.stored.lastUsed = now;
    if (now - entry.written > TOUCH_WRITE_MS) {
      entry.written = now;
      void this.save();
    }
    return entry.live;
  }

  async delete(id: string): Promise<void> {
    this.sessions.delete(hashOf(id));
    await this.save();
  }

  /** Writes the file (one write at a time, each of the then-current sessions, expired ones left out). */
  save(): Promise<void> {
    if (!this.file) return Promise.resolve();
    const file = this.file;
    this.saving = this.saving.then(async () => {
      const now = Date.now();
      for (const [h, e] of this.sessions) if (now - e.stored.lastUsed > IDLE_MS) this.sessions.delete(h);
      const data = JSON.stringify({ sessions: [...this.sessions.values()].map((e) => e.stored) });
      await writeFileAtomic(file, `${data}\n`, 0o600).catch((err: Error) => process.stderr.write(`dashboard: could not save the sessions to ${file}: ${err.message}\n`));
    });
    return this.saving;
  }
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

export function sessionCookie(id: string): string {
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict`;
}

export const clearedCookie = `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;

/** Does a request carry this session's CSRF token (header, or for WebSocket upgrades, the csrf query parameter)? */
export function csrfMatches(s: Session, given: string | undefined | null): boolean {
  if (!given) return false;
  const a = Buffer.from(s.csrf);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function sameEquals(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
