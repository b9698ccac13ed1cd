// A container's network endpoints: wiring them at start (the default bridge
// as before, plus every user-defined network in the order the container
// joined them, eth0, eth1, ...), releasing them at stop, and connecting or
// disconnecting one while the container runs or not.
//
// On the default bridge the bridge owns the container's namespace (as it
// always has); a container whose mode is a user-defined network gets a
// namespace owned by the engine (network-service.ts sandboxPath), which its
// networks join. One non-internal network carries the default route and the
// published ports: the default bridge if the container is on it, else the
// first non-internal network joined.
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { invalid, TugError } from '../errdefs.js';
import type { Attachment, BridgeNetwork, PortMapping } from '../network/bridge-network.js';
import { createNetns, removeNetns } from '../network/netns.js';
import type { ContainerRecord, EndpointSettings } from './container-record.js';
import type { EndpointSpec, NetworkSpec } from './container-spec.js';
import type { Engine } from './engine.js';
import { cidrContains, ipToNumber, isIpv4, parseCidr } from '../network/cidr.js';
import { syncContainerDns } from './network-dns.js';
import { isJoinMode } from './shared-namespaces.js';

export interface NetworkingResult {
  /** The default bridge's attachment, when the container is on it. */
  bridge?: Attachment;
  /** User-defined networks by name. */
  endpoints: Map<string, Attachment>;
  /** Published ports with the host ports chosen. */
  ports: PortMapping[];
}

export interface NetworkingBegun {
  netnsPath: string;
  /** Resolves when every network has wired the namespace; on failure everything is undone first. */
  configured: Promise<NetworkingResult>;
}

const builtinModes = new Set(['', 'default', 'bridge', 'host', 'none']);

/** Does the container get a namespace of its own with interfaces tug wires? */
export function hasOwnNetworking(c: ContainerRecord): boolean {
  return c.HostConfig.NetworkMode === 'bridge' || Object.keys(c.NetworkSettings.Networks ?? {}).length > 0;
}

function newEndpoint(networkId: string, spec: EndpointSpec | undefined): EndpointSettings {
  return {
    IPAMConfig: spec?.ipv4Address || spec?.linkLocalIps?.length ? { ...(spec.ipv4Address ? { IPv4Address: spec.ipv4Address } : {}), ...(spec.linkLocalIps?.length ? { LinkLocalIPs: spec.linkLocalIps } : {}) } : null,
    Links: spec?.links?.length ? spec.links : null,
    Aliases: spec?.aliases?.length ? spec.aliases : null,
    NetworkID: networkId,
    EndpointID: '',
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    MacAddress: '',
    DriverOpts: spec?.driverOpts && Object.keys(spec.driverOpts).length ? spec.driverOpts : null,
    ...(spec?.macAddress ? { DesiredMacAddress: spec.macAddress } : {}),
  };
}

/** Checks what only a user-defined network with a configured subnet allows. */
function checkEndpointSpec(engine: Engine, networkId: string | undefined, spec: EndpointSpec | undefined): void {
  if (!spec) return;
  if (!networkId) {
    if (spec.aliases?.length) throw invalid('network-scoped alias is supported only for containers in user defined networks');
    if (spec.ipv4Address) throw invalid('user specified IP address is supported on user defined networks only');
    return;
  }
  const rec = engine.networks.store.get(networkId)!;
  if (spec.ipv4Address) {
    if (!rec.Tug.userSubnet) throw invalid('user specified IP address is supported only when connecting to networks with user configured subnets');
    if (!isIpv4(spec.ipv4Address)) throw invalid(`invalid IPv4 address: ${spec.ipv4Address}`);
    if (!cidrContains(parseCidr(rec.Tug.subnet), ipToNumber(spec.ipv4Address))) {
      throw invalid(`Invalid address ${spec.ipv4Address}: It does not belong to any of this network's subnets`);
    }
  }
  if (spec.macAddress && !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(spec.macAddress)) throw invalid(`invalid MAC address: ${spec.macAddress}`);
}

/**
 * At create: the network mode resolved (a user network's name as given is
 * kept as Docker keeps it) and the endpoints on user-defined networks, the
 * mode's network first.
 */
