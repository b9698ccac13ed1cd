// Cluster → pods (status, restarts, node) and one pod: its containers,
// events, followed logs, an exec terminal over the API server's
// v4.channel.k8s.io WebSocket, and usage plots from metrics.k8s.io.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { call, bytes, byteRate, ago } from '../api.js';
import { useNetworkRates } from '../kube-metrics.js';
import { useKubeList, usePoll, quantity, uidOf, type KubeObject } from '../kube-live.js';
import { Table } from '../widgets/virtual-table.js';
import { Action, Badge, ErrorBox, Loading, toneOfState } from '../widgets/common.js';
import { Plot } from '../widgets/plot.js';
import { LogView } from '../widgets/log-view.js';
import { Terminal } from '../widgets/terminal.js';

/** The reason a pod is shown as its state: a waiting/terminated container reason before the phase, as kubectl does. */
export function podStatus(p: KubeObject): string {
  if (p.metadata && (p.metadata as any).deletionTimestamp) return 'Terminating';
  for (const c of p.status?.containerStatuses ?? []) {
    if (c.state?.waiting?.reason) return c.state.waiting.reason;
    if (c.state?.terminated?.reason && p.status?.phase !== 'Succeeded') return c.state.terminated.reason;
  }
  const ready = p.status?.conditions?.find((c: any) => c.type === 'Ready')?.status === 'True';
  if (p.status?.phase === 'Running' && !ready) return 'NotReady';
  return p.status?.phase ?? 'Unknown';
}

const restarts = (p: KubeObject): number => (p.status?.containerStatuses ?? []).reduce((n: number, c: any) => n + (c.restartCount ?? 0), 0);

/** Why a pod needs attention, or undefined. */
export function podProblem(p: KubeObject): string | undefined {
  const s = podStatus(p);
  if (['Running', 'Succeeded', 'Completed', 'Pending', 'ContainerCreating', 'Terminating'].includes(s)) return restarts(p) >= 3 ? `${restarts(p)} restarts` : undefined;
  return s;
}

const podHead = [
  { title: 'namespace', width: '12%' },
  { title: 'name', width: '22%' },
  { title: 'status', width: '13%' },
  { title: 'ready', width: '7%' },
  { title: 'restarts', width: '7%' },
  { title: 'node', width: '15%' },
  { title: 'IP', width: '14%' },
  { title: 'age', width: '10%' },
];

function podRow(p: KubeObject) {
  const st = podStatus(p);
  const cs = p.status?.containerStatuses ?? [];
  return html`<tr data-pod=${p.metadata.name} data-status=${st}><td>${p.metadata.namespace}</td><td class="mono"><a href=${`#/cluster/pods/${p.metadata.namespace}/${p.metadata.name}`}>${p.metadata.name}</a></td><td><${Badge} text=${st} tone=${toneOfState(st)} /></td><td>${cs.filter((c: any) => c.ready).length}/${p.spec?.containers?.length ?? 0}</td><td>${restarts(p)}</td><td>${p.spec?.nodeName ?? '—'}</td><td class="mono">${p.status?.podIP ?? '—'}</td><td>${ago(p.metadata.creationTimestamp)}</td></tr>`;
}

/** Whether a pod's name, node, IP or status contains the filter text. */
const podMatches = (p: KubeObject, text: string): boolean => [p.metadata.name, p.spec?.nodeName, p.status?.podIP, podStatus(p)].some((f) => typeof f === 'string' && f.toLowerCase().includes(text));

export function PodsView() {
  const pods = useKubeList('/api/v1/pods');
  const [ns, setNs] = useState('');
  const [text, setText] = useState('');
  const needle = text.trim().toLowerCase();
  const shown = ns || needle ? pods.items.filter((p) => (!ns || p.metadata.namespace === ns) && (!needle || podMatches(p, needle))) : pods.items;
  const namespaces = [...new Set(pods.items.map((p) => p.metadata.namespace!))].sort();
  return html`<section><h2>Pods <span class="muted">${shown.length === pods.items.length ? pods.items.length : `${shown.length} of ${pods.items.length}`}</span></h2>
    <div class="toolbar"><label>namespace <select value=${ns} onChange=${(e: Event) => setNs((e.target as HTMLSelectElement).value)}><option value="">all</option>${namespaces.map((n) => html`<option value=${n}>${n}</option>`)}</select></label>
      <label>filter <input type="search" id="pods-filter" placeholder="name, node, IP or status" value=${text} onInput=${(e: Event) => setText((e.target as HTMLInputElement).value)} /></label></div>
    <${ErrorBox} error=${pods.error} what="pods" /><${Loading} loaded=${pods.loaded} />
    <${Table} id="pods" head=${podHead} rows=${shown} keyOf=${uidOf} row=${podRow} /></section>`;
}

function usePodUsage(ns: string, name: string, live: boolean) {
  const poll = usePoll<{ containers: { usage: { cpu: string; memory: string } }[] }>(live ? `/api/kube/apis/metrics.k8s.io/v1beta1/namespaces/${ns}/pods/${name}` : undefined, 2000);
  const [s, setS] = useState<{ t: number[]; cpu: number[]; mem: number[] }>({ t: [], cpu: [], mem: [] });
  useEffect(() => {
    if (!poll.value) return;
    const cpu = poll.value.containers.reduce((n, c) => n + quantity(c.usage.cpu), 0);
    const mem = poll.value.containers.reduce((n, c) => n + quantity(c.usage.memory), 0);
    setS((o) => ({ t: [...o.t, Date.now() / 1000].slice(-150), cpu: [...o.cpu, cpu].slice(-150), mem: [...o.mem, mem].slice(-150) }));
  }, [poll.value]);
  return { ...s, error: poll.error };
}

