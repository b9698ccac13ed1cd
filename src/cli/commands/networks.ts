// network create / ls / inspect / rm / prune / connect / disconnect, with the
// docker CLI's flags and output.
import { flags, parse, requireArgs, UsageError } from '../args.js';
import { DaemonError } from '../client.js';
import { confirm, type Ctx } from '../context.js';
import { renderRows } from '../render/rows.js';
import { filtersParam } from './filters.js';
import { inspectNetwork } from './inspect.js';

const enc = encodeURIComponent;

function keyValues(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list) {
    const eq = l.indexOf('=');
    out[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? '' : l.slice(eq + 1);
  }
  return out;
}

export async function networkCreate(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('string:driver,d', 'list:subnet', 'list:gateway', 'list:ip-range', 'list:aux-address', 'bool:internal', 'bool:attachable',
    'bool:ipv6', 'bool:ingress', 'list:label', 'list:opt,o', 'string:ipam-driver', 'list:ipam-opt', 'string:scope', 'bool:config-only', 'string:config-from'));
  requireArgs(o, 'network create', 1, 1);
  const subnets = o.list('subnet');
  const gateways = o.list('gateway');
  const ranges = o.list('ip-range');
  if (gateways.length > subnets.length || ranges.length > subnets.length) throw new UsageError('every ip-range or gateway must have a corresponding subnet');
  const aux = keyValues(o.list('aux-address'));
  const config = subnets.map((s, i) => ({ Subnet: s, IPRange: ranges[i], Gateway: gateways[i], AuxiliaryAddresses: i === 0 && Object.keys(aux).length ? aux : undefined }));
  const r = await ctx.client.json<{ Id: string; Warning?: string }>('POST', '/networks/create', {
    body: {
      Name: o.args[0],
      CheckDuplicate: true,
      Driver: o.str('driver') ?? 'bridge',
      Options: keyValues(o.list('opt')),
      IPAM: { Driver: o.str('ipam-driver') ?? 'default', Config: config, Options: keyValues(o.list('ipam-opt')) },
      Internal: o.bool('internal'),
      EnableIPv6: o.bool('ipv6'),
      Attachable: o.bool('attachable'),
      Ingress: o.bool('ingress'),
      ConfigOnly: o.bool('config-only'),
      ConfigFrom: o.str('config-from') ? { Network: o.str('config-from') } : undefined,
      Labels: keyValues(o.list('label')),
    },
  });
  if (r.Warning) ctx.err(`${r.Warning}\n`);
  ctx.out(`${r.Id}\n`);
  return 0;
}

const LS_DEFAULT = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';
const LS_HEADERS = { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED AT' };

export async function networkLs(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:quiet,q', 'bool:no-trunc', 'list:filter,f', 'string:format'));
  const nets = await ctx.client.json<any[]>('GET', '/networks', { query: { filters: filtersParam(o.list('filter')) } });
  nets.sort((a, b) => String(a.Name).localeCompare(String(b.Name)));
  const rows = nets.map((n) => ({
    ID: o.bool('no-trunc') ? String(n.Id) : String(n.Id).slice(0, 12),
    Name: String(n.Name),
    Driver: String(n.Driver),
    Scope: String(n.Scope),
    IPv6: String(Boolean(n.EnableIPv6)),
    Internal: String(Boolean(n.Internal)),
    Labels: Object.entries((n.Labels ?? {}) as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(','),
    CreatedAt: String(n.Created),
  }));
  ctx.out(renderRows(o.bool('quiet') ? '{{.ID}}' : o.str('format'), LS_DEFAULT, LS_HEADERS, rows));
  return 0;
}

export { inspectNetwork as networkInspect };

export async function networkRm(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:force,f'));
  requireArgs(o, 'network rm', 1);
  let failed = false;
  for (const name of o.args) {
    try {
      await ctx.client.call('DELETE', `/networks/${enc(name)}`);
      ctx.out(`${name}\n`);
    } catch (e) {
      if (o.bool('force') && e instanceof DaemonError && e.status === 404) continue;
      failed = true;
      ctx.err(e instanceof DaemonError ? `Error response from daemon: ${e.message}\n` : `${(e as Error).message}\n`);
    }
  }
  return failed ? 1 : 0;
}

export async function networkPrune(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:force,f', 'list:filter'));
  if (!o.bool('force') && !(await confirm(ctx, 'WARNING! This will remove all custom networks not used by at least one container.'))) return 0;
  const r = await ctx.client.json<{ NetworksDeleted: string[] | null }>('POST', '/networks/prune', { query: { filters: filtersParam(o.list('filter')) } });
  if (r.NetworksDeleted?.length) ctx.out(`Deleted Networks:\n${r.NetworksDeleted.join('\n')}\n\n`);
  return 0;
}

export async function networkConnect(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('list:alias', 'string:ip', 'string:ip6', 'list:link', 'list:link-local-ip', 'list:driver-opt'));
  requireArgs(o, 'network connect', 2, 2);
  const [network, container] = o.args as [string, string];
  const ip = o.str('ip');
  await ctx.client.call('POST', `/networks/${enc(network)}/connect`, {
    body: {
      Container: container,
      EndpointConfig: {
        Aliases: o.list('alias'),
        Links: o.list('link'),
        IPAMConfig: ip ? { IPv4Address: ip } : undefined,
        DriverOpts: o.list('driver-opt').length ? keyValues(o.list('driver-opt')) : undefined,
      },
    },
  });
  return 0;
}

export async function networkDisconnect(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:force,f'));
  requireArgs(o, 'network disconnect', 2, 2);
  const [network, container] = o.args as [string, string];
  await ctx.client.call('POST', `/networks/${enc(network)}/disconnect`, { body: { Container: container, Force: o.bool('force') } });
  return 0;
}