export function resolveCreateNetworks(engine: Engine, net: NetworkSpec | undefined): {
  mode: string | undefined;
  endpoints: Record<string, EndpointSettings> | undefined;
  defaultEndpoint?: Pick<EndpointSettings, 'IPAMConfig' | 'DriverOpts'>;
} {
  let defaultEndpoint: Pick<EndpointSettings, 'IPAMConfig' | 'DriverOpts'> | undefined;
  let mode = net?.mode;
  // The docker CLI names the default mode's endpoint 'default'.
  const given = Object.entries(net?.endpoints ?? {}).map(([k, v]): [string, EndpointSpec] => [k === 'default' ? 'bridge' : k, v]);
  if ((mode === undefined || mode === '' || mode === 'default') && given.length > 0 && !given.some(([k]) => k === 'bridge')) mode = given[0]![0];
  const endpoints: Record<string, EndpointSettings> = {};
  if (mode !== undefined && !builtinModes.has(mode) && !isJoinMode(mode)) {
    const rec = engine.networks.user(mode);
    const spec = net?.endpoints?.[mode] ?? net?.endpoints?.[rec.Name] ?? net?.endpoints?.[rec.Id];
    checkEndpointSpec(engine, rec.Id, spec);
    endpoints[rec.Name] = newEndpoint(rec.Id, spec);
    mode = rec.Name;
  }
  for (const [ref, spec] of given) {
    const n = engine.networks.get(ref);
    if (n.kind === 'builtin') {
      if (n.name === (mode ?? 'bridge') || (n.name === 'bridge' && (mode === undefined || mode === 'default'))) {
        checkEndpointSpec(engine, undefined, spec);
        const e = newEndpoint('', spec);
        if (e.IPAMConfig || e.DriverOpts) defaultEndpoint = { IPAMConfig: e.IPAMConfig, DriverOpts: e.DriverOpts };
        continue;
      }
      throw invalid(`Container cannot be connected to network endpoints: ${n.name} and ${mode ?? 'bridge'}`);
    }
    if (endpoints[n.rec.Name]) continue;
    if (mode === 'host' || mode === 'none' || isJoinMode(mode)) {
      throw invalid(`conflicting options: container type network can't be used with other networks (network mode ${mode})`);
    }
    checkEndpointSpec(engine, n.rec.Id, spec);
    endpoints[n.rec.Name] = newEndpoint(n.rec.Id, spec);
  }
  return { mode, endpoints: Object.keys(endpoints).length ? endpoints : undefined, defaultEndpoint };
}

interface Joining {
  name: string;
  ep: EndpointSettings;
  net: BridgeNetwork;
  internal: boolean;
}

function joiningOf(engine: Engine, c: ContainerRecord): Joining[] {
  return Object.entries(c.NetworkSettings.Networks ?? {}).map(([name, ep]) => {
    const rec = engine.networks.store.get(ep.NetworkID);
    if (!rec) throw new TugError('not-found', `network ${name} not found`);
    return { name, ep, net: engine.networks.bridgeOf(rec.Id), internal: rec.Internal };
  });
}

function fillEndpoint(ep: EndpointSettings, att: Attachment): void {
  ep.EndpointID = randomBytes(32).toString('hex');
  ep.IPAddress = att.ip;
  ep.IPPrefixLen = att.prefixLen;
  ep.Gateway = att.gateway;
  ep.MacAddress = att.mac;
}

function clearEndpoint(ep: EndpointSettings): void {
  if (ep.IPAddress) ep.LastIPAddress = ep.IPAddress;
  ep.EndpointID = '';
  ep.IPAddress = '';
  ep.IPPrefixLen = 0;
  ep.Gateway = '';
  ep.MacAddress = '';
}

/**
 * Starts wiring every network of the container; undefined for host, none and
 * container: modes. Resolves once the namespace exists (all runc create
 * needs); `configured` when every plugin has run.
 */
