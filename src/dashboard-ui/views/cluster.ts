// Cluster → overview, nodes (capacity, allocatable, live usage from
// metrics.k8s.io), Services with their endpoints and the events stream. Each
// list is a watch (kube-live.ts); a list the user's RBAC refuses shows the 403.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { bytes, byteRate, ago } from '../api.js';
import { useApiServerRates, useNetworkRates } from '../kube-metrics.js';
import { useKubeList, usePoll, quantity, keyOf, uidOf, type KubeObject } from '../kube-live.js';
import { Table } from '../widgets/virtual-table.js';
import { Badge, ErrorBox, Loading } from '../widgets/common.js';
import { Plot } from '../widgets/plot.js';
import { podProblem } from './pods.js';

const ready = (n: KubeObject): boolean => n.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') ?? false;

/** Deployments, StatefulSets and DaemonSets that have fewer ready replicas than wanted. */
function failingWorkloads(deps: KubeObject[], sts: KubeObject[], dss: KubeObject[]): { kind: string; o: KubeObject; why: string }[] {
  const out: { kind: string; o: KubeObject; why: string }[] = [];
  for (const d of deps) if ((d.status?.readyReplicas ?? 0) < (d.spec?.replicas ?? 1)) out.push({ kind: 'Deployment', o: d, why: `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1} ready` });
  for (const s of sts) if ((s.status?.readyReplicas ?? 0) < (s.spec?.replicas ?? 1)) out.push({ kind: 'StatefulSet', o: s, why: `${s.status?.readyReplicas ?? 0}/${s.spec?.replicas ?? 1} ready` });
  for (const d of dss) if ((d.status?.numberReady ?? 0) < (d.status?.desiredNumberScheduled ?? 0)) out.push({ kind: 'DaemonSet', o: d, why: `${d.status?.numberReady ?? 0}/${d.status?.desiredNumberScheduled} ready` });
  return out;
}

