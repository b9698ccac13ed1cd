// info, system df, system prune and the container/image prune commands (version is in version.ts).
import { flags, parse } from '../args.js';
import { DaemonError } from '../client.js';
import { confirm, type Ctx } from '../context.js';
import { compileTemplate } from '../render/template.js';
import { renderRows } from '../render/rows.js';
import { bytesSize, humanSize } from '../render/units.js';
import { filtersParam } from './filters.js';

export async function info(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('string:format,f'));
  const i = await ctx.client.json('GET', '/info');
  const f = o.str('format');
  if (f) {
    ctx.out(`${compileTemplate(f === 'json' ? '{{json .}}' : f).execute(i)}\n`);
    return 0;
  }
  const lines = [
    'Client:',
    ` Context:    default`,
    ` Debug Mode: false`,
    '',
    'Server:',
    ` Containers: ${i.Containers}`,
    `  Running: ${i.ContainersRunning}`,
    `  Paused: ${i.ContainersPaused}`,
    `  Stopped: ${i.ContainersStopped}`,
    ` Images: ${i.Images}`,
    ` Server Version: ${i.ServerVersion}`,
    ` Storage Driver: ${i.Driver}`,
    ` Logging Driver: ${i.LoggingDriver}`,
    ` Cgroup Driver: ${i.CgroupDriver}`,
    ` Cgroup Version: ${i.CgroupVersion}`,
    ` Default Runtime: ${i.DefaultRuntime}`,
    ` Init Binary: ${i.InitBinary ?? ''}`,
    ` Security Options:`,
    ...((i.SecurityOptions ?? []) as string[]).map((s) => `  ${s.replace(/^name=/, '')}`),
    ` Kernel Version: ${i.KernelVersion}`,
    ` Operating System: ${i.OperatingSystem}`,
    ` OSType: ${i.OSType}`,
    ` Architecture: ${i.Architecture}`,
    ` CPUs: ${i.NCPU}`,
    ` Total Memory: ${bytesSize(i.MemTotal ?? 0)}`,
    ` Name: ${i.Name}`,
    ` ID: ${i.ID}`,
    ` Docker Root Dir: ${i.DockerRootDir}`,
    ` Debug Mode: ${Boolean(i.Debug)}`,
    ` Experimental: ${Boolean(i.ExperimentalBuild)}`,
    ` Live Restore Enabled: ${Boolean(i.LiveRestoreEnabled)}`,
  ];
  ctx.out(`${lines.join('\n')}\n`);
  for (const w of (i.Warnings ?? []) as string[]) ctx.err(`${w}\n`);
  return 0;
}

const DF_DEFAULT = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
const DF_HEADERS = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };

function reclaim(total: number, reclaimable: number): string {
  return total > 0 ? `${humanSize(reclaimable)} (${Math.floor((reclaimable * 100) / total)}%)` : humanSize(reclaimable);
}

/** The summary rows of `system df`, computed as docker's formatter does. */
export function dfRows(d: any): Record<string, string>[] {
  const imgs: any[] = d.Images ?? [];
  const used = imgs.filter((i) => i.Containers > 0 && i.SharedSize !== -1).reduce((s, i) => s + ((i.VirtualSize ?? i.Size) - i.SharedSize), 0);
  const layers = d.LayersSize ?? 0;
  const cons: any[] = d.Containers ?? [];
  const consSize = cons.reduce((s, c) => s + (c.SizeRw ?? 0), 0);
  const consIdle = cons.filter((c) => c.State !== 'running').reduce((s, c) => s + (c.SizeRw ?? 0), 0);
  const vols: any[] = d.Volumes ?? [];
  const volSize = vols.reduce((s, v) => s + Math.max(0, v.UsageData?.Size ?? 0), 0);
  const volIdle = vols.filter((v) => (v.UsageData?.RefCount ?? 0) === 0).reduce((s, v) => s + Math.max(0, v.UsageData?.Size ?? 0), 0);
  const bc: any[] = d.BuildCache ?? [];
  const bcSize = bc.reduce((s, b) => s + (b.Size ?? 0), 0);
  const bcIdle = bc.filter((b) => !b.Shared && !b.InUse).reduce((s, b) => s + (b.Size ?? 0), 0);
  return [
    { Type: 'Images', TotalCount: String(imgs.length), Active: String(imgs.filter((i) => i.Containers > 0).length), Size: humanSize(layers), Reclaimable: reclaim(layers, layers - used) },
    { Type: 'Containers', TotalCount: String(cons.length), Active: String(cons.filter((c) => c.State === 'running').length), Size: humanSize(consSize), Reclaimable: reclaim(consSize, consIdle) },
    { Type: 'Local Volumes', TotalCount: String(vols.length), Active: String(vols.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length), Size: humanSize(volSize), Reclaimable: reclaim(volSize, volIdle) },
    { Type: 'Build Cache', TotalCount: String(bc.length), Active: String(bc.filter((b) => b.InUse).length), Size: humanSize(bcSize), Reclaimable: humanSize(bcIdle) },
  ];
}

