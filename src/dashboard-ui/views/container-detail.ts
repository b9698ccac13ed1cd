// Engine → one container: state and actions, live CPU and memory plots,
// followed logs with search, an exec terminal and the full inspect JSON. A
// container that is removed (now or before the page opened) says so.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { call, get, bytes, byteRate, ApiError, keepStreaming, streamJson } from '../api.js';
import { useStats } from '../engine-live.js';
import { Action, Badge, ErrorBox, toneOfState } from '../widgets/common.js';
import { Plot } from '../widgets/plot.js';
import { LogView } from '../widgets/log-view.js';
import { Terminal } from '../widgets/terminal.js';

function useInspect(id: string): { c?: any; error?: ApiError; gone: boolean } {
  const [state, setState] = useState<{ c?: any; error?: ApiError; gone: boolean }>({ gone: false });
  useEffect(() => {
    const load = (): void => {
      get(`/api/engine/containers/${id}/json`)
        // An inspect sent on 'die' can answer ("removing") after 'destroy' arrived: gone stays gone.
        .then((c) => setState((s) => (s.gone ? s : { c, gone: false })))
        .catch((e: ApiError) => setState((s) => ({ ...s, error: e, gone: e.status === 404 })));
    };
    load();
    // Any event of this container refreshes it; destroy means it is gone.
    return keepStreaming(
      (signal) =>
        streamJson(
          `/api/engine/events?filters=${encodeURIComponent(JSON.stringify({ type: ['container'], container: [id] }))}`,
          (e: { Action?: string }) => {
            if (e.Action === 'destroy') setState((s) => ({ ...s, gone: true, error: new ApiError(404, `container ${id} was removed`) }));
            else if (!e.Action?.startsWith('exec_')) load();
          },
          signal,
        ),
      () => undefined,
    );
  }, [id]);
  return state;
}

export function ContainerDetail({ id, tab }: { id: string; tab: string }) {
  const { c, error, gone } = useInspect(id);
  const running = c?.State?.Running === true && !gone;
  const stats = useStats(c?.Id, running);
  if (gone) {
    const [title, why] = c ? ['This container no longer exists.', 'It was removed while this page was open.'] : ['No such container.', `There is no container ${id} on this engine (it was removed, or never existed).`];
    return html`<section><h2>Container ${id.slice(0, 12)}</h2><div class="error gone" role="alert" data-status="404"><b>${title}</b><div>${why} <a href="#/engine/containers">Back to containers</a></div></div></section>`;
  }
  if (!c) return html`<section><${ErrorBox} error=${error} what=${`container ${id}`} /><p class="muted">loading…</p></section>`;
  const name = String(c.Name).replace(/^\//, '');
  const act = (verb: string) => () => call('POST', `/api/engine/containers/${c.Id}/${verb}`);
  const tabs = ['overview', 'logs', 'exec', 'inspect'];
  return html`<section>
    <h2>${name} <${Badge} text=${c.State.Status} tone=${toneOfState(c.State.Status)} /> ${c.State.Health ? html`<${Badge} text=${c.State.Health.Status} tone=${toneOfState(c.State.Health.Status)} />` : null}</h2>
    <div class="toolbar">
      ${running ? html`<${Action} label="stop" run=${act('stop')} /> <${Action} label="restart" run=${act('restart')} />` : html`<${Action} label="start" run=${act('start')} />`}
      <${Action} label="remove" kind="danger" confirm=${`Remove container ${name}?`} run=${() => call('DELETE', `/api/engine/containers/${c.Id}?force=1`)} />
    </div>
    <nav class="tabs">${tabs.map((t) => html`<a class=${t === tab ? 'on' : ''} href=${`#/engine/containers/${id}/${t}`}>${t}</a>`)}</nav>
    ${tab === 'overview'
      ? html`<dl class="facts">
            <dt>image</dt><dd class="mono">${c.Config.Image}</dd>
            <dt>command</dt><dd class="mono">${[...(c.Config.Entrypoint ?? []), ...(c.Config.Cmd ?? [])].join(' ')}</dd>
            <dt>started</dt><dd>${c.State.StartedAt}</dd>
            <dt>IP</dt><dd>${Object.values(c.NetworkSettings?.Networks ?? {}).map((n: any) => n.IPAddress).join(', ') || '—'}</dd>
          </dl>
          ${running
            ? html`<div class="plots"><${Plot} title="CPU %" t=${stats.t} values=${stats.cpu} unit=${(v: number) => `${v.toFixed(1)}%`} /><${Plot} title="memory" t=${stats.t} values=${stats.mem} unit=${bytes} /><${Plot} title="network" t=${stats.t} values=${stats.rx} unit=${byteRate} second=${{ firstLabel: 'received', label: 'sent', values: stats.tx }} /></div>`
            : html`<p class="muted">Not running: no live usage.</p>`}`
      : null}
    ${tab === 'logs' ? html`<${LogView} url=${`/api/engine/containers/${c.Id}/logs?follow=1&stdout=1&stderr=1&tail=500`} multiplexed=${!c.Config.Tty} />` : null}
    ${tab === 'exec' ? (running ? html`<${Terminal} url=${`/api/engine/exec?container=${c.Id}&cmd=sh`} wire="raw" />` : html`<p class="muted">Start the container to open a terminal in it.</p>`) : null}
    ${tab === 'inspect' ? html`<pre class="json">${JSON.stringify(c, null, 2)}</pre>` : null}
  </section>`;
}
