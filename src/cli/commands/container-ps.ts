// ps / container ls: list containers with docker's columns and --format fields.
import { flags, parse } from '../args.js';
import type { Ctx } from '../context.js';
import { renderRows } from '../render/rows.js';
import { ago, ellipsis, goQuote, goTimeString, humanSize } from '../render/units.js';
import { filtersParam } from './filters.js';

const DEFAULT = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
const HEADERS = {
  ID: 'CONTAINER ID',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Names: 'NAMES',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  Networks: 'NETWORKS',
  LocalVolumes: 'LOCAL VOLUMES',
};

interface ApiPort {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

/** "0.0.0.0:8080->80/tcp, 443/tcp" like docker's DisplayablePorts. */
export function displayPorts(ports: ApiPort[] | null | undefined): string {
  const v6 = (p: ApiPort): number => ((p.IP ?? '').includes(':') ? 1 : 0);
  const items = [...(ports ?? [])].sort(
    (a, b) => a.PrivatePort - b.PrivatePort || a.Type.localeCompare(b.Type) || v6(a) - v6(b) || (a.IP ?? '').localeCompare(b.IP ?? ''),
  );
  const seen = new Set<string>();
  const out: string[] = [];
  for (const p of items) {
    const s = p.PublicPort
      ? `${p.IP?.includes(':') ? `[${p.IP}]` : p.IP ?? ''}:${p.PublicPort}->${p.PrivatePort}/${p.Type}`
      : `${p.PrivatePort}/${p.Type}`;
    if (!seen.has(s)) out.push(s);
    seen.add(s);
  }
  return out.join(', ');
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** One ps row: every field docker's container formatter offers, as strings. */
export function containerRow(c: any, trunc: boolean, now = Date.now()): Record<string, string> {
  const names = ((c.Names ?? []) as string[]).map((n) => n.replace(/^\//, ''));
  const shownNames = trunc ? names.filter((n) => !n.includes('/')) : names;
  const labels = (c.Labels ?? {}) as Record<string, string>;
  const mounts = ((c.Mounts ?? []) as Array<{ Name?: string; Source?: string }>).map((m) => {
    const n = m.Name || m.Source || '';
    return trunc ? ellipsis(n, 15) : n;
  });
  let image = String(c.Image ?? '');
  if (trunc && /^sha256:[0-9a-f]{64}$/.test(image)) image = shortId(image);
  const cmd = String(c.Command ?? '');
  return {
    ID: trunc ? shortId(c.Id) : c.Id,
    Image: image,
    Command: goQuote(trunc ? ellipsis(cmd, 20) : cmd),
    CreatedAt: goTimeString(c.Created),
    RunningFor: ago(c.Created, now),
    Ports: displayPorts(c.Ports),
    State: String(c.State ?? ''),
    Status: String(c.Status ?? ''),
    Size: c.SizeRw !== undefined || c.SizeRootFs !== undefined ? `${humanSize(c.SizeRw ?? 0, 3)} (virtual ${humanSize(c.SizeRootFs ?? 0, 3)})` : '0B',
    Names: shownNames.join(','),
    Labels: Object.keys(labels)
      .map((k) => `${k}=${labels[k]}`)
      .join(','),
    Mounts: mounts.join(','),
    Networks: Object.keys(c.NetworkSettings?.Networks ?? {})
      .sort()
      .join(','),
    LocalVolumes: String(((c.Mounts ?? []) as Array<{ Driver?: string }>).filter((m) => m.Driver === 'local').length),
  };
}

export async function ps(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:all,a', 'bool:quiet,q', 'bool:latest,l', 'bool:no-trunc', 'bool:size,s', 'string:last,n', 'list:filter,f', 'string:format'));
  const last = o.int('last');
  const limit = o.bool('latest') ? 1 : last !== undefined && last !== -1 ? last : undefined;
  const list = await ctx.client.json<any[]>('GET', '/containers/json', {
    query: {
      all: o.bool('all') || limit !== undefined || undefined,
      limit,
      // Sizes are costly for the daemon: ask only when something will show them.
      size: o.bool('size') || /\.Size\b|json \.\s*}}|^json$/.test(o.str('format') ?? '') || undefined,
      filters: filtersParam(o.list('filter')),
    },
  });
  const trunc = !o.bool('no-trunc');
  const rows = list.map((c) => containerRow(c, trunc));
  let format = o.str('format');
  if (o.bool('quiet')) format = '{{.ID}}';
  else if (!format && o.bool('size')) format = `${DEFAULT}\t{{.Size}}`;
  ctx.out(renderRows(format, DEFAULT, HEADERS, rows));
  return 0;
}
