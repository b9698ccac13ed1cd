// The engine's side of Docker's embedded DNS (network/embedded-dns): one
// server per user-defined network on its gateway, the backend that answers
// from the engine's state (container names, network aliases, short ids, legacy
// links on the network), and a container's resolv.conf and 127.0.0.11 redirect
// kept in step with the user networks it is on. The default bridge has none,
// as in Docker: its containers keep the host's resolvers.
import { readFile } from 'node:fs/promises';
import {
  EmbeddedDnsServers,
  HOST_RESOLV_CONF,
  installDnsRedirect,
  nameCandidates,
  readResolvConf,
  removeDnsRedirect,
  userNetworkDns,
  type EmbeddedDnsBackend,
  type EmbeddedDnsClient,
} from '../network/embedded-dns/index.js';
import type { ContainerRecord } from './container-record.js';
import type { Engine } from './engine.js';
import { containerResolvConf, rewriteResolvConf } from './etc-files.js';

export interface DnsClient extends EmbeddedDnsClient {
  containerId: string;
}

export type EngineDns = EmbeddedDnsServers<DnsClient>;

/** Does the container's resolv.conf point at 127.0.0.11 (it is on a user-defined network)? */
export function usesEmbeddedDns(c: ContainerRecord): boolean {
  return Object.keys(c.NetworkSettings.Networks ?? {}).length > 0;
}

function dnsSettings(c: ContainerRecord): { servers?: string[] | null; search?: string[] | null; options?: string[] | null } {
  return { servers: c.HostConfig.Dns, search: c.HostConfig.DnsSearch, options: c.HostConfig.DnsOptions };
}

/** The user networks the container has a live endpoint on, in the order it joined them. */
function liveNetworks(engine: Engine, c: ContainerRecord): Array<{ id: string; name: string; ip: string; internal: boolean }> {
  const out = [];
  for (const ep of Object.values(c.NetworkSettings.Networks ?? {})) {
    const rec = engine.networks.store.get(ep.NetworkID);
    if (rec && ep.EndpointID && ep.IPAddress) out.push({ id: rec.Id, name: rec.Name, ip: ep.IPAddress, internal: rec.Internal });
  }
  return out;
}

function backendFor(engine: Engine): EmbeddedDnsBackend<DnsClient> {
  const containerOf = (id: string): ContainerRecord | undefined => engine.containers.all().find((c) => c.Id === id);
  return {
    async clientOf(networkId, sourceIp) {
      const hit = engine.networks.activeEndpoints(networkId).find(({ ep }) => ep.IPAddress === sourceIp);
      if (!hit) return undefined;
      const c = hit.c;
      const d = userNetworkDns({ dnsServers: c.HostConfig.Dns, dnsSearch: c.HostConfig.DnsSearch, dnsOptions: c.HostConfig.DnsOptions, hostResolvConf: await readResolvConf(HOST_RESOLV_CONF) });
      // A container only on --internal networks has no way out: nothing is forwarded (Docker's hasExternalAccess).
      const external = liveNetworks(engine, c).some((n) => !n.internal) || c.HostConfig.NetworkMode === 'bridge';
      return { containerId: c.Id, upstreams: external ? d.upstreams : [], ndotsSet: d.ndotsSet };
    },
    lookup(networkId, name, client) {
      const c = containerOf(client.containerId);
      if (!c) return [];
      // The network the query arrived on first, then the client's others (Docker's sandbox.ResolveName).
      const nets = liveNetworks(engine, c).sort((a, b) => Number(b.id === networkId) - Number(a.id === networkId));
      for (const cand of nameCandidates(name)) {
        for (const n of nets) {
          if (cand.network !== undefined && n.name.toLowerCase() !== cand.network) continue;
          const ips = engine.networks.members(n.id).filter((m) => m.names.some((x) => x.toLowerCase() === cand.name)).map((m) => m.ip);
          for (const l of engine.networks.linkNames(c.Id, n.id)) if (l.name.toLowerCase() === cand.name) ips.push(l.ip);
          if (ips.length) return [...new Set(ips)];
        }
      }
      return [];
    },
    reverse(networkId, ip, client) {
      const c = containerOf(client.containerId);
      if (!c) return undefined;
      const nets = liveNetworks(engine, c).sort((a, b) => Number(b.id === networkId) - Number(a.id === networkId));
      for (const n of nets) {
        const hit = engine.networks.activeEndpoints(n.id).find(({ ep }) => ep.IPAddress === ip);
        if (hit) return `${hit.c.Name.replace(/^\//, '')}.${n.name}`;
      }
      return undefined;
    },
  };
}

export function createEngineDns(engine: Engine): EngineDns {
  return new EmbeddedDnsServers<DnsClient>({ backend: backendFor(engine), log: (msg) => process.stderr.write(`tug: ${msg}\n`) });
}

/** A user network whose bridge holds its gateway address (create, daemon restart): its server. */
export async function startNetworkDns(engine: Engine, networkId: string): Promise<void> {
  await engine.dns.ensure(networkId, engine.networks.gatewayOf(networkId));
}

/**
 * 127.0.0.11 in the container's namespace reaches the server of the first
 * user network it is on (that server started if need be); on none, the
 * redirect goes. At start this runs before the container's process does.
 */
export async function pointDnsRedirect(engine: Engine, c: ContainerRecord, netnsPath: string): Promise<void> {
  const first = liveNetworks(engine, c)[0];
  if (!first) {
    // Its route_localnet went with the interface; the bridge plugin names the default bridge's eth0.
    await removeDnsRedirect(netnsPath, 'eth0');
    return;
  }
  const ifName = (await engine.networks.bridgeOf(first.id).ifNameOf(c.Id)) ?? 'eth0';
  const gateway = engine.networks.gatewayOf(first.id);
  await engine.dns.ensure(first.id, gateway);
  await installDnsRedirect(netnsPath, gateway, ifName);
}

/**
 * A running container's DNS after a connect or disconnect: resolv.conf names
 * 127.0.0.11 while it is on a user network, and the redirect follows. On the
 * default bridge with no user network left it gets the bridge's resolv.conf
 * back (dockerd keeps 127.0.0.11, answered by a resolver inside the
 * container; here the servers live on the networks' gateways, so the host's
 * resolvers are what keeps names working).
 */
export async function syncContainerDns(engine: Engine, c: ContainerRecord): Promise<void> {
  const netnsPath = c.NetworkSettings.SandboxKey;
  if (!netnsPath) return;
  const onUser = liveNetworks(engine, c).length > 0;
  const resolvConf = c.ResolvConfPath;
  if (resolvConf && (onUser || c.HostConfig.NetworkMode === 'bridge')) {
    const want = { hostNetwork: false, embeddedDns: onUser, dns: dnsSettings(c) };
    // In place (runc bind-mounted this inode), and only when it changes.
    const [now, text] = await Promise.all([readFile(resolvConf, 'utf8').catch(() => ''), containerResolvConf(want)]);
    if (now !== text) await rewriteResolvConf(resolvConf, want);
  }
  await pointDnsRedirect(engine, c, netnsPath);
}