export function OverviewView() {
  const nodes = useKubeList('/api/v1/nodes');
  const pods = useKubeList('/api/v1/pods');
  const deps = useKubeList('/apis/apps/v1/deployments');
  const sts = useKubeList('/apis/apps/v1/statefulsets');
  const dss = useKubeList('/apis/apps/v1/daemonsets');
  const phases = new Map<string, number>();
  for (const p of pods.items) phases.set(p.status?.phase ?? 'Unknown', (phases.get(p.status?.phase ?? 'Unknown') ?? 0) + 1);
  const failing = failingWorkloads(deps.items, sts.items, dss.items);
  const badPods = pods.items.map((p) => ({ p, why: podProblem(p) })).filter((x) => x.why);
  return html`<section><h2>Cluster overview</h2>
    <${ErrorBox} error=${nodes.error} what="nodes" /><${ErrorBox} error=${pods.error} what="pods" />
    <div class="cards">
      <div class="card" id="nodes-ready"><div class="big">${nodes.items.filter(ready).length}/${nodes.items.length}</div>nodes Ready</div>
      ${[...phases].map(([phase, n]) => html`<div class="card" data-phase=${phase}><div class="big">${n}</div>pods ${phase}</div>`)}
      <div class="card"><div class="big">${deps.items.length}</div>Deployments</div>
    </div>
    <h3>Needs attention</h3>
    ${failing.length || badPods.length
      ? html`<table class="list" id="failing"><tbody>
          ${failing.map((f) => html`<tr><td>${f.kind}</td><td class="mono">${f.o.metadata.namespace}/${f.o.metadata.name}</td><td><${Badge} text=${f.why} tone="bad" /></td></tr>`)}
          ${badPods.map((x) => html`<tr><td>Pod</td><td class="mono"><a href=${`#/cluster/pods/${x.p.metadata.namespace}/${x.p.metadata.name}`}>${x.p.metadata.namespace}/${x.p.metadata.name}</a></td><td><${Badge} text=${x.why!} tone="bad" /></td></tr>`)}
        </tbody></table>`
      : html`<p class="muted">${pods.loaded ? 'Every workload has its replicas ready.' : 'loading…'}</p>`}
    <${ApiServerPanel} />
  </section>`;
}

/** The API server's request rate and latency, from its /metrics with the user's own token. */
function ApiServerPanel() {
  const r = useApiServerRates();
  return html`<div id="apiserver-metrics"><h3>API server</h3>
    ${r.error && !r.t.length
      ? html`<${ErrorBox} error=${r.error} what=${"the API server's metrics (GET /metrics: the system:monitoring ClusterRole grants it)"} />`
      : html`<div class="plots"><${Plot} title="API requests/s" t=${r.t} values=${r.a} unit=${(v: number) => v.toFixed(1)} /><${Plot} title="API latency (mean, watches excluded)" t=${r.t} values=${r.b} unit=${(v: number) => `${(v * 1000).toFixed(1)} ms`} /></div>`}
  </div>`;
}

interface NodeMetrics {
  items: { metadata: { name: string }; usage: { cpu: string; memory: string } }[];
}

/** Usage series per node, from polling metrics.k8s.io (it serves the latest scrape; there is no watch). */
function useNodeUsage(): { series: Map<string, { t: number[]; cpu: number[]; mem: number[] }>; error?: any } {
  const poll = usePoll<NodeMetrics>('/api/kube/apis/metrics.k8s.io/v1beta1/nodes', 2000);
  const [series] = useState(() => new Map<string, { t: number[]; cpu: number[]; mem: number[] }>());
  const [, setTick] = useState(0);
  useEffect(() => {
    if (!poll.value) return;
    const now = Date.now() / 1000;
    for (const m of poll.value.items) {
      const s = series.get(m.metadata.name) ?? { t: [], cpu: [], mem: [] };
      s.t = [...s.t, now].slice(-150);
      s.cpu = [...s.cpu, quantity(m.usage.cpu)].slice(-150);
      s.mem = [...s.mem, quantity(m.usage.memory)].slice(-150);
      series.set(m.metadata.name, s);
    }
    setTick((x) => x + 1);
  }, [poll.value]);
  return { series, error: poll.error };
}

export function NodesView() {
  const nodes = useKubeList('/api/v1/nodes');
  const usage = useNodeUsage();
  return html`<section><h2>Nodes</h2>
    <${ErrorBox} error=${nodes.error} what="nodes" /><${Loading} loaded=${nodes.loaded} />
    ${nodes.items.map((n) => html`<${NodeCard} key=${n.metadata.name} n=${n} s=${usage.series.get(n.metadata.name)} usageError=${usage.error} />`)}
  </section>`;
}

function NodeCard({ n, s, usageError }: { n: KubeObject; s?: { t: number[]; cpu: number[]; mem: number[] }; usageError?: any }) {
  const net = useNetworkRates(n.metadata.name);
  const cap = n.status?.capacity ?? {};
  const alloc = n.status?.allocatable ?? {};
  return html`<div class="node" data-node=${n.metadata.name}>
    <h3>${n.metadata.name} <${Badge} text=${ready(n) ? 'Ready' : 'NotReady'} tone=${ready(n) ? 'ok' : 'bad'} /> ${n.spec?.unschedulable ? html`<${Badge} text="SchedulingDisabled" tone="warn" />` : null}</h3>
    <table class="facts-table"><thead><tr><th></th><th>CPU</th><th>memory</th><th>pods</th></tr></thead><tbody>
      <tr><td>capacity</td><td>${cap.cpu}</td><td>${bytes(quantity(cap.memory))}</td><td>${cap.pods}</td></tr>
      <tr><td>allocatable</td><td>${alloc.cpu}</td><td>${bytes(quantity(alloc.memory))}</td><td>${alloc.pods}</td></tr>
      <tr><td>in use</td><td>${s ? `${s.cpu[s.cpu.length - 1]!.toFixed(2)} cores` : '—'}</td><td>${s ? bytes(s.mem[s.mem.length - 1]) : '—'}</td><td></td></tr>
    </tbody></table>
    <div class="plots">
      ${s ? html`<${Plot} title=${`${n.metadata.name} CPU (cores)`} t=${s.t} values=${s.cpu} unit=${(v: number) => v.toFixed(2)} /><${Plot} title=${`${n.metadata.name} memory`} t=${s.t} values=${s.mem} unit=${bytes} />` : html`<${ErrorBox} error=${usageError} what="node metrics" />`}
      ${net.error && !net.t.length ? html`<${ErrorBox} error=${net.error} what=${`${n.metadata.name}'s network (its agent's /metrics/cadvisor: get on nodes/metrics)`} />` : html`<${Plot} title=${`${n.metadata.name} network`} t=${net.t} values=${net.a} unit=${byteRate} second=${{ firstLabel: 'received', label: 'sent', values: net.b }} />`}
    </div>
  </div>`;
}

const serviceHead = [{ title: 'namespace', width: '12%' }, { title: 'name', width: '18%' }, { title: 'type', width: '10%' }, { title: 'cluster IP', width: '12%' }, { title: 'ports', width: '18%' }, { title: 'endpoints', width: '30%' }];

/** A Service's row; its endpoints come as the row's extra value (another watch). */
const serviceRow = (s: KubeObject, endpoints: unknown) =>
  html`<tr data-service=${s.metadata.name}><td>${s.metadata.namespace}</td><td class="mono">${s.metadata.name}</td><td>${s.spec?.type}</td><td class="mono">${s.spec?.clusterIP}</td><td>${(s.spec?.ports ?? []).map((p: any) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol}`).join(', ')}</td><td class="mono">${endpoints as string}</td></tr>`;

export function ServicesView() {
  const svcs = useKubeList('/api/v1/services');
  const eps = useKubeList('/api/v1/endpoints');
  const byName = new Map(eps.items.map((e) => [keyOf(e), e]));
  const endpointsOf = (s: KubeObject): string => {
    const e = byName.get(keyOf(s));
    const out: string[] = [];
    for (const sub of e?.subsets ?? []) for (const a of sub.addresses ?? []) for (const p of sub.ports ?? [{ port: '' }]) out.push(`${a.ip}:${p.port}`);
    return out.join(', ') || '—';
  };
  return html`<section><h2>Services</h2>
    <${ErrorBox} error=${svcs.error} what="services" /><${Loading} loaded=${svcs.loaded} />
    <${Table} id="services" head=${serviceHead} rows=${svcs.items} keyOf=${uidOf} row=${serviceRow} extraOf=${endpointsOf} /></section>`;
}

const eventTime = (e: KubeObject): number => Date.parse(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp ?? '') || 0;
/** Newest first. */
const newestFirst = (a: KubeObject, b: KubeObject): number => eventTime(b) - eventTime(a);
const eventHead = [{ title: 'age', width: '7%' }, { title: 'type', width: '9%' }, { title: 'reason', width: '14%' }, { title: 'object', width: '25%' }, { title: 'message', width: '45%' }];
const eventRow = (e: KubeObject) =>
  html`<tr data-event=${e.metadata.name}><td>${ago(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp)}</td><td><${Badge} text=${e.type} tone=${e.type === 'Warning' ? 'warn' : 'idle'} /></td><td>${e.reason}</td><td class="mono">${e.involvedObject?.kind}/${e.involvedObject?.namespace ? `${e.involvedObject.namespace}/` : ''}${e.involvedObject?.name}</td><td title=${e.message}>${e.message}</td></tr>`;

export function EventsView() {
  const events = useKubeList('/api/v1/events', newestFirst);
  return html`<section><h2>Events <span class="muted">live, ${events.items.length}</span></h2>
    <${ErrorBox} error=${events.error} what="events" /><${Loading} loaded=${events.loaded} />
    <${Table} id="events" head=${eventHead} rows=${events.items} keyOf=${uidOf} row=${eventRow} /></section>`;
}
