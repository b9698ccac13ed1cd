// compose ps / ls / top / images / port / events / config / version: views of
// a project, drawn as docker compose v2 draws them.
import { writeFile } from 'node:fs/promises';
import { renderConfig } from '../../compose/model/render-config.js';
import { COMPOSE_VERSION, CONFIG_FILES, configHash, PROJECT, SERVICE, WORKING_DIR } from '../../compose/project/labels.js';
import { serviceContainers } from '../../compose/project/project-state.js';
import { flags, parse, requireArgs, UsageError } from '../args.js';
import { eachJsonLine } from '../client.js';
import { CliError } from '../context.js';
import { renderRows } from '../render/rows.js';
import { tabwrite } from '../render/tabwriter.js';
import { ago, ellipsis, goQuote, humanSize } from '../render/units.js';
import { servicesArg, type ComposeCtx } from './compose.js';
import { displayPorts, shortId } from './container-ps.js';

const PS_DEFAULT = 'table {{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}';
const PS_HEADERS = {
  ID: 'CONTAINER ID',
  Name: 'NAME',
  Names: 'NAMES',
  Image: 'IMAGE',
  Command: 'COMMAND',
  Project: 'PROJECT',
  Service: 'SERVICE',
  RunningFor: 'CREATED',
  CreatedAt: 'CREATED AT',
  Status: 'STATUS',
  State: 'STATE',
  Health: 'HEALTH',
  ExitCode: 'EXIT CODE',
  Ports: 'PORTS',
  Labels: 'LABELS',
};

export async function composePs(c: ComposeCtx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:all,a', 'bool:quiet,q', 'bool:services', 'string:format', 'list:status', 'list:filter', 'bool:no-trunc', 'bool:orphans'));
  const project = await c.project();
  let list = await serviceContainers(c.engine, project, servicesArg(project, o.args), { all: true, oneoff: o.bool('all') });
  const statuses = [...o.list('status'), ...o.list('filter').filter((f) => f.startsWith('status=')).map((f) => f.slice('status='.length))];
  if (statuses.length) list = list.filter((x) => statuses.includes(x.state));
  else if (!o.bool('all')) list = list.filter((x) => x.state === 'running' || x.state === 'paused' || x.state === 'restarting');
  if (o.bool('services')) {
    for (const s of [...new Set(list.map((x) => x.service))]) c.ctx.out(`${s}\n`);
    return 0;
  }
  if (o.bool('quiet')) {
    for (const x of list) c.ctx.out(`${x.id}\n`);
    return 0;
  }
  const trunc = !o.bool('no-trunc');
  const rows = list.map((x) => {
    const s = x.summary;
    const health = /\((healthy|unhealthy|health: starting)\)/.exec(s.Status)?.[1]?.replace('health: ', '') ?? '';
    return {
      ID: trunc ? shortId(s.Id) : s.Id,
      Name: x.name,
      Names: x.name,
      Image: s.Image,
      Command: goQuote(trunc ? ellipsis(s.Command, 20) : s.Command),
      Project: s.Labels[PROJECT] ?? '',
      Service: x.service,
      RunningFor: ago(s.Created),
      CreatedAt: new Date(s.Created * 1000).toISOString(),
      Status: s.Status,
      State: s.State,
      Health: health,
      ExitCode: String(/^Exited \((\d+)\)/.exec(s.Status)?.[1] ?? 0),
      Ports: displayPorts(s.Ports),
      Labels: Object.entries(s.Labels).map(([k, v]) => `${k}=${v}`).join(','),
      Publishers: (s.Ports ?? []).map((p) => ({ URL: p.IP ?? '', TargetPort: p.PrivatePort, PublishedPort: p.PublicPort ?? 0, Protocol: p.Type })),
    };
  });
  c.ctx.out(renderRows(o.str('format'), PS_DEFAULT, PS_HEADERS, rows));
  return 0;
}

