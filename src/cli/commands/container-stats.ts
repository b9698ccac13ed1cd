// top, stats, port: views of what a running container is doing.
import { flags, parse, requireArgs } from '../args.js';
import { CliError, type Ctx } from '../context.js';
import { renderRows } from '../render/rows.js';
import { tabwrite } from '../render/tabwriter.js';
import { bytesSize, humanSize } from '../render/units.js';
import { shortId } from './container-ps.js';

const enc = encodeURIComponent;

export async function top(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, [], { interspersed: false });
  requireArgs(o, 'top', 1);
  const [name, ...psArgs] = o.args;
  const r = await ctx.client.json<{ Titles: string[]; Processes: string[][] }>('GET', `/containers/${enc(name!)}/top`, {
    query: { ps_args: psArgs.length ? psArgs.join(' ') : undefined },
  });
  const lines = [r.Titles.join('\t'), ...(r.Processes ?? []).map((p) => p.join('\t'))];
  ctx.out(tabwrite(`${lines.join('\n')}\n`, 20, 3));
  return 0;
}

const STATS_DEFAULT = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
const STATS_HEADERS = {
  ID: 'CONTAINER ID',
  Container: 'CONTAINER',
  Name: 'NAME',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

/** The numbers docker stats shows, computed from one /stats sample (cpu from its pre-sample). */
export function statsRow(container: string, s: any): Record<string, string> {
  const cpu = s.cpu_stats ?? {};
  const pre = s.precpu_stats ?? {};
  const cpuDelta = (cpu.cpu_usage?.total_usage ?? 0) - (pre.cpu_usage?.total_usage ?? 0);
  const sysDelta = (cpu.system_cpu_usage ?? 0) - (pre.system_cpu_usage ?? 0);
  const online = cpu.online_cpus || cpu.cpu_usage?.percpu_usage?.length || 1;
  const cpuPerc = sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * online * 100 : 0;
  const mem = s.memory_stats ?? {};
  // Page cache is reclaimable, so docker leaves it out of "usage".
  const inactive = mem.stats?.inactive_file ?? mem.stats?.total_inactive_file ?? 0;
  const usage = Math.max(0, (mem.usage ?? 0) - (inactive < (mem.usage ?? 0) ? inactive : 0));
  const limit = mem.limit ?? 0;
  let rx = 0;
  let tx = 0;
  for (const n of Object.values<any>(s.networks ?? {})) {
    rx += n.rx_bytes ?? 0;
    tx += n.tx_bytes ?? 0;
  }
  let read = 0;
  let write = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = String(e.op).toLowerCase();
    if (op === 'read') read += e.value;
    if (op === 'write') write += e.value;
  }
  const id = String(s.id ?? container);
  return {
    ID: shortId(id),
    Container: container,
    Name: String(s.name ?? '').replace(/^\//, '') || '--',
    CPUPerc: `${cpuPerc.toFixed(2)}%`,
    MemUsage: `${bytesSize(usage)} / ${bytesSize(limit)}`,
    MemPerc: `${(limit ? (usage / limit) * 100 : 0).toFixed(2)}%`,
    NetIO: `${humanSize(rx, 3)} / ${humanSize(tx, 3)}`,
    BlockIO: `${humanSize(read, 3)} / ${humanSize(write, 3)}`,
    PIDs: String(s.pids_stats?.current ?? 0),
  };
}

export async function stats(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:no-stream', 'bool:all,a', 'bool:no-trunc', 'string:format'));
  const c = ctx.client;
  const names = async (): Promise<string[]> => {
    if (o.args.length) return o.args;
    const list = await c.json<Array<{ Id: string }>>('GET', '/containers/json', { query: { all: o.bool('all') || undefined } });
    return list.map((x) => x.Id);
  };
  const sample = async (): Promise<string> => {
    const rows = await Promise.all(
      (await names()).map(async (n) => statsRow(n, await c.json('GET', `/containers/${enc(n)}/stats`, { query: { stream: false } }))),
    );
    if (o.bool('no-trunc')) rows.forEach((r) => (r.ID = r.Container));
    return renderRows(o.str('format'), STATS_DEFAULT, STATS_HEADERS, rows);
  };
  if (o.bool('no-stream')) {
    ctx.out(await sample());
    return 0;
  }
  // Live view: redraw the whole table for every new sample until interrupted.
  for (;;) {
    const text = await sample();
    ctx.out(`\x1b[2J\x1b[H${text}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function port(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, []);
  requireArgs(o, 'port', 1, 2);
  const [name, want] = o.args as [string, string | undefined];
  const info = await ctx.client.json('GET', `/containers/${enc(name)}/json`);
  const ports = (info.NetworkSettings?.Ports ?? {}) as Record<string, Array<{ HostIp: string; HostPort: string }> | null>;
  const fmt = (b: { HostIp: string; HostPort: string }): string => `${b.HostIp.includes(':') ? `[${b.HostIp}]` : b.HostIp}:${b.HostPort}`;
  if (want) {
    const key = want.includes('/') ? want : `${want}/tcp`;
    const binds = ports[key];
    if (!binds?.length) throw new CliError(`Error: No public port '${key}' published for ${name}`, 1);
    for (const b of binds) ctx.out(`${fmt(b)}\n`);
    return 0;
  }
  const keys = Object.keys(ports).sort((a, b) => parseInt(a) - parseInt(b) || a.localeCompare(b));
  for (const k of keys) for (const b of ports[k] ?? []) ctx.out(`${k} -> ${fmt(b)}\n`);
  return 0;
}
