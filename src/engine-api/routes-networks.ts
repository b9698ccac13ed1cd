// /networks/* of the Docker Engine API. An engine has one bridge network (its
// CNI bridge) plus Docker's built-in "host" and "none"; user-defined networks
// are not supported yet. `docker system prune` calls /networks/prune, and
// `docker network ls` lists these, so both must answer as dockerd does.
import { createHash } from 'node:crypto';
import type { Engine } from '../engine/engine.js';
import { invalid, notFound } from '../errdefs.js';
import { sendJson } from './body.js';
import type { Router } from './router.js';

function builtInNetworks(engine: Engine): Array<Record<string, unknown>> {
  const id = (name: string): string => createHash('sha256').update(`${engine.root}\0${name}`).digest('hex');
  const base = { Created: engine.startedAt.toISOString(), Scope: 'local', EnableIPv6: false, Internal: false, Attachable: false, Ingress: false, ConfigOnly: false, Options: {}, Labels: {} };
  const members = (mode: string): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const c of engine.containers.all()) {
      if (!c.State.Running || (c.HostConfig.NetworkMode || 'bridge') !== mode) continue;
      const ns = c.NetworkSettings;
      out[c.Id] = { Name: c.Name.replace(/^\//, ''), MacAddress: ns?.MacAddress ?? '', IPv4Address: ns?.IPAddress ? `${ns.IPAddress}/${ns.IPPrefixLen}` : '', IPv6Address: '' };
    }
    return out;
  };
  return [
    { ...base, Name: 'bridge', Id: id('bridge'), Driver: 'bridge', IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: engine.opts.subnet }] }, Containers: members('bridge'), Options: { 'com.docker.network.bridge.name': engine.opts.bridgeName } },
    { ...base, Name: 'host', Id: id('host'), Driver: 'host', IPAM: { Driver: 'default', Options: null, Config: [] }, Containers: members('host') },
    { ...base, Name: 'none', Id: id('none'), Driver: 'null', IPAM: { Driver: 'default', Options: null, Config: [] }, Containers: members('none') },
  ];
}

export function networkRoutes(r: Router, engine: Engine): void {
  r.add('GET', '/networks', async ({ res }) => {
    sendJson(res, 200, builtInNetworks(engine));
  });
  r.add('GET', '/networks/{id}', async ({ res, params }) => {
    const ref = params.id!;
    const n = builtInNetworks(engine).find((x) => x.Name === ref || (ref.length >= 3 && String(x.Id).startsWith(ref)));
    if (!n) throw notFound(`network ${ref} not found`);
    sendJson(res, 200, n);
  });
  r.add('POST', '/networks/create', async () => {
    throw invalid('user-defined networks are not supported by this engine: use the default bridge, host or none');
  });
  // Built-in networks are never pruned, and there are no others.
  r.add('POST', '/networks/prune', async ({ res }) => {
    sendJson(res, 200, { NetworksDeleted: null });
  });
}