export async function composeLs(c: ComposeCtx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:all,a', 'bool:quiet,q', 'string:format', 'list:filter'));
  const list = await c.engine.listContainers([PROJECT], true);
  const projects = new Map<string, { states: Map<string, number>; files: string; dir: string }>();
  for (const x of list) {
    const name = x.Labels[PROJECT]!;
    const p = projects.get(name) ?? { states: new Map(), files: x.Labels[CONFIG_FILES] ?? '', dir: x.Labels[WORKING_DIR] ?? '' };
    p.states.set(x.State, (p.states.get(x.State) ?? 0) + 1);
    projects.set(name, p);
  }
  const nameFilters = o.list('filter').filter((f) => f.startsWith('name=')).map((f) => f.slice(5));
  const rows = [...projects.entries()]
    .filter(([, p]) => o.bool('all') || p.states.has('running'))
    .filter(([n]) => !nameFilters.length || nameFilters.some((f) => n.includes(f)))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, p]) => ({
      Name: name,
      Status: [...p.states.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${s}(${n})`).join(', '),
      ConfigFiles: p.files
        .split(',')
        .filter(Boolean)
        .map((f) => (f.startsWith('/') ? f : `${p.dir}/${f}`))
        .join(','),
    }));
  if (o.bool('quiet')) {
    for (const r of rows) c.ctx.out(`${r.Name}\n`);
    return 0;
  }
  c.ctx.out(renderRows(o.str('format'), 'table {{.Name}}\t{{.Status}}\t{{.ConfigFiles}}', { Name: 'NAME', Status: 'STATUS', ConfigFiles: 'CONFIG FILES' }, rows));
  return 0;
}

export async function composeTop(c: ComposeCtx, argv: string[]): Promise<number> {
  const o = parse(argv, []);
  const project = await c.project();
  const list = (await serviceContainers(c.engine, project, servicesArg(project, o.args), { all: false })).filter((x) => x.state === 'running');
  for (const x of list) {
    const r = await c.engine.top(x.id);
    const lines = [r.Titles.join('\t'), ...(r.Processes ?? []).map((p) => p.join('\t'))];
    c.ctx.out(`${x.name}\n${tabwrite(`${lines.join('\n')}\n`, 0, 3)}\n`);
  }
  return 0;
}

export async function composeImages(c: ComposeCtx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:quiet,q', 'string:format'));
  const project = await c.project();
  const list = await serviceContainers(c.engine, project, servicesArg(project, o.args));
  const rows = [];
  for (const x of list) {
    const img = await c.engine.inspectImage(x.summary.ImageID);
    const tag = img?.RepoTags?.find((t) => t.split(':').slice(0, -1).join(':') === x.summary.Image.replace(/:[^:/]+$/, '')) ?? img?.RepoTags?.[0] ?? `${x.summary.Image}:latest`;
    const colon = tag.lastIndexOf(':');
    rows.push({ Container: x.name, Repository: tag.slice(0, colon), Tag: tag.slice(colon + 1), ID: shortId(x.summary.ImageID), Size: humanSize(img?.Size ?? 0, 3) });
  }
  if (o.bool('quiet')) {
    for (const id of new Set(list.map((x) => x.summary.ImageID))) c.ctx.out(`${id}\n`);
    return 0;
  }
  c.ctx.out(renderRows(o.str('format'), 'table {{.Container}}\t{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Size}}', { Container: 'CONTAINER', Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', Size: 'SIZE' }, rows));
  return 0;
}

export async function composePort(c: ComposeCtx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('string:protocol', 'string:index'));
  requireArgs(o, 'compose port', 2, 2);
  const [service, port] = o.args as [string, string];
  const project = await c.project();
  servicesArg(project, [service]);
  const index = o.int('index') ?? 1;
  const x = (await serviceContainers(c.engine, project, [service])).find((y) => y.number === index);
  if (!x) throw new CliError(`service "${service}" is not running container #${index}`, 1);
  const proto = o.str('protocol') ?? 'tcp';
  const b = (x.summary.Ports ?? []).find((p) => String(p.PrivatePort) === port && p.Type === proto && p.PublicPort);
  if (!b) throw new CliError(`no port ${port}/${proto} for container ${x.name}`, 1);
  c.ctx.out(`${b.IP?.includes(':') ? `[${b.IP}]` : b.IP || '0.0.0.0'}:${b.PublicPort}\n`);
  return 0;
}

export async function composeEvents(c: ComposeCtx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:json', 'string:since', 'string:until'));
  const project = await c.project();
  const services = servicesArg(project, o.args);
  const res = await c.engine.events({ filters: JSON.stringify({ type: ['container'], label: [`${PROJECT}=${project.name}`] }), since: o.str('since'), until: o.str('until') });
  await eachJsonLine(res, (ev) => {
    const attrs = (ev.Actor?.Attributes ?? {}) as Record<string, string>;
    const service = attrs[SERVICE] ?? '';
    if (services.length && !services.includes(service)) return;
    const id = ev.Actor?.ID ?? ev.id ?? '';
    const when = new Date(Number(BigInt(ev.timeNano ?? 0) / 1_000_000n) || (ev.time ?? 0) * 1000);
    const kept = Object.fromEntries(Object.entries(attrs).filter(([k]) => !k.startsWith('com.docker.compose.')));
    if (o.bool('json')) {
      c.ctx.out(`${JSON.stringify({ time: when.toISOString(), type: 'container', action: ev.Action, id, service, attributes: kept })}\n`);
    } else {
      const stamp = when.toISOString().replace('T', ' ').replace('Z', '000');
      const tail = Object.keys(kept).sort().map((k) => `${k}=${kept[k]}`).join(', ');
      c.ctx.out(`${stamp} container ${ev.Action} ${id} (${tail})\n`);
    }
  });
  return 0;
}

export async function composeConfig(c: ComposeCtx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:services', 'bool:volumes', 'bool:networks', 'bool:profiles', 'bool:images', 'bool:quiet,q', 'string:format', 'string:hash', 'bool:no-interpolate', 'bool:resolve-image-digests', 'string:output,o'));
  const project = await c.project();
  const list = (names: string[]): number => {
    for (const n of names) c.ctx.out(`${n}\n`);
    return 0;
  };
  if (o.bool('services')) return list(Object.keys(project.services));
  if (o.bool('volumes')) return list(Object.keys(project.volumes));
  if (o.bool('networks')) return list(Object.keys(project.networks));
  if (o.bool('profiles')) return list([...new Set(Object.values({ ...project.services, ...project.disabled_services }).flatMap((s) => s.profiles ?? []))].sort());
  if (o.bool('images')) return list(Object.values(project.services).map((s) => s.image ?? `${project.name}-${s.name}`));
  const hash = o.str('hash');
  if (hash !== undefined) {
    const names = hash === '*' ? Object.keys(project.services) : hash.split(',');
    for (const n of names) {
      const s = project.services[n];
      if (!s) throw new UsageError(`no such service: ${n}`);
      c.ctx.out(`${n} ${configHash(s)}\n`);
    }
    return 0;
  }
  if (o.bool('quiet')) return 0;
  const format = o.str('format') ?? 'yaml';
  if (format !== 'yaml' && format !== 'json') throw new UsageError(`unsupported format "${format}": use yaml or json`);
  const text = renderConfig(project, format);
  const out = text.endsWith('\n') ? text : `${text}\n`;
  const file = o.str('output');
  if (file) await writeFile(file, out);
  else c.ctx.out(out);
  return 0;
}

export async function composeVersion(c: ComposeCtx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:short', 'string:format,f'));
  if (o.bool('short')) c.ctx.out(`${COMPOSE_VERSION}\n`);
  else if (o.str('format') === 'json') c.ctx.out(`${JSON.stringify({ version: `v${COMPOSE_VERSION}` })}\n`);
  else c.ctx.out(`tug compose version v${COMPOSE_VERSION}\n`);
  return 0;
}
