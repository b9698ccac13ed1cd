// /networks/* of the Docker Engine API: the default bridge, Docker's built-in
// host and none, and user-defined bridge networks (engine/network-service.ts),
// with connect and disconnect (engine/container-networking.ts). Shapes,
// messages and status codes as dockerd 20.10 answers them.
import type { Engine } from '../engine/engine.js';
import type { ContainerRecord } from '../engine/container-record.js';
import { invalid, notFound } from '../errdefs.js';
import { connectContainer, disconnectContainer } from '../engine/container-networking.js';
import { networkListFilter, networkPruneFilter, type NetworkFacts } from '../engine/network-filters.js';
import type { BuiltinName, NetworkCreateSpec } from '../engine/network-service.js';
import type { NetworkRecord } from '../network/network-record.js';
import { filtersParam, readJson, sendJson } from './body.js';
import { endpointSpecOf } from './create-body.js';
import type { Router } from './router.js';

type View = Record<string, unknown>;

function builtinView(engine: Engine, name: BuiltinName): View {
  const members: View = {};
  for (const c of engine.containers.all()) {
    if (!c.State.Running || (c.HostConfig.NetworkMode || 'bridge') !== name) continue;
    const ns = c.NetworkSettings;
    members[c.Id] = {
      Name: c.Name.replace(/^\//, ''),
      EndpointID: name === 'bridge' && ns.IPAddress ? c.Id.slice(0, 32) : '',
      MacAddress: ns?.MacAddress ?? '',
      IPv4Address: ns?.IPAddress ? `${ns.IPAddress}/${ns.IPPrefixLen}` : '',
      IPv6Address: '',
    };
  }
  const base = {
    Name: name,
    Id: engine.networks.builtinId(name),
    Created: engine.startedAt.toISOString(),
    Scope: 'local',
    Driver: name === 'none' ? 'null' : name,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: name === 'bridge' ? [{ Subnet: engine.opts.subnet }] : [] },
    Internal: false,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: members,
    Options: name === 'bridge' ? { 'com.docker.network.bridge.name': engine.opts.bridgeName } : {},
    Labels: {},
  };
  return base;
}

