// Cluster → workloads: Deployments with rollout progress and scale buttons
// (PATCH of the scale subresource, as `kubectl scale` does), StatefulSets,
// DaemonSets, Jobs and CronJobs, each a live watch.
import { html } from 'htm/preact';
import { call, ago } from '../api.js';
import { useState } from 'preact/hooks';
import { useKubeList, uidOf, type KubeObject } from '../kube-live.js';
import { Table } from '../widgets/virtual-table.js';
import { Action, Badge, ErrorBox, Loading } from '../widgets/common.js';

function scale(kind: 'deployments' | 'statefulsets', o: KubeObject, replicas: number): Promise<unknown> {
  return call('PATCH', `/api/kube/apis/apps/v1/namespaces/${o.metadata.namespace}/${kind}/${o.metadata.name}/scale`, { spec: { replicas: Math.max(0, replicas) } }, 'application/merge-patch+json');
}

function Progress({ ready, want }: { ready: number; want: number }) {
  const pct = want ? Math.round((ready / want) * 100) : 100;
  return html`<span class="progress" title=${`${ready}/${want}`}><span style=${`width:${pct}%`}></span></span>`;
}

const deploymentHead = ['namespace', 'name', 'ready', 'rollout', 'up-to-date', 'available', 'age', 'scale'].map((title) => ({ title }));

function deploymentRow(d: KubeObject) {
  const want = d.spec?.replicas ?? 1;
  const ready = d.status?.readyReplicas ?? 0;
  const progressing = d.status?.conditions?.find((c: any) => c.type === 'Progressing');
  return html`<tr data-deployment=${d.metadata.name} data-ready=${`${ready}/${want}`}>
    <td>${d.metadata.namespace}</td><td class="mono">${d.metadata.name}</td><td>${ready}/${want}</td>
    <td><${Progress} ready=${ready} want=${want} /> <span class="muted">${progressing?.reason ?? ''}</span></td>
    <td>${d.status?.updatedReplicas ?? 0}</td><td>${d.status?.availableReplicas ?? 0}</td><td>${ago(d.metadata.creationTimestamp)}</td>
    <td class="actions"><${Action} label="−" run=${() => scale('deployments', d, want - 1)} /> <span class="replicas">${want}</span> <${Action} label="+" run=${() => scale('deployments', d, want + 1)} /></td>
  </tr>`;
}

function Deployments() {
  const deps = useKubeList('/apis/apps/v1/deployments');
  return html`<h3>Deployments</h3><${ErrorBox} error=${deps.error} what="deployments" /><${Loading} loaded=${deps.loaded} />
    <${Table} id="deployments" head=${deploymentHead} rows=${deps.items} keyOf=${uidOf} row=${deploymentRow} />`;
}

type Col = [string, (o: KubeObject) => unknown];

function Simple({ title, path, id, cols }: { title: string; path: string; id: string; cols: Col[] }) {
  const l = useKubeList(path);
  // cols is the same for the view's life: the row function (and so each row) is made once.
  const [view] = useState(() => ({
    head: [{ title: 'namespace' }, { title: 'name' }, ...cols.map(([h]) => ({ title: h })), { title: 'age' }],
    row: (o: KubeObject) => html`<tr><td>${o.metadata.namespace}</td><td class="mono">${o.metadata.name}</td>${cols.map(([, f]) => html`<td>${f(o)}</td>`)}<td>${ago(o.metadata.creationTimestamp)}</td></tr>`,
  }));
  return html`<h3>${title}</h3><${ErrorBox} error=${l.error} what=${title} />
    ${l.loaded && !l.error && !l.items.length ? html`<p class="muted">none</p>` : html`<${Table} id=${id} head=${view.head} rows=${l.items} keyOf=${uidOf} row=${view.row} />`}`;
}

export function WorkloadsView() {
  return html`<section><h2>Workloads</h2>
    <${Deployments} />
    <${Simple} title="StatefulSets" id="statefulsets" path="/apis/apps/v1/statefulsets" cols=${[['ready', (o: KubeObject) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 1}`]]} />
    <${Simple} title="DaemonSets" id="daemonsets" path="/apis/apps/v1/daemonsets" cols=${[['desired', (o: KubeObject) => o.status?.desiredNumberScheduled ?? 0], ['ready', (o: KubeObject) => o.status?.numberReady ?? 0]]} />
    <${Simple} title="Jobs" id="jobs" path="/apis/batch/v1/jobs" cols=${[['completions', (o: KubeObject) => `${o.status?.succeeded ?? 0}/${o.spec?.completions ?? 1}`], ['status', (o: KubeObject) => html`<${Badge} text=${o.status?.conditions?.find((c: any) => c.status === 'True')?.type ?? 'Running'} tone=${o.status?.failed ? 'bad' : 'idle'} />`]]} />
    <${Simple} title="CronJobs" id="cronjobs" path="/apis/batch/v1/cronjobs" cols=${[['schedule', (o: KubeObject) => o.spec?.schedule], ['suspended', (o: KubeObject) => String(!!o.spec?.suspend)], ['last schedule', (o: KubeObject) => ago(o.status?.lastScheduleTime)]]} />
  </section>`;
}
