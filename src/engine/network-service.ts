// The engine's networks: the default bridge (engine.network, configured by
// the daemon's flags), Docker's built-in host and none, and user-defined
// bridge networks, each a BridgeNetwork of its own with its state under
// <root>/network/nets/<id> and its record in the NetworkStore. This file owns
// their life (create, remove, prune, recovery); which container is on which
// network lives in the container records (NetworkSettings.Networks), and
// joining one is container-networking.ts.
//
// Crash safety: a network's record is written before its bridge is made, and
// recovery makes whatever a recorded network lacks (bridge, rules); removal
// takes the bridge, rules and state down first and the record last, so a crash
// in between leaves a record whose next removal finishes the job.
import { createHash, randomBytes } from 'node:crypto';
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { alreadyExists, conflict, invalid, notFound, TugError } from '../errdefs.js';
import { BridgeNetwork } from '../network/bridge-network.js';
import { cidrContains, cidrsOverlap, formatCidr, ipToNumber, isIpv4, numberToIp, parseCidr, type Cidr } from '../network/cidr.js';
import { pickDefaultPool } from '../network/address-pools.js';
import { withHostLock } from '../network/host-lock.js';
import { isolationChainName, removeIsolationChain } from '../network/isolation-rules.js';
import { bridgeOptions, type IpamPoolConfig, type NetworkRecord } from '../network/network-record.js';
import { NetworkStore } from '../network/network-store.js';
import { removeNetns } from '../network/netns.js';
import { runTool } from '../util/exec-file.js';
import { subnetOverlapsRoute } from '../network/routes.js';
import type { ContainerRecord } from './container-record.js';
import type { EventBus } from './events.js';

export interface NetworkCreateSpec {
  name: string;
  driver?: string;
  checkDuplicate?: boolean;
  internal?: boolean;
  attachable?: boolean;
  enableIPv6?: boolean;
  ingress?: boolean;
  configOnly?: boolean;
  configFrom?: string;
  ipam?: { driver?: string; options?: Record<string, string> | null; config?: IpamPoolConfig[] };
  options?: Record<string, string>;
  labels?: Record<string, string>;
}

export type BuiltinName = 'bridge' | 'host' | 'none';

/** A network as a reference resolves it. */
export type ResolvedNetwork = { kind: 'builtin'; name: BuiltinName; id: string } | { kind: 'user'; rec: NetworkRecord };

/** What a name server needs about one network: who answers to which name, at which address. */
export interface NetworkMember {
  containerId: string;
  /** Container name, aliases, short id. */
  names: string[];
  ip: string;
}

// dockerd takes any name (even with spaces); only what would break a path or a terminal is refused.
const networkNamePattern = /^[^/\\\x00-\x1f]+$/;
const bridgeNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;
const builtins: BuiltinName[] = ['bridge', 'host', 'none'];

export interface NetworkServiceOptions {
  root: string;
  defaultBridge: BridgeNetwork;
  events: EventBus;
  /** Every container record (endpoints live there). */
  containers: () => ContainerRecord[];
  /** A network's bridge holds its gateway address (created, recovered): its embedded DNS server starts (network-dns.ts). */
  onReady?: (id: string) => Promise<void>;
  /** A network goes: its embedded DNS server stops first. */
  onGone?: (id: string) => Promise<void>;
}

export class NetworkService {
  readonly isolationChain: string;
  private readonly bridges = new Map<string, BridgeNetwork>();
  /** Names being created right now (the duplicate check spans the awaits of create). */
  private readonly creating = new Set<string>();

  private constructor(
    private readonly opts: NetworkServiceOptions,
    readonly store: NetworkStore,
  ) {
    this.isolationChain = isolationChainName(opts.root);
  }

  static async open(opts: NetworkServiceOptions): Promise<NetworkService> {
    const store = await NetworkStore.open(join(opts.root, 'network'));
    const svc = new NetworkService(opts, store);
    for (const rec of store.all()) svc.bridges.set(rec.Id, svc.makeBridge(rec));
    return svc;
  }

  private get stateRoot(): string {
    return join(this.opts.root, 'network');
  }

  /** Where a container on user-defined networks keeps its namespace (owned by the engine, shared by its networks). */
  sandboxPath(containerId: string): string {
    return join(this.stateRoot, 'sandboxes', containerId);
  }

  builtinId(name: string): string {
    return createHash('sha256').update(`${this.opts.root}\0${name}`).digest('hex');
  }

