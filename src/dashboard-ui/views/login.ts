// The login page: a bearer token (the daemon's dashboard token, or a
// Kubernetes ServiceAccount/admin token on a cluster). It shows no data; a
// wrong token stays here with the server's reason.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { call, ApiError, type SessionInfo } from '../api.js';

export function LoginView({ onLogin, expired }: { onLogin: (s: SessionInfo) => void; expired: boolean }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>(expired ? 'That login link was used or has expired: run tug dashboard again, or paste a token.' : undefined);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    try {
      onLogin(await call<SessionInfo>('POST', '/api/login', { token: token.trim() }));
    } catch (err) {
      setError((err as ApiError).message);
    }
  };
  return html`<main class="login" id="login">
    <h1>tug</h1>
    <form onSubmit=${submit}>
      <label for="token">Token</label>
      <input id="token" name="token" type="password" autocomplete="off" value=${token} onInput=${(e: Event) => setToken((e.target as HTMLInputElement).value)} placeholder="bearer token" />
      <button type="submit">Log in</button>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    </form>
    <p class="muted">Run <code>tug dashboard --root DIR</code> (a daemon) or <code>tug dashboard --data-dir DIR</code> (a server) for a login link, or paste the token in DIR/dashboard/token, or a Kubernetes ServiceAccount token (the cluster's RBAC then decides what you see and may do).</p>
  </main>`;
}
