// Small pieces every view uses: an error panel that says what failed (a 403
// names the missing right; a 404 says the thing is gone), badges, and an
// action button that posts with the CSRF token and reports failures in place.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import type { ApiError } from '../api.js';

export function ErrorBox({ error, what }: { error?: ApiError; what: string }) {
  if (!error) return null;
  const title = error.status === 403 ? `Forbidden (403): you may not see ${what}` : error.status === 404 ? `Not found (404): ${what}` : `Could not load ${what}`;
  return html`<div class="error" role="alert" data-status=${error.status}><b>${title}</b><div>${error.message}</div></div>`;
}

export function Badge({ text, tone }: { text: string; tone?: 'ok' | 'warn' | 'bad' | 'idle' }) {
  return html`<span class=${`badge ${tone ?? 'idle'}`}>${text}</span>`;
}

export function toneOfState(state: string): 'ok' | 'warn' | 'bad' | 'idle' {
  if (['running', 'Running', 'Ready', 'Succeeded', 'healthy', 'Complete'].includes(state)) return 'ok';
  if (['paused', 'restarting', 'Pending', 'created', 'starting', 'ContainerCreating', 'Progressing'].includes(state)) return 'warn';
  if (['dead', 'Failed', 'unhealthy', 'NotReady', 'CrashLoopBackOff', 'Error', 'OOMKilled', 'ImagePullBackOff', 'ErrImagePull'].includes(state)) return 'bad';
  return 'idle';
}

/** A button that runs an action; while it runs it is disabled, and a failure shows next to it. */
export function Action({ label, run, confirm: ask, kind }: { label: string; run: () => Promise<unknown>; confirm?: string; kind?: 'danger' }) {
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | undefined>();
  const click = async (): Promise<void> => {
    if (ask && !window.confirm(ask)) return;
    setBusy(true);
    setErr(undefined);
    try {
      await run();
    } catch (e) {
      const status = (e as ApiError).status;
      setErr(`${status ? `${status}: ` : ''}${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  return html`<span class="action"><button class=${kind ?? ''} disabled=${busy} onClick=${click} data-action=${label}>${label}</button>${err ? html`<span class="action-error" role="alert">${err}</span>` : null}</span>`;
}

export function Loading({ loaded }: { loaded: boolean }) {
  return loaded ? null : html`<div class="muted">loading…</div>`;
}