export function PodDetail({ ns, name, tab }: { ns: string; name: string; tab: string }) {
  const list = useKubeList(`/api/v1/namespaces/${ns}/pods?fieldSelector=metadata.name%3D${encodeURIComponent(name)}`);
  const events = useKubeList(`/api/v1/namespaces/${ns}/events?fieldSelector=involvedObject.name%3D${encodeURIComponent(name)}`);
  const p = list.items[0];
  const usage = usePodUsage(ns, name, p?.status?.phase === 'Running');
  const net = useNetworkRates(p?.status?.phase === 'Running' ? p.spec?.nodeName : undefined, { namespace: ns, name });
  const [container, setContainer] = useState<string | undefined>();
  if (list.error) return html`<section><h2>Pod ${ns}/${name}</h2><${ErrorBox} error=${list.error} what=${`pod ${ns}/${name}`} /></section>`;
  if (!list.loaded) return html`<section><h2>Pod ${ns}/${name}</h2><p class="muted">loading…</p></section>`;
  if (!p) return html`<section><h2>Pod ${ns}/${name}</h2><div class="error gone" role="alert"><b>This pod no longer exists.</b><div>There is no pod ${name} in namespace ${ns} (it was deleted, or replaced by its controller under a new name). <a href="#/cluster/pods">Back to pods</a></div></div></section>`;
  const c = container ?? p.spec.containers[0].name;
  const st = podStatus(p);
  const tabs = ['overview', 'logs', 'exec', 'yaml'];
  const base = `/api/kube/api/v1/namespaces/${ns}/pods/${name}`;
  return html`<section>
    <h2>${ns}/${name} <${Badge} text=${st} tone=${toneOfState(st)} /></h2>
    <div class="toolbar">
      ${p.spec.containers.length > 1 ? html`<label>container <select value=${c} onChange=${(e: Event) => setContainer((e.target as HTMLSelectElement).value)}>${p.spec.containers.map((x: any) => html`<option>${x.name}</option>`)}</select></label>` : null}
      <${Action} label="delete" kind="danger" confirm=${`Delete pod ${name}?`} run=${() => call('DELETE', base)} />
    </div>
    <nav class="tabs">${tabs.map((t) => html`<a class=${t === tab ? 'on' : ''} href=${`#/cluster/pods/${ns}/${name}/${t}`}>${t}</a>`)}</nav>
    ${tab === 'overview'
      ? html`<dl class="facts"><dt>node</dt><dd>${p.spec.nodeName ?? '—'}</dd><dt>IP</dt><dd>${p.status?.podIP ?? '—'}</dd><dt>restarts</dt><dd>${restarts(p)}</dd><dt>created</dt><dd>${p.metadata.creationTimestamp}</dd></dl>
          <table class="list"><thead><tr><th>container</th><th>image</th><th>ready</th><th>state</th><th>restarts</th></tr></thead><tbody>
          ${(p.status?.containerStatuses ?? []).map((s: any) => html`<tr><td>${s.name}</td><td class="mono">${s.image}</td><td>${s.ready ? 'yes' : 'no'}</td><td>${Object.keys(s.state ?? {})[0]} ${Object.values(s.state ?? {})[0] && (Object.values(s.state)[0] as any).reason ? `(${(Object.values(s.state)[0] as any).reason})` : ''}</td><td>${s.restartCount}</td></tr>`)}
          </tbody></table>
          ${p.status?.phase === 'Running' ? html`<div class="plots"><${Plot} title="pod CPU (cores)" t=${usage.t} values=${usage.cpu} unit=${(v: number) => v.toFixed(3)} /><${Plot} title="pod memory" t=${usage.t} values=${usage.mem} unit=${bytes} />${net.error && !net.t.length ? html`<${ErrorBox} error=${net.error} what="the pod's network (its node agent's /metrics/cadvisor: get on nodes/metrics)" />` : html`<${Plot} title="pod network" t=${net.t} values=${net.a} unit=${byteRate} second=${{ firstLabel: 'received', label: 'sent', values: net.b }} />`}</div>` : null}
          <h3>Events</h3><${ErrorBox} error=${events.error} what="events" />
          <table class="list" id="pod-events"><tbody>${events.items.map((e) => html`<tr><td>${ago(e.lastTimestamp ?? e.metadata.creationTimestamp)}</td><td>${e.type}</td><td>${e.reason}</td><td>${e.message}</td></tr>`)}</tbody></table>`
      : null}
    ${tab === 'logs' ? html`<${LogView} url=${`${base}/log?follow=true&tailLines=500&container=${encodeURIComponent(c)}`} multiplexed=${false} />` : null}
    ${tab === 'exec' ? html`<${Terminal} url=${`${base}/exec?container=${encodeURIComponent(c)}&command=sh&stdin=true&stdout=true&stderr=true&tty=true`} wire="k8s" />` : null}
    ${tab === 'yaml' ? html`<pre class="json">${JSON.stringify(p, null, 2)}</pre>` : null}
  </section>`;
}

