// Talking to the dashboard's backend: JSON calls that carry the session's CSRF
// token, and line-delimited JSON streams (Docker events and stats, Kubernetes
// watches) read incrementally from fetch bodies.

export interface SessionInfo {
  user: string;
  engine: boolean;
  kube: boolean;
  /** The registry the hub view lists, if the daemon was given one. */
  registry?: string;
  csrf: string;
}

let csrf = '';

export function setCsrf(token: string): void {
  csrf = token;
}

export function csrfToken(): string {
  return csrf;
}

/** An error answer: its HTTP status and the server's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  let message = text || res.statusText;
  try {
    const j = JSON.parse(text) as { message?: string };
    if (j.message) message = j.message;
  } catch {
    // plain text answer
  }
  return new ApiError(res.status, message);
}

/** The CSRF token of the session the cookie names now: a login in another tab replaces the session (one cookie per browser) and with it the token. */
export async function freshCsrf(): Promise<string> {
  const s = await get<SessionInfo>('/api/session');
  csrf = s.csrf;
  return csrf;
}

export async function call<T = any>(method: string, path: string, body?: unknown, contentType = 'application/json', retried = false): Promise<T> {
  const headers: Record<string, string> = {};
  if (method !== 'GET') headers['x-csrf-token'] = csrf;
  if (body !== undefined) headers['content-type'] = contentType;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  if (res.status === 403 && method !== 'GET' && !retried && res.headers.get('x-tug-csrf') === 'refused') {
    await freshCsrf();
    return call<T>(method, path, body, contentType, true);
  }
  if (res.status === 401 && path !== '/api/login') {
    location.hash = '#/login';
    throw new ApiError(401, 'not logged in');
  }
  if (!res.ok) throw await errorOf(res);
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const get = <T = any>(path: string): Promise<T> => call<T>('GET', path);

/** A GET whose answer is text (Prometheus metrics), with call's error handling. */
export async function getText(path: string): Promise<string> {
  const res = await fetch(path, { credentials: 'same-origin', headers: { accept: 'text/plain' } });
  if (res.status === 401) {
    location.hash = '#/login';
    throw new ApiError(401, 'not logged in');
  }
  if (!res.ok) throw await errorOf(res);
  return res.text();
}

/** Bytes per second, as network plots label them. */
export function byteRate(n: number): string {
  return `${bytes(n)}/s`;
}

/** Reads a streaming response as bytes until it ends or signal aborts. */
export async function streamBytes(path: string, onChunk: (b: Uint8Array) => void, signal: AbortSignal): Promise<void> {
  const res = await fetch(path, { signal, credentials: 'same-origin' });
  if (!res.ok) throw await errorOf(res);
  const reader = res.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    if (value) onChunk(value);
  }
}

/** Reads a stream of JSON values, one per line. */
export async function streamJson(path: string, onValue: (v: any) => void, signal: AbortSignal): Promise<void> {
  const decoder = new TextDecoder();
  let pending = '';
  await streamBytes(
    path,
    (b) => {
      pending += decoder.decode(b, { stream: true });
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const l of lines) if (l.trim()) onValue(JSON.parse(l));
    },
    signal,
  );
}

/** Keeps a stream open: reconnects after a drop (not after abort) with a short back-off. */
export function keepStreaming(open: (signal: AbortSignal) => Promise<void>, onError: (e: unknown) => void): () => void {
  const ctl = new AbortController();
  void (async () => {
    while (!ctl.signal.aborted) {
      try {
        await open(ctl.signal);
      } catch (e) {
        if (ctl.signal.aborted) return;
        onError(e);
        if (e instanceof ApiError && (e.status === 401 || e.status === 403 || e.status === 404)) return;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  return () => ctl.abort();
}

/** Human sizes as docker prints them. */
export function bytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n >= 100 || i === 0 ? n.toFixed(0) : n.toFixed(1)} ${units[i]}`;
}

export function ago(ts: string | number | undefined): string {
  if (ts === undefined || ts === '') return '—';
  const t = typeof ts === 'number' ? ts * 1000 : Date.parse(ts);
  if (!Number.isFinite(t)) return '—';
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}
