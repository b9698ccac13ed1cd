// Engine → Containers: every container, grouped by compose project
// (com.docker.compose.project), live from the events stream, with state,
// health, image, published ports as links, CPU and memory sparklines and the
// lifecycle actions.
import { html } from 'htm/preact';
import { call, bytes } from '../api.js';
import { useContainers, useStatsOfMany, type ContainerSummary } from '../engine-live.js';
import { Action, Badge, ErrorBox, Loading, toneOfState } from '../widgets/common.js';
import { Sparkline } from '../widgets/sparkline.js';
import { Table } from '../widgets/virtual-table.js';

const nameOf = (c: ContainerSummary): string => (c.Names[0] ?? c.Id.slice(0, 12)).replace(/^\//, '');

function health(status: string): string | undefined {
  return status.match(/\((healthy|unhealthy|health: starting)\)/)?.[1];
}

function Ports({ c }: { c: ContainerSummary }) {
  const published = c.Ports.filter((p) => p.PublicPort);
  if (!published.length) return html`<span class="muted">—</span>`;
  return html`${published.map((p) => {
    const host = !p.IP || p.IP === '0.0.0.0' || p.IP === '::' ? location.hostname : p.IP;
    return p.Type === 'tcp' ? html`<a href=${`http://${host}:${p.PublicPort}/`} target="_blank" rel="noopener">${p.PublicPort}→${p.PrivatePort}</a> ` : html`<span>${p.PublicPort}→${p.PrivatePort}/${p.Type} </span>`;
  })}`;
}

function Row({ c, stats }: { c: ContainerSummary; stats: { cpu: number[]; mem: number[] } }) {
  const running = c.State === 'running';
  const name = nameOf(c);
  const h = health(c.Status);
  const act = (verb: string) => () => call('POST', `/api/engine/containers/${c.Id}/${verb}`);
  return html`<tr data-container=${name} data-state=${c.State}>
    <td><a href=${`#/engine/containers/${c.Id}`}>${name}</a></td>
    <td><${Badge} text=${c.State} tone=${toneOfState(c.State)} />${h ? html` <${Badge} text=${h} tone=${toneOfState(h)} />` : null}</td>
    <td class="mono">${c.Image}</td>
    <td><${Ports} c=${c} /></td>
    <td>${running ? html`<${Sparkline} values=${stats.cpu} label="CPU %" format=${(v: number) => `${v.toFixed(1)}%`} />` : null}</td>
    <td>${running ? html`<${Sparkline} values=${stats.mem} label="memory" format=${bytes} />` : null}</td>
    <td class="muted">${c.Status}</td>
    <td class="actions">
      ${running ? html`<${Action} label="stop" run=${act('stop')} /> <${Action} label="restart" run=${act('restart')} />` : html`<${Action} label="start" run=${act('start')} />`}
      <${Action} label="remove" kind="danger" confirm=${`Remove container ${name}?`} run=${() => call('DELETE', `/api/engine/containers/${c.Id}?force=1`)} />
    </td>
  </tr>`;
}

const noStats = { cpu: [], mem: [] };
const idOf = (c: ContainerSummary): string => c.Id;
const containerRow = (c: ContainerSummary, stats: unknown) => html`<${Row} c=${c} stats=${(stats as { cpu: number[]; mem: number[] } | undefined) ?? noStats} />`;
const containerHead = [
  { title: 'name', width: '16%' },
  { title: 'state', width: '10%' },
  { title: 'image', width: '14%' },
  { title: 'ports', width: '9%' },
  { title: 'CPU', width: '10%' },
  { title: 'memory', width: '10%' },
  { title: 'status', width: '13%' },
  { title: '', width: '18%' },
];

export function ContainersView() {
  const list = useContainers();
  const stats = useStatsOfMany(list.items.filter((c) => c.State === 'running').map((c) => c.Id));
  const groups = new Map<string, ContainerSummary[]>();
  for (const c of list.items) {
    const g = c.Labels?.['com.docker.compose.project'] ?? '';
    const members = groups.get(g);
    if (members) members.push(c);
    else groups.set(g, [c]);
  }
  const order = [...groups.keys()].sort((a, b) => (a === '' ? 1 : b === '' ? -1 : a.localeCompare(b)));
  return html`<section>
    <h2>Containers <span class="muted">${list.items.filter((c) => c.State === 'running').length} running of ${list.items.length}</span></h2>
    <${ErrorBox} error=${list.error} what="containers" />
    <${Loading} loaded=${list.loaded} />
    ${list.loaded && !list.items.length ? html`<p class="muted">No containers yet. <code>tug run -d busybox sleep 1d</code> starts one; it appears here.</p>` : null}
    ${order.map(
      (g) => html`<div class="group">
        ${g ? html`<h3>compose project <b>${g}</b></h3>` : groups.size > 1 ? html`<h3>other containers</h3>` : null}
        <${Table} id=${g ? `compose-${g}` : 'containers'} head=${containerHead} rows=${groups.get(g)!} keyOf=${idOf} row=${containerRow} extraOf=${(c: ContainerSummary) => stats.get(c.Id)} />
      </div>`,
    )}
  </section>`;
}
