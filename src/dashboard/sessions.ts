// Browser sessions of the dashboard: an opaque id in an HttpOnly,
// SameSite=Strict cookie, mapped in memory to what the login proved (the
// engine token, a Kubernetes bearer token) and a CSRF token that every
// state-changing request must echo in a header. Memory only: a daemon restart
// logs everyone out, and no credential is written anywhere new.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const SESSION_COOKIE = 'tug_session';
export const CSRF_HEADER = 'x-csrf-token';
const IDLE_MS = 12 * 3600_000;

export interface Session {
  id: string;
  csrf: string;
  /** Who logged in, as shown in the page. */
  user: string;
  /** May use the engine (logged in with the daemon's own token or a ticket). */
  engine: boolean;
  /** The bearer token forwarded to the Kubernetes API (its RBAC decides), if any. */
  kubeToken?: string;
  lastUsed: number;
}

export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  create(init: Omit<Session, 'id' | 'csrf' | 'lastUsed'>): Session {
    const s: Session = { ...init, id: randomBytes(32).toString('base64url'), csrf: randomBytes(24).toString('base64url'), lastUsed: Date.now() };
    this.sessions.set(s.id, s);
    return s;
  }

  /** The live session a request's cookie names, or undefined. */
  fromRequest(req: IncomingMessage): Session | undefined {
    const id = cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (Date.now() - s.lastUsed > IDLE_MS) {
      this.sessions.delete(id);
      return undefined;
    }
    s.lastUsed = Date.now();
    return s;
  }

  delete(id: string): void {
    this.sessions.delete(id);
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
