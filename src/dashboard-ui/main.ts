// The dashboard page: checks the session, then routes #/… to a view. preact +
// htm: components and keyed DOM diffing (lists that update row by row from
// events and watches) for ~5 kB, with no JSX compile step and no virtual-DOM
// framework to ship; plain DOM would mean hand-written diffing for every list.
import '@xterm/xterm/css/xterm.css';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { html, render } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { get, call, setCsrf, ApiError, type SessionInfo } from './api.js';
import { LoginView } from './views/login.js';
import { ContainersView } from './views/containers.js';
import { ContainerDetail } from './views/container-detail.js';
import { ImagesView, VolumesView, NetworksView } from './views/engine-objects.js';
import { OverviewView, NodesView, ServicesView, EventsView } from './views/cluster.js';
import { WorkloadsView } from './views/workloads.js';
import { HubView } from './views/hub.js';
import { PodsView, PodDetail } from './views/pods.js';

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = (): void => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function route(parts: string[]) {
  const [area, kind, a, b, c] = parts;
  if (area === 'engine') {
    if (kind === 'containers' && a) return html`<${ContainerDetail} key=${a} id=${a} tab=${b ?? 'overview'} />`;
    if (kind === 'images') return html`<${ImagesView} />`;
    if (kind === 'volumes') return html`<${VolumesView} />`;
    if (kind === 'networks') return html`<${NetworksView} />`;
    if (kind === 'registry') return html`<${HubView} />`;
    return html`<${ContainersView} />`;
  }
  if (area === 'cluster') {
    if (kind === 'nodes') return html`<${NodesView} />`;
    if (kind === 'workloads') return html`<${WorkloadsView} />`;
    if (kind === 'pods' && a && b) return html`<${PodDetail} key=${`${a}/${b}`} ns=${a} name=${b} tab=${c ?? 'overview'} />`;
    if (kind === 'pods') return html`<${PodsView} />`;
    if (kind === 'services') return html`<${ServicesView} />`;
    if (kind === 'events') return html`<${EventsView} />`;
    return html`<${OverviewView} />`;
  }
  return null;
}

function Nav({ s, here }: { s: SessionInfo; here: string }) {
  const link = (href: string, label: string) => html`<a href=${href} class=${here.startsWith(href) ? 'on' : ''}>${label}</a>`;
  return html`<header>
    <b class="brand">tug</b>
    ${s.engine ? html`<span class="area">Engine</span>${link('#/engine/containers', 'Containers')}${link('#/engine/images', 'Images')}${link('#/engine/volumes', 'Volumes')}${link('#/engine/networks', 'Networks')}${link('#/engine/registry', 'Registry')}` : null}
    ${s.kube ? html`<span class="area">Cluster</span>${link('#/cluster/overview', 'Overview')}${link('#/cluster/nodes', 'Nodes')}${link('#/cluster/workloads', 'Workloads')}${link('#/cluster/pods', 'Pods')}${link('#/cluster/services', 'Services')}${link('#/cluster/events', 'Events')}` : null}
    <span class="spacer"></span>
    <span class="muted" id="user">${s.user}</span>
    <button onClick=${async () => { await call('POST', '/api/logout').catch(() => undefined); location.hash = '#/login'; location.reload(); }}>log out</button>
  </header>`;
}

function App() {
  const hash = useHash();
  const [session, setSession] = useState<SessionInfo | null | undefined>(undefined);
  useEffect(() => {
    get<SessionInfo>('/api/session')
      .then((s) => {
        setCsrf(s.csrf);
        setSession(s);
      })
      .catch((e: ApiError) => setSession(e.status === 401 ? null : null));
  }, []);
  if (session === undefined) return html`<p class="muted">loading…</p>`;
  if (session === null || hash === '#/login') {
    return html`<${LoginView} expired=${hash === '#login-expired'} onLogin=${(s: SessionInfo) => {
      setCsrf(s.csrf);
      setSession(s);
      location.hash = s.engine ? '#/engine/containers' : '#/cluster/overview';
    }} />`;
  }
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (!parts.length || !route(parts)) parts.splice(0, parts.length, ...(session.engine ? ['engine', 'containers'] : ['cluster', 'overview']));
  if ((parts[0] === 'engine' && !session.engine) || (parts[0] === 'cluster' && !session.kube)) {
    return html`<${Nav} s=${session} here=${hash} /><main><div class="error" role="alert" data-status="403"><b>Forbidden (403)</b><div>This login has no access to the ${parts[0]} here.</div></div></main>`;
  }
  return html`<${Nav} s=${session} here=${hash} /><main>${route(parts)}</main>`;
}

render(html`<${App} />`, document.getElementById('app')!);