function userView(engine: Engine, rec: NetworkRecord): View {
  const members: View = {};
  for (const { c, ep } of engine.networks.activeEndpoints(rec.Id)) {
    members[c.Id] = { Name: c.Name.replace(/^\//, ''), EndpointID: ep.EndpointID, MacAddress: ep.MacAddress, IPv4Address: `${ep.IPAddress}/${ep.IPPrefixLen}`, IPv6Address: '' };
  }
  return {
    Name: rec.Name,
    Id: rec.Id,
    Created: rec.Created,
    Scope: rec.Scope,
    Driver: rec.Driver,
    EnableIPv6: rec.EnableIPv6,
    IPAM: rec.IPAM,
    Internal: rec.Internal,
    Attachable: rec.Attachable,
    Ingress: rec.Ingress,
    ConfigFrom: rec.ConfigFrom,
    ConfigOnly: rec.ConfigOnly,
    Containers: members,
    Options: rec.Options,
    Labels: rec.Labels,
  };
}

function allViews(engine: Engine): Array<{ view: View; facts: NetworkFacts }> {
  const out: Array<{ view: View; facts: NetworkFacts }> = [];
  for (const name of ['bridge', 'host', 'none'] as BuiltinName[]) {
    const view = builtinView(engine, name);
    out.push({ view, facts: { name, id: String(view.Id), driver: String(view.Driver), builtin: true, labels: {}, created: String(view.Created), inUse: Object.keys(view.Containers as View).length > 0 } });
  }
  for (const rec of engine.networks.userNetworks()) {
    const view = userView(engine, rec);
    out.push({ view, facts: { name: rec.Name, id: rec.Id, driver: rec.Driver, builtin: false, labels: rec.Labels, created: rec.Created, inUse: Object.keys(view.Containers as View).length > 0 } });
  }
  return out;
}

function objectOf(v: unknown, field: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) throw invalid(`${field} must be an object of strings`);
  return v as Record<string, string>;
}

/** The create body (Docker's NetworkCreateRequest), types checked as dockerd's decoder does. */
function createSpecOf(body: unknown, apiVersion: string): NetworkCreateSpec {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalid('network create: the body must be a JSON object');
  const b = body as Record<string, unknown>;
  if (b.Name !== undefined && typeof b.Name !== 'string') throw invalid('Name must be a string');
  const ipam = b.IPAM as Record<string, unknown> | null | undefined;
  if (ipam !== undefined && ipam !== null && (typeof ipam !== 'object' || Array.isArray(ipam))) throw invalid('IPAM must be an object');
  const config = ipam?.Config;
  if (config !== undefined && config !== null && !Array.isArray(config)) throw invalid('IPAM.Config must be an array');
  const pools = ((config ?? []) as Array<Record<string, unknown>>).map((p, i) => {
    const str = (k: string): string | undefined => {
      const v = p?.[k];
      if (v === undefined || v === null || v === '') return undefined;
      if (typeof v !== 'string') throw invalid(`IPAM.Config[${i}].${k} must be a string`);
      return v;
    };
    return { Subnet: str('Subnet') ?? '', IPRange: str('IPRange'), Gateway: str('Gateway'), AuxiliaryAddresses: objectOf(p?.AuxiliaryAddresses ?? p?.AuxAddress, `IPAM.Config[${i}].AuxiliaryAddresses`) };
  });
  const cf = b.ConfigFrom as { Network?: unknown } | null | undefined;
  return {
    name: (b.Name as string | undefined) ?? '',
    driver: typeof b.Driver === 'string' ? b.Driver : undefined,
    // From API 1.44 dockerd always refuses a duplicate name (CheckDuplicate is deprecated); before, only when asked.
    checkDuplicate: Boolean(b.CheckDuplicate) || apiAtLeast(apiVersion, 1, 44),
    internal: Boolean(b.Internal),
    attachable: Boolean(b.Attachable),
    enableIPv6: Boolean(b.EnableIPv6),
    ingress: Boolean(b.Ingress),
    configOnly: Boolean(b.ConfigOnly),
    configFrom: typeof cf?.Network === 'string' && cf.Network ? cf.Network : undefined,
    ipam: { driver: typeof ipam?.Driver === 'string' ? ipam.Driver : undefined, options: objectOf(ipam?.Options, 'IPAM.Options') ?? (ipam?.Options === null ? null : undefined), config: pools },
    options: objectOf(b.Options, 'Options'),
    labels: objectOf(b.Labels, 'Labels'),
  };
}

function apiAtLeast(v: string, major: number, minor: number): boolean {
  if (!v) return true;
  const [a = 0, b = 0] = v.split('.').map(Number);
  return a !== major ? a > major : b >= minor;
}

function containerRefOf(body: unknown): string {
  const ref = (body as { Container?: unknown } | undefined)?.Container;
  if (typeof ref !== 'string' || ref === '') throw invalid('no container specified: Container is required');
  return ref;
}

export function networkRoutes(r: Router, engine: Engine): void {
  r.add('GET', '/networks', async ({ res, query }) => {
    const keep = networkListFilter(filtersParam(query));
    sendJson(res, 200, allViews(engine).filter((x) => keep(x.facts)).map((x) => x.view));
  });

  r.add('GET', '/networks/{id}', async ({ res, params, query }) => {
    const n = engine.networks.get(params.id!);
    // Every network here is local: asking for another scope finds none (as dockerd).
    const scope = query.get('scope');
    if (scope && scope !== 'local') throw notFound(`network ${params.id!} not found`);
    sendJson(res, 200, n.kind === 'builtin' ? builtinView(engine, n.name) : userView(engine, n.rec));
  });

  r.add('POST', '/networks/create', async ({ req, res, apiVersion }) => {
    const spec = createSpecOf(await readJson(req), apiVersion);
    sendJson(res, 201, await engine.networks.create(spec, engine.opts.subnet));
  });

  r.add('DELETE', '/networks/{id}', async ({ res, params }) => {
    await engine.networks.remove(params.id!);
    res.writeHead(204).end();
  });

  r.add('POST', '/networks/prune', async ({ res, query }) => {
    const keep = networkPruneFilter(filtersParam(query));
    const facts = new Map(allViews(engine).map((x) => [x.facts.id, x.facts]));
    const removed = await engine.networks.prune((rec) => keep(facts.get(rec.Id)!));
    sendJson(res, 200, { NetworksDeleted: removed.length ? removed : null });
  });

  const withContainer = async (ref: string, fn: (c: ContainerRecord) => Promise<void>): Promise<void> => {
    const id = engine.containers.get(ref).Id;
    await engine.lock.run(id, async () => fn(engine.containers.get(id)));
  };

  r.add('POST', '/networks/{id}/connect', async ({ req, res, params }) => {
    const body = await readJson(req);
    const ref = containerRefOf(body);
    engine.networks.get(params.id!);
    const spec = endpointSpecOf((body as { EndpointConfig?: unknown }).EndpointConfig, 'EndpointConfig');
    await withContainer(ref, (c) => connectContainer(engine, c, params.id!, spec));
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': 0 }).end();
  });

  r.add('POST', '/networks/{id}/disconnect', async ({ req, res, params }) => {
    const body = await readJson(req);
    const ref = containerRefOf(body);
    engine.networks.get(params.id!);
    await withContainer(ref, (c) => disconnectContainer(engine, c, params.id!));
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': 0 }).end();
  });
}