export async function df(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('string:format', 'bool:verbose,v'));
  const d = await ctx.client.json('GET', '/system/df');
  ctx.out(renderRows(o.str('format'), DF_DEFAULT, DF_HEADERS, dfRows(d)));
  return 0;
}

/** Calls a prune endpoint; a daemon without it (404) simply has nothing to prune. */
async function prune(ctx: Ctx, path: string, filters: string[]): Promise<any> {
  try {
    return await ctx.client.json('POST', path, { query: { filters: filtersParam(filters) } });
  } catch (e) {
    if (e instanceof DaemonError && e.status === 404 && !/No such/i.test(e.message)) return {};
    throw e;
  }
}

function section(ctx: Ctx, title: string, items: string[] | null | undefined): void {
  if (items?.length) ctx.out(`${title}:\n${items.join('\n')}\n\n`);
}

function imageLines(r: any): string[] {
  return ((r.ImagesDeleted ?? []) as Array<{ Untagged?: string; Deleted?: string }>).map((x) => (x.Untagged ? `untagged: ${x.Untagged}` : `deleted: ${x.Deleted}`));
}

export async function containerPrune(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:force,f', 'list:filter'));
  if (!o.bool('force') && !(await confirm(ctx, 'WARNING! This will remove all stopped containers.'))) return 0;
  const r = await prune(ctx, '/containers/prune', o.list('filter'));
  section(ctx, 'Deleted Containers', r.ContainersDeleted);
  ctx.out(`Total reclaimed space: ${humanSize(r.SpaceReclaimed ?? 0)}\n`);
  return 0;
}

export async function imagePrune(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:force,f', 'bool:all,a', 'list:filter'));
  const q = o.bool('all') ? 'WARNING! This will remove all images without at least one container associated to them.' : 'WARNING! This will remove all dangling images.';
  if (!o.bool('force') && !(await confirm(ctx, q))) return 0;
  const r = await prune(ctx, '/images/prune', [...o.list('filter'), `dangling=${o.bool('all') ? 'false' : 'true'}`]);
  section(ctx, 'Deleted Images', imageLines(r));
  ctx.out(`Total reclaimed space: ${humanSize(r.SpaceReclaimed ?? 0)}\n`);
  return 0;
}

export async function systemPrune(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:force,f', 'bool:all,a', 'bool:volumes', 'list:filter'));
  const all = o.bool('all');
  const warn = [
    'WARNING! This will remove:',
    '  - all stopped containers',
    '  - all networks not used by at least one container',
    ...(o.bool('volumes') ? ['  - all anonymous volumes not used by at least one container'] : []),
    all ? '  - all images without at least one container associated to them' : '  - all dangling images',
    all ? '  - all build cache' : '  - all dangling build cache',
  ].join('\n');
  if (!o.bool('force') && !(await confirm(ctx, warn))) return 0;
  const filters = o.list('filter');
  let space = 0;
  const c = await prune(ctx, '/containers/prune', filters);
  section(ctx, 'Deleted Containers', c.ContainersDeleted);
  space += c.SpaceReclaimed ?? 0;
  const n = await prune(ctx, '/networks/prune', filters);
  section(ctx, 'Deleted Networks', n.NetworksDeleted);
  if (o.bool('volumes')) {
    const v = await prune(ctx, '/volumes/prune', filters);
    section(ctx, 'Deleted Volumes', v.VolumesDeleted);
    space += v.SpaceReclaimed ?? 0;
  }
  const i = await prune(ctx, '/images/prune', [...filters, `dangling=${all ? 'false' : 'true'}`]);
  section(ctx, 'Deleted Images', imageLines(i));
  space += i.SpaceReclaimed ?? 0;
  try {
    const b = await ctx.client.json('POST', '/build/prune', { query: { all: all || undefined, filters: filtersParam(filters) } });
    section(ctx, 'Deleted build cache objects', b?.CachesDeleted);
    space += b?.SpaceReclaimed ?? 0;
  } catch (e) {
    // Build cache is optional: a daemon without a builder has none to prune.
    if (!(e instanceof DaemonError)) throw e;
  }
  ctx.out(`Total reclaimed space: ${humanSize(space)}\n`);
  return 0;
}