  private makeBridge(rec: NetworkRecord): BridgeNetwork {
    return new BridgeNetwork({
      root: this.opts.root,
      stateDir: join(this.stateRoot, 'nets', rec.Id),
      bridgeName: rec.Tug.bridgeName,
      subnet: rec.Tug.subnet,
      addressing: { gateway: rec.Tug.gateway, ipRange: rec.Tug.ipRange, reserved: rec.Tug.auxAddresses, label: `${rec.Name} (${rec.Id})` },
      internal: rec.Internal,
      icc: rec.Tug.icc,
      isolationChain: this.isolationChain,
    });
  }

  /** The BridgeNetwork of a user-defined network. */
  bridgeOf(id: string): BridgeNetwork {
    const b = this.bridges.get(id);
    if (!b) throw notFound(`network ${id} not found`);
    return b;
  }

  userNetworks(): NetworkRecord[] {
    return this.store.all();
  }

  /**
   * Docker's lookup order: full id, exact name, then id prefix; a name two
   * networks share is ambiguous (dockerd 20.10 allows such duplicates).
   */
  find(ref: string): ResolvedNetwork | undefined {
    for (const name of builtins) if (ref === name || ref === this.builtinId(name)) return { kind: 'builtin', name, id: this.builtinId(name) };
    const all = this.store.all();
    const byId = all.find((n) => n.Id === ref);
    if (byId) return { kind: 'user', rec: byId };
    const byName = all.filter((n) => n.Name === ref);
    if (byName.length > 1) throw invalid(`${byName.length} matches found based on name: network ${ref} is ambiguous`);
    if (byName[0]) return { kind: 'user', rec: byName[0] };
    if (ref.length === 0) return undefined;
    for (const name of builtins) if (this.builtinId(name).startsWith(ref)) return { kind: 'builtin', name, id: this.builtinId(name) };
    const byPrefix = all.filter((n) => n.Id.startsWith(ref));
    if (byPrefix.length > 1) throw invalid(`${byPrefix.length} matches found based on ID prefix: network ${ref} is ambiguous`);
    return byPrefix[0] ? { kind: 'user', rec: byPrefix[0] } : undefined;
  }

  get(ref: string): ResolvedNetwork {
    const n = this.find(ref);
    if (!n) throw notFound(`network ${ref} not found`);
    return n;
  }

  /** A user-defined network by reference, for a container's create or connect. */
  user(ref: string): NetworkRecord {
    const n = this.get(ref);
    if (n.kind !== 'user') throw invalid(`network ${ref} is not a user-defined network`);
    return n.rec;
  }

  /** Containers with a live endpoint on the network (configured, not yet released), with it. */
  activeEndpoints(id: string): Array<{ c: ContainerRecord; name: string; ep: NonNullable<ContainerRecord['NetworkSettings']['Networks']>[string] }> {
    const out = [];
    for (const c of this.opts.containers()) {
      // An endpoint is live from the moment its attachment is configured (EndpointID set) until it is
      // released, not only while State.Running: the process runs before start marks the record running,
      // and its first DNS query must find it (else the embedded DNS answers REFUSED).
      for (const [name, ep] of Object.entries(c.NetworkSettings.Networks ?? {})) {
        if (ep.NetworkID === id && ep.EndpointID) out.push({ c, name, ep });
      }
    }
    return out;
  }