export async function beginNetworking(engine: Engine, c: ContainerRecord, ports: PortMapping[]): Promise<NetworkingBegun | undefined> {
  if (!hasOwnNetworking(c)) return undefined;
  const onBridge = c.HostConfig.NetworkMode === 'bridge';
  const joining = joiningOf(engine, c);
  const pendings: Array<Promise<unknown>> = [];
  const undo = async (): Promise<void> => {
    await Promise.allSettled(pendings);
    await releaseNetworking(engine, c);
  };
  try {
    let netnsPath: string;
    let bridgeDone: Promise<Attachment> | undefined;
    if (onBridge) {
      const p = await engine.network.beginAttach(c.Id, ports, { mac: c.Config.MacAddress || undefined });
      netnsPath = p.netnsPath;
      bridgeDone = p.configured;
      pendings.push(bridgeDone);
    } else {
      netnsPath = engine.networks.sandboxPath(c.Id);
      await removeNetns(netnsPath);
      await createNetns(netnsPath);
    }
    let routeTaken = onBridge;
    let portsTaken = onBridge;
    const done: Array<Promise<[string, Attachment]>> = [];
    let i = onBridge ? 1 : 0;
    for (const j of joining) {
      const withRoute = !routeTaken && !j.internal;
      const withPorts = !portsTaken && !j.internal;
      routeTaken ||= withRoute;
      portsTaken ||= withPorts;
      // Config.MacAddress (API < 1.44, or copied from an endpoint's) is eth0's only when no endpoint names its own.
      const mac = j.ep.DesiredMacAddress ?? (i === 0 && !joining.some((x) => x.ep.DesiredMacAddress) ? c.Config.MacAddress || undefined : undefined);
      const p = await j.net.beginAttach(c.Id, withPorts ? ports : [], {
        netnsPath,
        ifName: `eth${i}`,
        ip: j.ep.IPAMConfig?.IPv4Address || undefined,
        preferredIp: j.ep.LastIPAddress,
        mac,
        defaultRoute: withRoute,
      });
      pendings.push(p.configured);
      done.push(p.configured.then((att) => [j.name, att]));
      i++;
    }
    const configured = (async (): Promise<NetworkingResult> => {
      const [bridge, endpoints] = await Promise.all([bridgeDone, Promise.all(done)]);
      const byName = new Map(endpoints);
      const carrier = bridge ?? [...byName.values()].find((a) => a.ports.length > 0);
      for (const [name, att] of byName) fillEndpoint(c.NetworkSettings.Networks![name]!, att);
      return { bridge, endpoints: byName, ports: carrier?.ports ?? [] };
    })().catch(async (err: unknown) => {
      await undo();
      throw err;
    });
    configured.catch(() => undefined);
    return { netnsPath, configured };
  } catch (err) {
    await undo();
    throw err;
  }
}

/** Emits connect for each network the container is now on (as dockerd does at start). */
export function emitConnects(engine: Engine, c: ContainerRecord, action: 'connect' | 'disconnect'): void {
  if (c.HostConfig.NetworkMode === 'bridge') {
    engine.events.emit('network', action, engine.networks.builtinId('bridge'), { container: c.Id, name: 'bridge', type: 'bridge' });
  }
  for (const [name, ep] of Object.entries(c.NetworkSettings.Networks ?? {})) {
    engine.events.emit('network', action, ep.NetworkID, { container: c.Id, name, type: 'bridge' });
  }
}

/** Idempotent: every attachment of the container, on every network, and its engine-owned namespace. */
export async function releaseNetworking(engine: Engine, c: ContainerRecord | undefined, id = c?.Id): Promise<void> {
  if (!id) return;
  const jobs: Array<Promise<unknown>> = [];
  if (!c || c.HostConfig.NetworkMode === 'bridge') jobs.push(engine.network.detach(id).catch(() => undefined));
  for (const rec of engine.networks.userNetworks()) jobs.push(engine.networks.bridgeOf(rec.Id).detach(id).catch(() => undefined));
  await Promise.all(jobs);
  const sandbox = engine.networks.sandboxPath(id);
  if (await stat(sandbox).then(() => true, () => false)) await removeNetns(sandbox).catch(() => undefined);
  for (const ep of Object.values(c?.NetworkSettings.Networks ?? {})) clearEndpoint(ep);
}

/** The lowest ethN the container does not use yet. */
async function nextIfName(engine: Engine, c: ContainerRecord): Promise<string> {
  const used = new Set<string>();
  if (c.HostConfig.NetworkMode === 'bridge') used.add('eth0');
  for (const ep of Object.values(c.NetworkSettings.Networks ?? {})) {
    if (!ep.EndpointID) continue;
    const name = await engine.networks.bridgeOf(ep.NetworkID).ifNameOf(c.Id);
    if (name) used.add(name);
  }
  for (let i = 0; ; i++) if (!used.has(`eth${i}`)) return `eth${i}`;
}

function refuseSharedModes(c: ContainerRecord): void {
  const mode = c.HostConfig.NetworkMode;
  if (mode === 'host') throw invalid('container cannot be disconnected from host network or connected to host network');
  if (mode === 'none') throw invalid('container cannot be connected to multiple networks with one of the networks in private (none) mode');
  if (isJoinMode(mode)) throw invalid('container sharing network namespace with another container or host cannot be connected to any other network');
}

