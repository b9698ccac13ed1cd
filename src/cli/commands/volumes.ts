// volume create / ls / inspect / rm / prune.
import { flags, parse, requireArgs } from '../args.js';
import { compareVersions, DaemonError } from '../client.js';
import { confirm, type Ctx } from '../context.js';
import { renderRows } from '../render/rows.js';
import { humanSize } from '../render/units.js';
import { filtersParam } from './filters.js';
import { inspectVolume } from './inspect.js';

function keyValues(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list) {
    const eq = l.indexOf('=');
    out[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? '' : l.slice(eq + 1);
  }
  return out;
}

export async function volumeCreate(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('string:driver,d', 'string:name', 'list:label', 'list:opt,o'));
  requireArgs(o, 'volume create', 0, 1);
  const v = await ctx.client.json<{ Name: string }>('POST', '/volumes/create', {
    body: { Name: o.args[0] ?? o.str('name') ?? '', Driver: o.str('driver') ?? 'local', DriverOpts: keyValues(o.list('opt')), Labels: keyValues(o.list('label')) },
  });
  ctx.out(`${v.Name}\n`);
  return 0;
}

const LS_DEFAULT = 'table {{.Driver}}\t{{.Name}}';
const LS_HEADERS = { Name: 'VOLUME NAME', Driver: 'DRIVER', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS', Size: 'SIZE', Links: 'LINKS' };

export async function volumeLs(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:quiet,q', 'list:filter,f', 'string:format'));
  const r = await ctx.client.json<{ Volumes: any[] | null; Warnings?: string[] | null }>('GET', '/volumes', { query: { filters: filtersParam(o.list('filter')) } });
  const vols = (r.Volumes ?? []).sort((a, b) => String(a.Name).localeCompare(String(b.Name)));
  const rows = vols.map((v) => ({
    Name: String(v.Name),
    Driver: String(v.Driver ?? 'local'),
    Scope: String(v.Scope ?? 'local'),
    Mountpoint: String(v.Mountpoint ?? ''),
    Labels: Object.entries((v.Labels ?? {}) as Record<string, string>)
      .map(([k, x]) => `${k}=${x}`)
      .join(','),
    Size: v.UsageData?.Size >= 0 ? humanSize(v.UsageData.Size) : 'N/A',
    Links: v.UsageData?.RefCount >= 0 ? String(v.UsageData.RefCount) : 'N/A',
  }));
  ctx.out(renderRows(o.bool('quiet') ? '{{.Name}}' : o.str('format'), LS_DEFAULT, LS_HEADERS, rows));
  return 0;
}

export { inspectVolume as volumeInspect };

export async function volumeRm(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:force,f'));
  requireArgs(o, 'volume rm', 1);
  let failed = false;
  for (const name of o.args) {
    try {
      await ctx.client.call('DELETE', `/volumes/${encodeURIComponent(name)}`, { query: { force: o.bool('force') || undefined } });
      ctx.out(`${name}\n`);
    } catch (e) {
      failed = true;
      ctx.err(e instanceof DaemonError ? `Error response from daemon: ${e.message}\n` : `${(e as Error).message}\n`);
    }
  }
  return failed ? 1 : 0;
}

export async function volumePrune(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:force,f', 'bool:all,a', 'list:filter'));
  if (!o.bool('force') && !(await confirm(ctx, 'WARNING! This will remove all local volumes not used by at least one container.'))) return 0;
  // API 1.42 made prune spare named volumes unless all=true; older daemons prune them anyway and reject the filter.
  const allFilter = o.bool('all') && compareVersions(await ctx.client.apiVersion(), '1.42') >= 0;
  const filters = [...o.list('filter'), ...(allFilter ? ['all=true'] : [])];
  const r = await ctx.client.json<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/volumes/prune', { query: { filters: filtersParam(filters) } });
  if (r.VolumesDeleted?.length) ctx.out(`Deleted Volumes:\n${r.VolumesDeleted.join('\n')}\n\n`);
  ctx.out(`Total reclaimed space: ${humanSize(r.SpaceReclaimed ?? 0)}\n`);
  return 0;
}