  /** Who answers to which name on a network, at which address (for the embedded DNS server). */
  members(id: string): NetworkMember[] {
    return this.activeEndpoints(id).map(({ c, ep }) => ({
      containerId: c.Id,
      names: [c.Name.replace(/^\//, ''), ...(ep.Aliases ?? []), c.Id.slice(0, 12)],
      ip: ep.IPAddress,
    }));
  }

  /**
   * Names only one container resolves: its legacy links on a network
   * ('target:alias' on the endpoint), each to the target's address there.
   */
  linkNames(containerId: string, id: string): Array<{ name: string; ip: string }> {
    const c = this.opts.containers().find((x) => x.Id === containerId);
    const ep = Object.values(c?.NetworkSettings.Networks ?? {}).find((e) => e.NetworkID === id);
    const out: Array<{ name: string; ip: string }> = [];
    for (const link of ep?.Links ?? []) {
      const [target = '', alias = target] = link.split(':');
      const t = this.activeEndpoints(id).find(({ c: x }) => x.Name === `/${target}` || x.Id === target || (target.length >= 12 && x.Id.startsWith(target)));
      if (t) out.push({ name: alias, ip: t.ep.IPAddress });
    }
    return out;
  }

  /** The running container with this address on the network (who is asking, for a name server). */
  containerAt(id: string, ip: string): ContainerRecord | undefined {
    return this.activeEndpoints(id).find(({ ep }) => ep.IPAddress === ip)?.c;
  }

  /**
   * The addresses `name` has on a network, as a container on it sees it:
   * container names, aliases (every container carrying one: Compose
   * replicas), short ids, and the asking container's own links there.
   * Compared lower-cased, as DNS names are.
   */
  addressesOf(id: string, name: string, clientId?: string): string[] {
    const want = name.toLowerCase();
    const ips = this.members(id).filter((m) => m.names.some((n) => n.toLowerCase() === want)).map((m) => m.ip);
    if (clientId) for (const l of this.linkNames(clientId, id)) if (l.name.toLowerCase() === want) ips.push(l.ip);
    return [...new Set(ips)];
  }

  /** Docker's PTR answer for an address on the network: "<container name>.<network name>". */
  nameAt(id: string, ip: string): string | undefined {
    const hit = this.activeEndpoints(id).find(({ ep }) => ep.IPAddress === ip);
    return hit ? `${hit.c.Name.replace(/^\//, '')}.${hit.name}` : undefined;
  }

  /** The network's gateway address (where the embedded DNS server can listen). */
  gatewayOf(id: string): string {
    const rec = this.store.get(id);
    if (!rec) throw notFound(`network ${id} not found`);
    return rec.Tug.gateway;
  }

  async create(spec: NetworkCreateSpec, defaultSubnet: string): Promise<{ Id: string; Warning: string }> {
    const name = spec.name;
    if (!name) throw invalid('invalid name: ');
    if (!networkNamePattern.test(name)) throw invalid(`invalid network name ${JSON.stringify(name)}: no '/', '\\' or control characters`);
    if (name === 'host' || name === 'none') throw new TugError('forbidden', `operation is not permitted on predefined ${name} network `);
    const driver = spec.driver || 'bridge';
    if (driver === 'host' || driver === 'null') throw new TugError('forbidden', `only one instance of "${driver}" network is allowed`);
    if (driver !== 'bridge') throw notFound(`plugin "${driver}" not found`);
    const ipamDriver = spec.ipam?.driver || 'default';
    if (ipamDriver !== 'default') throw notFound(`plugin "${ipamDriver}" not found`);
    if (spec.enableIPv6) throw invalid('IPv6 networks are not supported by this engine (EnableIPv6)');
    if (spec.ingress) throw new TugError('forbidden', 'ingress networks need a swarm: this node is not a swarm manager');
    if (spec.configOnly || spec.configFrom) throw invalid('config-only networks (ConfigOnly, ConfigFrom) are not supported by this engine');
    const duplicate = name === 'bridge' || this.creating.has(name) || this.store.all().some((n) => n.Name === name);
    if (duplicate && (spec.checkDuplicate || name === 'bridge' || this.creating.has(name))) throw alreadyExists(`network with name ${name} already exists`);
    const existing = this.store.all().find((n) => n.Name === name);
    const warning = existing ? `Network with name ${name} (id : ${existing.Id}) already exists` : '';

    const options = { ...(spec.options ?? {}) };
    const icc = parseBool(options[bridgeOptions.icc] ?? 'true', bridgeOptions.icc);
    if (!icc && (await readFile('/proc/sys/net/bridge/bridge-nf-call-iptables', 'utf8').catch(() => '')).trim() !== '1') {
      throw invalid(`${bridgeOptions.icc}=false needs the br_netfilter kernel module (net.bridge.bridge-nf-call-iptables=1), which is not loaded on this host`);
    }
    if (options[bridgeOptions.masquerade] !== undefined && !parseBool(options[bridgeOptions.masquerade]!, bridgeOptions.masquerade)) {
      throw invalid(`${bridgeOptions.masquerade}=false is not supported by this engine`);
    }
    for (const k of [bridgeOptions.mtu, bridgeOptions.hostBinding, bridgeOptions.inhibitIpv4, bridgeOptions.defaultBridge, bridgeOptions.containerIfacePrefix]) {
      if (options[k] !== undefined) throw invalid(`network option ${k} is not supported by this engine`);
    }
    const id = randomBytes(32).toString('hex');
    const bridgeName = options[bridgeOptions.name] ?? `br-${id.slice(0, 12)}`;
    if (!bridgeNamePattern.test(bridgeName)) throw invalid(`${bridgeOptions.name} "${bridgeName}": want 1-15 letters, digits, '_', '.' or '-'`);
    if (this.store.all().some((n) => n.Tug.bridgeName === bridgeName)) throw conflict(`bridge name ${bridgeName} is already used by another network`);
    if ((await runTool('ip', ['link', 'show', 'dev', bridgeName], { allowFailure: true })).code === 0) {
      throw conflict(`bridge name ${bridgeName} is already in use on this host`);
    }

    const pools = spec.ipam?.config ?? [];
    if (pools.length > 1) throw invalid('only one IPv4 pool per network is supported by this engine');
    const given = pools[0];
    this.creating.add(name);
    try {
      return await withHostLock('network-subnets', async () => {
        const inUse: Cidr[] = [parseCidr(defaultSubnet), ...this.store.all().map((n) => parseCidr(n.Tug.subnet))];
        let subnet: string;
        if (given?.Subnet) {
          const c = parseCidrOrRefuse(given.Subnet);
          if (c.prefixLen > 30) throw invalid(`subnet ${given.Subnet} is too small: it leaves no address for a container`);
          subnet = formatCidr(c);
          if (inUse.some((u) => cidrsOverlap(u, c))) throw new TugError('forbidden', 'Pool overlaps with other one on this address space');
          if (await subnetOverlapsRoute(subnet)) throw new TugError('forbidden', `Pool overlaps with other one on this address space: ${subnet} overlaps a route the host already has`);
        } else {
          if (given && (given.Gateway || given.IPRange || given.AuxiliaryAddresses)) throw invalid('a gateway, ip-range or aux-address needs a subnet (--subnet)');
          const picked = await pickDefaultPool(inUse);
          if (!picked) throw new TugError('forbidden', 'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
          subnet = picked;
        }
        const cidr = parseCidr(subnet);
        const first = cidr.base;
        const last = (cidr.base + 2 ** (32 - cidr.prefixLen) - 1) >>> 0;
        const inSubnet = (ip: string): boolean => isIpv4(ip) && cidrContains(cidr, ipToNumber(ip)) && ipToNumber(ip) !== first && ipToNumber(ip) !== last;
        const gateway = given?.Gateway || numberToIp(first + 1);
        if (!inSubnet(gateway)) throw invalid(`failed to allocate gateway (${gateway}): Requested address is out of range`);
        let ipRange: string | undefined;
        if (given?.IPRange) {
          const r = parseCidrOrRefuse(given.IPRange);
          if (r.prefixLen < cidr.prefixLen || !cidrContains(cidr, r.base)) throw invalid(`ip-range ${given.IPRange} is not within subnet ${subnet}`);
          ipRange = formatCidr(r);
        }
        const aux = Object.entries(given?.AuxiliaryAddresses ?? {});
        for (const [k, ip] of aux) if (!inSubnet(ip)) throw invalid(`aux-address ${k}=${ip} is not within subnet ${subnet}`);
        const ipamConfig: IpamPoolConfig[] = given
          ? [{ Subnet: subnet, ...(given.IPRange ? { IPRange: ipRange } : {}), ...(given.Gateway ? { Gateway: gateway } : {}), ...(aux.length ? { AuxiliaryAddresses: given.AuxiliaryAddresses } : {}) }]
          : [{ Subnet: subnet, Gateway: gateway }];
        const rec: NetworkRecord = {
          Name: name,
          Id: id,
          Created: new Date().toISOString(),
          Scope: 'local',
          Driver: 'bridge',
          EnableIPv6: false,
          IPAM: { Driver: 'default', Options: spec.ipam?.options ?? null, Config: ipamConfig },
          Internal: Boolean(spec.internal),
          Attachable: Boolean(spec.attachable),
          Ingress: false,
          ConfigFrom: { Network: '' },
          ConfigOnly: false,
          Options: options,
          Labels: spec.labels ?? {},
          Tug: { bridgeName, subnet, gateway, ...(ipRange ? { ipRange } : {}), auxAddresses: aux.map(([, ip]) => ip), icc, userSubnet: Boolean(given?.Subnet) },
        };
        await this.store.save(rec);
        const bridge = this.makeBridge(rec);
        this.bridges.set(id, bridge);
        try {
          await bridge.ensureReady();
          await this.opts.onReady?.(id);
        } catch (err) {
          await this.teardown(rec).catch(() => undefined);
          throw err;
        }
        this.opts.events.emit('network', 'create', id, { name, type: 'bridge' });
        return { Id: id, Warning: warning };
      });
    } finally {
      this.creating.delete(name);
    }
  }

  /** Bridge, rules and state first, the record last. */
  private async teardown(rec: NetworkRecord): Promise<void> {
    const bridge = this.bridges.get(rec.Id) ?? this.makeBridge(rec);
    await this.opts.onGone?.(rec.Id);
    await bridge.retire();
    await rm(join(this.stateRoot, 'nets', rec.Id), { recursive: true, force: true });
    this.bridges.delete(rec.Id);
    await this.store.remove(rec.Id);
  }

  async remove(ref: string): Promise<void> {
    const n = this.get(ref);
    if (n.kind === 'builtin') throw new TugError('forbidden', `${n.name} is a pre-defined network and cannot be removed`);
    if (this.activeEndpoints(n.rec.Id).length > 0) {
      throw new TugError('forbidden', `error while removing network: network ${n.rec.Name} id ${n.rec.Id} has active endpoints`);
    }
    await this.teardown(n.rec);
    this.opts.events.emit('network', 'destroy', n.rec.Id, { name: n.rec.Name, type: 'bridge' });
  }

  /** Unused user-defined networks that pass `keep`; their names. */
  async prune(keep: (rec: NetworkRecord) => boolean): Promise<string[]> {
    const removed: string[] = [];
    for (const rec of this.store.all()) {
      if (!keep(rec) || this.activeEndpoints(rec.Id).length > 0) continue;
      await this.teardown(rec);
      this.opts.events.emit('network', 'destroy', rec.Id, { name: rec.Name, type: 'bridge' });
      removed.push(rec.Name);
    }
    return removed;
  }

  /**
   * After a daemon start: every recorded network gets its bridge and rules
   * back (after a reboot they are gone), attachments of containers no longer
   * running are released, and namespaces of such containers removed.
   */
  async recover(live: Set<string>): Promise<void> {
    for (const rec of this.store.all()) {
      const bridge = this.bridgeOf(rec.Id);
      const liveHere = [...live].filter((id) => this.opts.containers().some((c) => c.Id === id && Object.values(c.NetworkSettings.Networks ?? {}).some((ep) => ep.NetworkID === rec.Id)));
      await bridge.recover(liveHere).catch((err) => process.stderr.write(`tug: network ${rec.Name} recovery: ${String(err)}\n`));
      await this.opts.onReady?.(rec.Id).catch((err) => process.stderr.write(`tug: network ${rec.Name} embedded DNS: ${String(err)}\n`));
    }
    const dir = join(this.stateRoot, 'sandboxes');
    for (const id of await readdir(dir).catch(() => [] as string[])) {
      if (!live.has(id)) await removeNetns(join(dir, id)).catch(() => undefined);
    }
  }

  /** Ephemeral daemons on shutdown: every network's bridge and rules (the default bridge's too), then the isolation chain. */
  async destroyAll(): Promise<void> {
    for (const rec of this.store.all()) {
      await this.bridgeOf(rec.Id).destroy().catch((err) => process.stderr.write(`tug: network ${rec.Name}: ${String(err)}\n`));
    }
    await this.opts.defaultBridge.destroy().catch((err) => process.stderr.write(`tug: network: ${String(err)}\n`));
    await removeIsolationChain(this.isolationChain);
  }

  /** Lets go of held host ports; leaves the networks as they are (live restore). */
  async close(): Promise<void> {
    for (const b of this.bridges.values()) await b.close();
  }
}

function parseBool(v: string, key: string): boolean {
  if (/^(1|t|true)$/i.test(v)) return true;
  if (/^(0|f|false)$/i.test(v)) return false;
  throw invalid(`invalid value "${v}" for ${key}: want true or false`);
}

function parseCidrOrRefuse(s: string): Cidr {
  if (s.includes(':')) throw invalid(`IPv6 subnets are not supported by this engine: ${s}`);
  const [ip] = s.split('/');
  if (!s.includes('/') || !ip || !isIpv4(ip)) throw invalid(`invalid CIDR address: ${s}`);
  return parseCidr(s);
}