/** POST /networks/{id}/connect. The caller holds the container's lock. */
export async function connectContainer(engine: Engine, c: ContainerRecord, networkRef: string, spec: EndpointSpec): Promise<void> {
  const n = engine.networks.get(networkRef);
  if (n.kind === 'builtin') {
    if (n.name === 'host' || c.HostConfig.NetworkMode === 'host') throw invalid('container cannot be disconnected from host network or connected to host network');
    if (n.name === 'none' || c.HostConfig.NetworkMode === 'none') throw invalid('container cannot be connected to multiple networks with one of the networks in private (none) mode');
    if (c.HostConfig.NetworkMode === 'bridge') throw new TugError('forbidden', `endpoint with name ${c.Name.slice(1)} already exists in network bridge`);
    throw invalid('connecting a container on a user-defined network to the default bridge is not supported by this engine');
  }
  refuseSharedModes(c);
  const rec = n.rec;
  if (Object.values(c.NetworkSettings.Networks ?? {}).some((ep) => ep.NetworkID === rec.Id)) {
    throw new TugError('forbidden', `endpoint with name ${c.Name.slice(1)} already exists in network ${rec.Name}`);
  }
  checkEndpointSpec(engine, rec.Id, spec);
  const ep = newEndpoint(rec.Id, spec);
  if (c.State.Running) {
    const net = engine.networks.bridgeOf(rec.Id);
    const hasRoute = c.HostConfig.NetworkMode === 'bridge' || Object.values(c.NetworkSettings.Networks ?? {}).some((e) => e.EndpointID && !engine.networks.store.get(e.NetworkID)?.Internal);
    const att = await net.attach(c.Id, [], {
      netnsPath: c.NetworkSettings.SandboxKey,
      ifName: await nextIfName(engine, c),
      ip: ep.IPAMConfig?.IPv4Address || undefined,
      mac: ep.DesiredMacAddress,
      defaultRoute: !hasRoute && !rec.Internal,
    });
    fillEndpoint(ep, att);
  }
  c.NetworkSettings.Networks = { ...(c.NetworkSettings.Networks ?? {}), [rec.Name]: ep };
  try {
    await engine.containers.save(c);
  } catch (err) {
    if (c.State.Running) await engine.networks.bridgeOf(rec.Id).detach(c.Id).catch(() => undefined);
    delete c.NetworkSettings.Networks[rec.Name];
    throw err;
  }
  if (c.State.Running) {
    await syncContainerDns(engine, c);
    engine.events.emit('network', 'connect', rec.Id, { container: c.Id, name: rec.Name, type: 'bridge' });
  }
}

/** POST /networks/{id}/disconnect. The caller holds the container's lock. */
export async function disconnectContainer(engine: Engine, c: ContainerRecord, networkRef: string): Promise<void> {
  const n = engine.networks.find(networkRef);
  if (!n) throw new TugError('not-found', `network ${networkRef} not found`);
  if (n.kind === 'builtin') {
    if (n.name === 'host' || c.HostConfig.NetworkMode === 'host') throw invalid('container cannot be disconnected from host network or connected to host network');
    if (n.name !== c.HostConfig.NetworkMode) throw invalid(`container ${c.Id} is not connected to network ${n.name}`);
    throw invalid(`disconnecting a container from the ${n.name} network is not supported by this engine`);
  }
  const entry = Object.entries(c.NetworkSettings.Networks ?? {}).find(([, ep]) => ep.NetworkID === n.rec.Id);
  if (!entry) throw invalid(`container ${c.Id} is not connected to network ${n.rec.Name}`);
  const [name, ep] = entry;
  const wasLive = Boolean(c.State.Running && ep.EndpointID);
  if (wasLive) await engine.networks.bridgeOf(n.rec.Id).detach(c.Id);
  const rest = { ...c.NetworkSettings.Networks };
  delete rest[name];
  c.NetworkSettings.Networks = rest;
  await engine.containers.save(c);
  // The endpoint is gone either way: a redirect left behind only fails lookups, so it is reported, not fatal.
  if (wasLive) await syncContainerDns(engine, c).catch((err) => process.stderr.write(`tug: ${c.Id.slice(0, 12)} DNS after disconnect: ${String(err)}\n`));
  if (wasLive) engine.events.emit('network', 'disconnect', n.rec.Id, { container: c.Id, name, type: 'bridge' });
}

