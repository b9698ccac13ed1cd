// Engine → Registry ("hub"): the repositories of the registry the daemon was
// given (--ui-registry), each tag with its digest, size and push time, and
// the command that pulls it, with a button that copies it.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { get, bytes, ago, ApiError } from '../api.js';
import { ErrorBox, Loading } from '../widgets/common.js';
import type { HubListing } from '../../dashboard/hub-types.js';

/** A read-only field with the command and a button that copies it (the field stays selectable where the clipboard API is refused). */
function CopyCommand({ command }: { command: string }) {
  const [copied, setCopied] = useState<'yes' | 'no' | undefined>();
  const copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(command);
      setCopied('yes');
    } catch {
      setCopied('no');
    }
  };
  return html`<span class="copy"><input class="mono pull-command" readonly value=${command} size=${Math.min(60, command.length)} onFocus=${(e: Event) => (e.target as HTMLInputElement).select()} /><button data-action="copy" onClick=${copy}>${copied === 'yes' ? 'copied' : 'copy'}</button>${copied === 'no' ? html`<span class="muted"> select and copy it</span>` : null}</span>`;
}

export function HubView() {
  const [state, setState] = useState<{ value?: HubListing; error?: ApiError }>({});
  const [n, setN] = useState(0);
  useEffect(() => {
    get<HubListing>('/api/hub')
      .then((value) => setState({ value }))
      .catch((error: ApiError) => setState({ error }));
  }, [n]);
  const hub = state.value;
  return html`<section><h2>Registry ${hub ? html`<span class="muted mono">${hub.registry}</span>` : null}</h2>
    <div class="toolbar"><button onClick=${() => setN((x) => x + 1)}>refresh</button></div>
    <${ErrorBox} error=${state.error} what="the registry" /><${Loading} loaded=${!!hub || !!state.error} />
    ${hub && !hub.repositories.length ? html`<p class="muted">This registry holds no repositories yet: <span class="mono">tug push ${hub.registry}/NAME:TAG</span> puts one there.</p>` : null}
    ${hub?.truncated ? html`<p class="muted">Only the first repositories and tags are listed.</p>` : null}
    ${hub
      ? html`<table class="list" id="hub"><thead><tr><th>repository</th><th>tag</th><th>digest</th><th>size</th><th>pushed</th><th>pull</th></tr></thead><tbody>
        ${hub.repositories.flatMap((r) =>
          r.error
            ? [html`<tr data-repo=${r.name}><td class="mono">${r.name}</td><td colspan="5" class="action-error">${r.error}</td></tr>`]
            : r.tags.map(
                (t) => html`<tr data-repo=${r.name} data-tag=${t.tag} data-digest=${t.digest ?? ''}>
                  <td class="mono">${r.name}</td><td class="mono">${t.tag}</td>
                  <td class="mono digest" title=${t.digest ?? ''}>${t.error ? html`<span class="action-error">${t.error}</span>` : (t.digest ?? '—').slice(0, 19)}</td>
                  <td>${t.platforms ? `index: ${t.platforms.join(', ')}` : bytes(t.size)}</td>
                  <td title=${t.pushed ?? ''}>${t.pushed ? `${ago(t.pushed)} ago` : '—'}</td>
                  <td><${CopyCommand} command=${`tug pull ${hub.registry}/${r.name}:${t.tag}`} /></td></tr>`,
              ),
        )}
        </tbody></table>`
      : null}
  </section>`;
}
