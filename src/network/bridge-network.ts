// A Docker-style bridge network built from the standard CNI plugins: one
// Linux bridge per daemon, a network namespace per container joined by a veth,
// host-local IPAM and published ports (portmap with SNAT for localhost and
// hairpin). Outbound NAT and the FORWARD accepts (so containers work even
// where Docker has set the FORWARD policy to DROP) are per network, installed
// once (network-rules.ts), not per container by bridge ipMasq and firewall.
//
// Everything is named after the bridge and kept under its state dir
// (<root>/network for the default bridge), so several daemons (and test runs)
// and several networks of one daemon live side by side without sharing state.
//
// User-defined networks (network-service.ts) differ in three ways: addresses
// come from tug's own allocator (static addressing: the chosen address is in
// the attachment record before any plugin runs, so the records on disk are the
// leases) through CNI's static IPAM, which gives --ip, --ip-range and aux
// addresses exactly; the bridge is made when the network is, as Docker does;
// and a container's namespace may belong to the engine (shared by all the
// container's networks, each on its own ethN) instead of to the network.
//
// Wiring (TUG_NETWORK_WIRING, default 'direct'): tug makes the veth, address,
// route and loopback itself with one `ip -batch` run inside the container's
// namespace (for a new namespace, by the `ip` that `unshare` execs: the
// namespace made and wired by one process), addresses from its own allocator
// for every network (the default bridge's pool is its subnet, gateway first).
// The bridge and host-local plugins were two Go processes and ~26 ms of CPU a
// container, and their DELs two more; portmap still runs for published ports.
// 'cni' keeps the bridge plugin with host-local or static IPAM throughout.
// Records say which way each attachment was made, and are torn down that way.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { conflict, invalid, notFound, unavailable } from '../errdefs.js';
import { runTool } from '../util/exec-file.js';
import { AttachmentRecords, type AttachmentRecord, type PortMapping } from './attachment-record.js';
import { cidrContains, formatCidr, ipToNumber, isIpv4, numberToIp, parseCidr, type Cidr } from './cidr.js';
import { confListAdd, confListDelAll, type ConfList, type ConfListTarget, type PluginConf } from './cni-conflist.js';
import type { CniResult } from './cni-plugin.js';
import { reserveHostPort, type PortReservation } from './host-ports.js';
import { chainExists, deleteRulesWhere, dnatHostPortTaken, jumpTarget, optionValue, removeChain } from './iptables.js';
import { addressInNetns, createNetns, isNetnsMounted, removeNetns } from './netns.js';
import { installNetworkRules, networkRuleNames, removeNetworkRules } from './network-rules.js';
import { addIsolationMember, removeIsolationMember } from './isolation-rules.js';
import { subnetOverlapsRoute } from './routes.js';

export type { PortMapping } from './attachment-record.js';
export { allocateHostPort } from './host-ports.js';
export { subnetOverlapsRoute } from './routes.js';

export interface BridgeNetworkOptions {
  /** Daemon root; state lives in root/network. */
  root: string;
  /** Linux bridge name, at most 15 characters ('tug0' by default in the daemon). */
  bridgeName: string;
  /** IPv4 subnet, e.g. '10.88.0.0/16'. */
  subnet: string;
  cniPluginDir?: string;
  /** Where records, namespaces and leases live (default root/network). */
  stateDir?: string;
  /** tug's own address allocation (user-defined networks); host-local IPAM without it. */
  addressing?: StaticAddressing;
  /** No route out (docker network create --internal). */
  internal?: boolean;
  /** false: containers on the bridge cannot reach each other. */
  icc?: boolean;
  /** The daemon's isolation chain: this bridge becomes a member. */
  isolationChain?: string;
  /** MTU of the bridge and the containers' interfaces (below the link's when pods' traffic is tunnelled). */
  mtu?: number;
  /** Destinations reached without NAT (the cluster's pod range on a node of a cluster). */
  noMasqueradeTo?: string[];
  /** Who makes the veth and address (default: TUG_NETWORK_WIRING, else 'direct'; see the top of this file). */
  wiring?: Wiring;
}

export type Wiring = 'direct' | 'cni';

/** TUG_NETWORK_WIRING=cni: the bridge plugin and host-local/static IPAM, as before direct wiring. */
export function defaultWiring(): Wiring {
  const w = process.env.TUG_NETWORK_WIRING;
  if (w === undefined || w === '' || w === 'direct') return 'direct';
  if (w === 'cni') return 'cni';
  throw invalid(`TUG_NETWORK_WIRING: want direct or cni, got "${w}"`);
}

/** A namespace's wiring prepared by tug (direct wiring) for a caller that makes the namespace itself. */
export interface PreparedAttachment {
  /** iproute2 batch to run by `ip -batch -` inside the new namespace; brings lo up too. */
  ipBatch: string;
  /** After the batch ran: hairpin on the host end, the record marked complete. */
  finish(): Promise<Attachment>;
}

export interface StaticAddressing {
  gateway: string;
  /** Addresses are handed out from here (default: the whole subnet). */
  ipRange?: string;
  /** Never handed out (--aux-address). */
  reserved: string[];
  /** For errors: 'name (id)', as Docker names the network. */
  label: string;
}

export interface AttachOptions {
  mac?: string;
  /** An engine-owned namespace to join (the network neither makes nor removes it). */
  netnsPath?: string;
  /** Interface name in the namespace (default eth0). */
  ifName?: string;
  /** A wanted address (static addressing only). */
  ip?: string;
  /** The address to hand out if it is free (a restarted container's last one); else the first free. */
  preferredIp?: string;
  /** Route everything through this network's gateway (static addressing only; default true). */
  defaultRoute?: boolean;
}

export interface PendingAttachment {
  /** Exists (unwired) as soon as beginAttach resolves. */
  netnsPath: string;
  /** Resolves when the plugins have wired the namespace; rejects after undoing everything. */
  configured: Promise<Attachment>;
}

export interface Attachment {
  netnsPath: string;
  ip: string;
  prefixLen: number;
  gateway: string;
  mac: string;
  /** With the chosen host ports filled in. */
  ports: PortMapping[];
}

const CNI_VERSION = '1.0.0';
const IF_NAME = 'eth0';
const containerIdPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const bridgeNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;

/** CNI's chain naming (libcni utils.MustFormatChainNameWithPrefix): "CNI-"+prefix+sha512(name+id), cut to 28. */
function cniChainName(network: string, containerId: string, prefix = ''): string {
  const hex = createHash('sha512').update(network + containerId).digest('hex');
  return `CNI-${prefix}${hex}`.slice(0, 28);
}

function validatePorts(ports: PortMapping[]): void {
  for (const [i, p] of ports.entries()) {
    const where = `ports[${i}]`;
    if (p.protocol !== 'tcp' && p.protocol !== 'udp') throw invalid(`${where}.protocol: want tcp or udp, got "${String(p.protocol)}"`);
    if (!Number.isInteger(p.containerPort) || p.containerPort < 1 || p.containerPort > 65535) {
      throw invalid(`${where}.containerPort: want 1-65535, got ${p.containerPort}`);
    }
    if (!Number.isInteger(p.hostPort) || p.hostPort < 0 || p.hostPort > 65535) {
      throw invalid(`${where}.hostPort: want 0-65535, got ${p.hostPort}`);
    }
    if (p.hostIp !== '' && !isIpv4(p.hostIp)) throw invalid(`${where}.hostIp: "${p.hostIp}" is not an IPv4 address`);
  }
}

/** Docker's MAC for an address: 02:42 then the four address bytes. */
export function dockerMac(ip: string): string {
  const n = ipToNumber(ip);
  return ['02', '42', ...[n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

export class BridgeNetwork {
  readonly bridgeName: string;
  readonly subnet: string;
  private readonly cidr: Cidr;
  private readonly stateDir: string;
  private readonly netnsDir: string;
  private readonly ipamDir: string;
  private readonly pluginDir: string;
  private readonly records: AttachmentRecords;
  private readonly opts: BridgeNetworkOptions;
  /** Address choice plus its record write, one at a time (static addressing). */
  private allocating: Promise<unknown> = Promise.resolve();
  /** Held host-port sockets per container (see host-ports.ts). */
  private readonly reservations = new Map<string, PortReservation[]>();
  private ready?: Promise<void>;
  /** Set by retire(): the network is gone for good, and nothing may make its bridge again. */
  private retired = false;
  readonly wiring: Wiring;
  /** Where tug's allocator hands out addresses: a user network's settings, or the whole subnet with the first address as gateway. */
  private readonly pool: StaticAddressing;
  /** The bridge's ifindex (direct wiring names the master by index: `ip` runs in the container's namespace). */
  private bridgeIndex = 0;
  /** Whether /sys shows this namespace's links (learnt with bridgeIndex): hairpin and link checks then need no process. */
  private sysfsShowsOurLinks = false;
  /**
   * The records' addresses by container, read from disk once and then kept
   * with every record write and removal (this instance is the only writer):
   * a burst of 100 pods read 100 records for every address chosen.
   */
  private leaseCache?: Map<string, number>;
  /**
   * Teardowns under way (CNI wiring). Their plugin DELs run at once (see confListDelAll),
   * so the bridge may free an address while the firewall still deletes rules
   * naming it: a new attach waits for these first, so it can never be handed
   * that address and then lose its rules.
   */
  private readonly teardowns = new Set<Promise<void>>();

  constructor(opts: BridgeNetworkOptions) {
    if (!bridgeNamePattern.test(opts.bridgeName)) {
      throw invalid(`bridge name "${opts.bridgeName}": want 1-15 letters, digits, '_', '.' or '-'`);
    }
    this.cidr = parseCidr(opts.subnet);
    if (this.cidr.prefixLen > 30) throw invalid(`subnet ${opts.subnet}: too small for a gateway and a container`);
    this.bridgeName = opts.bridgeName;
    this.subnet = formatCidr(this.cidr);
    this.opts = opts;
    this.stateDir = opts.stateDir ?? join(opts.root, 'network');
    this.netnsDir = join(this.stateDir, 'netns');
    this.ipamDir = join(this.stateDir, 'ipam');
    this.pluginDir = opts.cniPluginDir ?? '/usr/lib/cni';
    this.records = new AttachmentRecords(join(this.stateDir, 'attachments'));
    this.wiring = opts.wiring ?? defaultWiring();
    // host-local's default gateway is the subnet's first address too: same bridge address either way.
    this.pool = opts.addressing ?? { gateway: numberToIp(this.cidr.base + 1), reserved: [], label: this.bridgeName };
  }

  /** The CNI network name; chains and IPAM state are keyed by it. */
  get networkName(): string {
    return this.bridgeName;
  }

  /**
   * The firewall plugin's per-network admin chain: attachments made before
   * the rules became per network still name it; destroy removes it.
   */
  get adminChain(): string {
    return `TUG-ADMIN-${this.bridgeName}`;
  }

  /** The network's own iptables chains (they stay until destroy). */
  get ruleChains(): string[] {
    const n = networkRuleNames(this.bridgeName);
    return [n.masq, n.forward, this.adminChain];
  }

  /**
   * The plugin chain. portmap only when the container publishes ports: without
   * mappings it adds nothing but costs a plugin run on ADD and on DEL (and its
   * DEL still scans the nat table). The record keeps the exact list, so DEL
   * always runs what ADD ran.
   */
  confList(withPorts = true, withMac = false, fixed?: { ip: string; defaultRoute: boolean }): ConfList {
    const portmap: PluginConf[] = withPorts
      ? // snat: masquerade connections from localhost (and hairpin) so replies come back.
        [{ type: 'portmap', capabilities: { portMappings: true }, snat: true }]
      : [];
    // The bridge plugin (1.1) cannot pick the veth's address; tuning sets it
    // on eth0 afterwards and reports it in the result (docker run --mac-address).
    const tuning: PluginConf[] = withMac ? [{ type: 'tuning', capabilities: { mac: true } }] : [];
    return {
      cniVersion: CNI_VERSION,
      name: this.networkName,
      plugins: [
        {
          type: 'bridge',
          bridge: this.bridgeName,
          isGateway: true,
          // NAT out is one per-network rule (see network-rules.ts).
          ipMasq: false,
          // Lets a container reach its own published port through the host.
          hairpinMode: true,
          ...(this.opts.mtu ? { mtu: this.opts.mtu } : {}),
          ipam: fixed && this.opts.addressing
            ? {
                type: 'static',
                addresses: [{ address: `${fixed.ip}/${this.cidr.prefixLen}`, gateway: this.opts.addressing.gateway }],
                routes: fixed.defaultRoute && !this.opts.internal ? [{ dst: '0.0.0.0/0', gw: this.opts.addressing.gateway }] : [],
              }
            : {
                type: 'host-local',
                ranges: [[{ subnet: this.subnet }]],
                routes: [{ dst: '0.0.0.0/0' }],
                // Per daemon, not /var/lib/cni: daemons must not share leases.
                dataDir: this.ipamDir,
              },
        },
        ...tuning,
        ...portmap,
      ],
    };
  }

  private async bridgeExists(): Promise<boolean> {
    const r = await runTool('ip', ['link', 'show', 'dev', this.bridgeName], { allowFailure: true });
    return r.code === 0;
  }

  /** Bridge (for static addressing), forwarding and rules; idempotent. */
  ensureReady(): Promise<void> {
    if (this.retired) return Promise.reject(notFound(`network ${this.opts.addressing?.label ?? this.networkName} has been removed`));
    this.ready ??= (async () => {
      // User-defined networks join engine-owned namespaces: no namespace dir of their own.
      if (!this.opts.addressing) await mkdir(this.netnsDir, { recursive: true });
      // Containers reach out only if the host routes between interfaces.
      await writeFile('/proc/sys/net/ipv4/ip_forward', '1');
      // Before the bridge claims the subnet, refuse one the host already routes.
      if (!(await this.bridgeExists())) {
        if (await subnetOverlapsRoute(this.subnet)) {
          throw conflict(`subnet ${this.subnet} overlaps a route the host already has; pick another subnet`);
        }
        // Direct wiring has no plugin to make the default bridge on first ADD.
        if (this.opts.addressing || this.wiring === 'direct') await this.makeBridge(this.pool.gateway);
      }
      if (this.wiring === 'direct') {
        this.bridgeIndex = await linkIndex(this.bridgeName);
        this.sysfsShowsOurLinks = sysfsShowsOurLinks(this.bridgeName, this.bridgeIndex);
      }
      if (this.opts.isolationChain) await addIsolationMember(this.opts.isolationChain, this.bridgeName);
      await installNetworkRules(this.bridgeName, this.subnet, { internal: this.opts.internal, icc: this.opts.icc, isolationChain: this.opts.isolationChain, noMasqueradeTo: this.opts.noMasqueradeTo });
    })().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  /** The bridge with its gateway address, up, as the bridge plugin would make it on first ADD. */
  private async makeBridge(gateway: string): Promise<void> {
    // A MAC of its own: without one the bridge takes its lowest port's, so it
    // changes as containers come and go and their ARP entries for the gateway
    // (the embedded DNS server's address) go stale (Docker sets one too).
    const mac = `02:${createHash('sha256').update(this.bridgeName).digest('hex').slice(0, 10).match(/../g)!.join(':')}`;
    const mtu = this.opts.mtu ? ` mtu ${this.opts.mtu}` : '';
    const batch = [
      `link add name ${this.bridgeName} address ${mac}${mtu} type bridge`,
      `addr add ${gateway}/${this.cidr.prefixLen} dev ${this.bridgeName}`,
      `link set dev ${this.bridgeName} up`,
    ];
    try {
      await runTool('ip', ['-batch', '-'], { input: batch.join('\n') + '\n' });
    } catch (err) {
      await runTool('ip', ['link', 'del', 'dev', this.bridgeName], { allowFailure: true });
      throw err;
    }
  }

  /**
   * Addresses of the records on disk (the leases of tug's allocator), and on
   * the default bridge also host-local's: attachments made by the plugins
   * before direct wiring (their records carry the address in the result).
   */
  private async leasedAddresses(): Promise<Set<number>> {
    if (!this.leaseCache) {
      const cache = new Map<string, number>();
      for (const id of await this.records.ids()) {
        const rec = await this.records.read(id);
        const ip = rec ? (rec.address ?? BridgeNetwork.ipOf(rec)) : undefined;
        if (ip) cache.set(id, ipToNumber(ip));
      }
      this.leaseCache = cache;
    }
    const used = new Set<number>(this.leaseCache.values());
    if (!this.opts.addressing) {
      const leases = await readdir(join(this.ipamDir, this.networkName)).catch(() => [] as string[]);
      for (const f of leases) if (isIpv4(f)) used.add(ipToNumber(f));
    }
    return used;
  }

  /** The wanted address checked, or the first free one of the range (Docker's words for each refusal). */
  private async chooseAddress(wanted: string | undefined, preferred?: string): Promise<string> {
    const a = this.pool;
    const first = this.cidr.base;
    const last = (this.cidr.base + 2 ** (32 - this.cidr.prefixLen) - 1) >>> 0;
    const blocked = new Set<number>([first, last, ipToNumber(a.gateway), ...a.reserved.map(ipToNumber)]);
    const used = await this.leasedAddresses();
    if (wanted) {
      if (!isIpv4(wanted) || !cidrContains(this.cidr, ipToNumber(wanted))) {
        throw invalid(`Invalid address ${wanted}: It does not belong to any of this network's subnets`);
      }
      const n = ipToNumber(wanted);
      if (blocked.has(n) || used.has(n)) throw conflict('Address already in use');
      return wanted;
    }
    const range = a.ipRange ? parseCidr(a.ipRange) : this.cidr;
    const rangeEnd = range.base + 2 ** (32 - range.prefixLen) - 1;
    if (preferred && isIpv4(preferred)) {
      const n = ipToNumber(preferred);
      if (n >= range.base && n <= rangeEnd && !blocked.has(n) && !used.has(n)) return preferred;
    }
    for (let n = range.base; n <= rangeEnd; n++) {
      if (!blocked.has(n) && !used.has(n)) return numberToIp(n);
    }
    throw unavailable(`no available IPv4 addresses on this network's address pools: ${a.label}`);
  }

  private target(rec: AttachmentRecord): ConfListTarget {
    return {
      pluginDir: this.pluginDir,
      containerId: rec.containerId,
      netnsPath: rec.netnsPath,
      ifName: rec.ifName,
      runtimeConfig: rec.runtimeConfig,
    };
  }

  private async reservePorts(ports: PortMapping[]): Promise<{ held: PortReservation[]; resolved: PortMapping[] }> {
    const held: PortReservation[] = [];
    try {
      const resolved: PortMapping[] = [];
      for (const p of ports) {
        const r = await reserveHostPort(p.protocol, p.hostIp, p.hostPort);
        held.push(r);
        // A forward some other CNI user set up without holding the port.
        if (p.hostPort !== 0 && (await dnatHostPortTaken(p.protocol, p.hostIp, r.port))) {
          throw conflict(`Bind for ${p.hostIp || '0.0.0.0'}:${r.port}/${p.protocol} failed: port is already allocated`);
        }
        resolved.push({ ...p, hostPort: r.port });
      }
      return { held, resolved };
    } catch (err) {
      await Promise.all(held.map((r) => r.release()));
      throw err;
    }
  }

  private async releasePorts(containerId: string): Promise<void> {
    const held = this.reservations.get(containerId) ?? [];
    this.reservations.delete(containerId);
    await Promise.all(held.map((r) => r.release()));
  }

  async attach(containerId: string, ports: PortMapping[], opts: AttachOptions = {}): Promise<Attachment> {
    const pending = await this.beginAttach(containerId, ports, opts);
    return pending.configured;
  }

  /**
   * Attach in two steps so the caller can overlap the slow part: this resolves
   * once host ports are held and the (still unwired) namespace exists, which is
   * all `runc create` needs; `configured` resolves when the plugins have wired
   * it (veth, address, NAT, firewall), which must happen before `runc start`.
   * On a plugin failure everything is undone before `configured` rejects.
   */
  async beginAttach(containerId: string, ports: PortMapping[], opts: AttachOptions = {}): Promise<PendingAttachment> {
    if (!containerIdPattern.test(containerId)) throw invalid(`container id "${containerId}" is not valid`);
    validatePorts(ports);
    if (opts.ip && !this.opts.addressing) throw invalid('user specified IP address is supported only when connecting to networks with user configured subnets');
    await this.ensureReady();
    while (this.teardowns.size > 0) await Promise.allSettled([...this.teardowns]);
    if (this.reservations.has(containerId) || (await this.records.read(containerId))) {
      throw conflict(`container ${containerId} is already attached to network ${this.networkName}`);
    }
    const { held, resolved } = await this.reservePorts(ports);
    this.reservations.set(containerId, held);
    const shared = opts.netnsPath !== undefined;
    const rec: AttachmentRecord = {
      containerId,
      netnsPath: opts.netnsPath ?? join(this.netnsDir, containerId),
      ifName: opts.ifName ?? IF_NAME,
      ...(shared ? { sharedNetns: true } : {}),
      confList: this.confList(resolved.length > 0, Boolean(opts.mac)),
      runtimeConfig: {
        ...(opts.mac ? { mac: opts.mac } : {}),
        portMappings: resolved.map((p) => ({
          hostPort: p.hostPort,
          containerPort: p.containerPort,
          protocol: p.protocol,
          hostIP: p.hostIp,
        })),
      },
      ports: resolved,
      complete: false,
    };
    const undo = async (err: unknown): Promise<never> => {
      // Undo everything; the caller sees the plugin's error, not the cleanup's.
      await this.teardown(rec).catch(() => undefined);
      await this.releasePorts(containerId);
      throw err;
    };
    if (this.wiring === 'direct') {
      let batch: string;
      try {
        batch = await this.leaseDirect(rec, resolved, opts);
        // One process: `ip` in a namespace unshare just made, or nsenter'd into the engine's.
        if (shared) await runTool('nsenter', [`--net=${rec.netnsPath}`, 'ip', '-batch', '-'], { input: batch });
        else await createNetns(rec.netnsPath, batch);
      } catch (err) {
        return undo(err);
      }
      const configured = this.finishDirect(rec).catch(undo);
      configured.catch(() => undefined);
      return { netnsPath: rec.netnsPath, configured };
    }
    try {
      if (this.opts.addressing) {
        await this.leaseAddress(rec, opts, (ip) => {
          rec.confList = this.confList(resolved.length > 0, true, { ip, defaultRoute: opts.defaultRoute ?? true });
        });
      } else {
        await this.records.write(rec);
      }
      if (!shared) await createNetns(rec.netnsPath);
    } catch (err) {
      return undo(err);
    }
    const configured = this.configure(rec).catch(undo);
    // The caller may be busy elsewhere when this fails; it awaits later.
    configured.catch(() => undefined);
    return { netnsPath: rec.netnsPath, configured };
  }

  /**
   * Direct wiring for a caller that makes the namespace itself (a pod's pins:
   * `unshare --net=F --uts=F --ipc=F ip -batch -`, so the pod's namespaces and
   * its network cost one process). The address is leased (recorded) before
   * this returns; if the batch fails, detach() undoes the rest.
   */
  async prepareAttach(containerId: string, netnsPath: string): Promise<PreparedAttachment> {
    if (this.wiring !== 'direct') throw new Error(`network ${this.networkName}: prepareAttach needs direct wiring`);
    if (!containerIdPattern.test(containerId)) throw invalid(`container id "${containerId}" is not valid`);
    await this.ensureReady();
    while (this.teardowns.size > 0) await Promise.allSettled([...this.teardowns]);
    if (await this.records.read(containerId)) throw conflict(`container ${containerId} is already attached to network ${this.networkName}`);
    const rec: AttachmentRecord = { containerId, netnsPath, ifName: IF_NAME, sharedNetns: true, confList: this.confList(false), runtimeConfig: {}, ports: [], complete: false };
    try {
      const ipBatch = await this.leaseDirect(rec, [], {});
      return { ipBatch, finish: () => this.finishDirect(rec) };
    } catch (err) {
      await this.teardown(rec).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Chooses the address and writes the record (the lease) before any link
   * exists, so a crash at any later point leaves a record to undo it by;
   * returns the `ip` batch that makes the veth (host end straight into this
   * namespace and onto the bridge), the address, the route and lo.
   */
  private async leaseDirect(rec: AttachmentRecord, ports: PortMapping[], opts: AttachOptions): Promise<string> {
    // Set before the lease, so an undo at any point takes the direct teardown.
    rec.hostIf = `veth${randomBytes(4).toString('hex')}`;
    rec.confList = this.confList(ports.length > 0);
    rec.confList.plugins = rec.confList.plugins.filter((p) => p.type === 'portmap');
    const route = (opts.defaultRoute ?? true) && !this.opts.internal;
    await this.leaseAddress(rec, opts, (ip, mac) => {
      rec.result = {
        cniVersion: CNI_VERSION,
        interfaces: [{ name: this.bridgeName }, { name: rec.hostIf! }, { name: rec.ifName, mac, sandbox: rec.netnsPath }],
        ips: [{ address: `${ip}/${this.cidr.prefixLen}`, gateway: this.pool.gateway, interface: 2 }],
        routes: route ? [{ dst: '0.0.0.0/0', gw: this.pool.gateway }] : [],
      };
    });
    const mtu = this.opts.mtu ? ` mtu ${this.opts.mtu}` : '';
    const ip = rec.address!;
    const lines = [
      'link set lo up',
      // The host end is made in the agent's namespace (netns <pid>) with its
      // master named by index, up; the peer stays here under the container's name.
      `link add name ${rec.hostIf} netns ${process.pid} up${mtu} master if${this.bridgeIndex} type veth peer name ${rec.ifName}${mtu} address ${String(rec.runtimeConfig.mac)}`,
      `addr add ${ip}/${this.cidr.prefixLen} dev ${rec.ifName}`,
      `link set dev ${rec.ifName} up`,
      ...(route ? [`route add default via ${this.pool.gateway} dev ${rec.ifName}`] : []),
    ];
    return lines.join('\n') + '\n';
  }

  /**
   * Choice and record in one step, one attach at a time: the record is the
   * lease. The address's MAC is Docker's for it unless one is given: a reused
   * address comes back with the same MAC, so no neighbour holds a stale entry
   * for it (no gratuitous ARP needed). `fill` completes the record before it
   * is written.
   */
  private async leaseAddress(rec: AttachmentRecord, opts: AttachOptions, fill: (ip: string, mac: string) => void): Promise<void> {
    const step = this.allocating.then(async () => {
      const ip = await this.chooseAddress(opts.ip, opts.preferredIp);
      const mac = opts.mac ?? dockerMac(ip);
      rec.address = ip;
      rec.runtimeConfig = { ...rec.runtimeConfig, mac };
      fill(ip, mac);
      await this.records.write(rec);
      this.leaseCache?.set(rec.containerId, ipToNumber(ip));
    });
    this.allocating = step.catch(() => undefined);
    await step;
  }

  /** After the batch: hairpin on the bridge port (what the bridge plugin's hairpinMode did), then portmap if ports are published. */
  private async finishDirect(rec: AttachmentRecord): Promise<Attachment> {
    await setHairpin(rec.hostIf!, this.sysfsShowsOurLinks);
    let result = rec.result!;
    if (rec.confList.plugins.length > 0) {
      result = await confListAdd(rec.confList, this.target(rec), async (soFar) => {
        rec.result = soFar;
        await this.records.write(rec);
      }, result);
    }
    rec.result = result;
    rec.complete = true;
    await this.records.write(rec);
    return this.attachmentOf(rec, result);
  }

  private async configure(rec: AttachmentRecord): Promise<Attachment> {
    const steps = rec.confList.plugins.length;
    let done = 0;
    // lo is already up: createNetns did it (no loopback plugin to spawn).
    const result = await confListAdd(rec.confList, this.target(rec), async (soFar) => {
      rec.result = soFar;
      // The last step's write also marks the record complete (one fsync less).
      if (++done === steps) rec.complete = true;
      await this.records.write(rec);
    });
    rec.result = result;
    if (!rec.complete) {
      rec.complete = true;
      await this.records.write(rec);
    }
    return this.attachmentOf(rec, result);
  }

  private attachmentOf(rec: AttachmentRecord, result: CniResult): Attachment {
    const ipc = result.ips?.find((i) => isIpv4(i.address.split('/')[0] ?? ''));
    if (!ipc) throw new Error(`cni result for ${rec.containerId} has no IPv4 address`);
    const [ip, len] = ipc.address.split('/') as [string, string];
    const iface = result.interfaces?.find((i) => i.name === rec.ifName && i.sandbox);
    return {
      netnsPath: rec.netnsPath,
      ip,
      prefixLen: Number(len),
      gateway: ipc.gateway ?? '',
      mac: iface?.mac ?? '',
      ports: rec.ports.map((p) => ({ ...p })),
    };
  }

  /** The container's address according to the record, if ADD got that far. */
  private static ipOf(rec: AttachmentRecord): string | undefined {
    return rec.result?.ips?.find((i) => isIpv4(i.address.split('/')[0] ?? ''))?.address.split('/')[0];
  }

  /**
   * DEL (every plugin at once, see `teardowns`), then remove what the plugins could not because a crash or
   * reboot took their inputs (the per-container chains are named from
   * network+id, so they are found without the plugins), then the namespace and
   * the record.
   * A failing DEL keeps the record so a retry (or destroy) can finish the job.
   */
  private async teardown(rec: AttachmentRecord): Promise<void> {
    // Direct wiring drops the lease last, once nothing names the address: no attach need wait for it.
    if (rec.hostIf) return this.teardownDirect(rec);
    const running = this.teardownNow(rec);
    this.teardowns.add(running);
    try {
      await running;
    } finally {
      this.teardowns.delete(running);
    }
  }

  /**
   * Direct wiring's teardown: portmap's DEL (if it ran), then the veth goes
   * with the namespace (a namespace of our own is unmounted here; a shared one
   * that still exists gets an `ip link del`), then the lease. The lease goes
   * only once the host end is gone, so the address is never on two ports.
   */
  private async teardownDirect(rec: AttachmentRecord): Promise<void> {
    const hostIf = rec.hostIf!;
    const mounted = await isNetnsMounted(rec.netnsPath);
    if (rec.confList.plugins.length > 0) {
      const target = this.target(rec);
      if (!mounted) target.netnsPath = '';
      await confListDelAll(rec.confList, target, rec.result);
      // A crash mid-ADD: portmap's chain may be there without the result naming it.
      if (!rec.complete) await removeChain('nat', cniChainName(rec.confList.name, rec.containerId, 'DN-'));
    }
    if (!rec.sharedNetns) await removeNetns(rec.netnsPath);
    if (mounted && rec.sharedNetns) await deleteLink(hostIf);
    else await linkGone(hostIf, this.sysfsShowsOurLinks);
    await this.dropRecord(rec.containerId);
  }

  private async teardownNow(rec: AttachmentRecord): Promise<void> {
    const mounted = await isNetnsMounted(rec.netnsPath);
    // A namespace file left unmounted (reboot) is not a netns to the plugins; a
    // missing one is, by the CNI spec, "already gone" and DEL goes on. A shared
    // one is not ours to remove: DEL then runs without a namespace (CNI allows it).
    if (!mounted && !rec.sharedNetns) await removeNetns(rec.netnsPath);
    const target = this.target(rec);
    if (!mounted && rec.sharedNetns) target.netnsPath = '';
    // An ADD cut short before its result was recorded: the firewall plugin's DEL
    // cannot know the address, so find it in the namespace and drop its
    // FORWARD accepts here, while the lease still keeps the address ours (after
    // the bridge DEL another container may get it, and its rules must stay).
    const ip = BridgeNetwork.ipOf(rec) ? undefined : mounted ? await addressInNetns(rec.netnsPath, rec.ifName) : undefined;
    if (ip && (await chainExists('filter', 'CNI-FORWARD'))) {
      await deleteRulesWhere('filter', (argv) => {
        if (argv[1] !== 'CNI-FORWARD') return false;
        return optionValue(argv, '-s') === `${ip}/32` || optionValue(argv, '-d') === `${ip}/32`;
      });
    }
    await confListDelAll(rec.confList, target, rec.result);
    if (!rec.complete || !mounted) {
      // With the full result and a live namespace the plugins removed their own
      // chains; without them (crash mid-ADD, reboot) bridge's ipMasq chain and
      // portmap's DNAT chain may be left behind, so drop them by name.
      const name = rec.confList.name;
      await removeChain('nat', cniChainName(name, rec.containerId));
      await removeChain('nat', cniChainName(name, rec.containerId, 'DN-'));
    }
    if (!rec.sharedNetns) await removeNetns(rec.netnsPath);
    await this.dropRecord(rec.containerId);
  }

  /** The record goes, and with it the lease. */
  private async dropRecord(containerId: string): Promise<void> {
    await this.records.remove(containerId);
    this.leaseCache?.delete(containerId);
  }

  /** Idempotent: an unknown (or host/none-mode) container is a no-op. */
  async detach(containerId: string): Promise<void> {
    if (!containerIdPattern.test(containerId)) throw invalid(`container id "${containerId}" is not valid`);
    const rec = await this.records.read(containerId);
    try {
      if (rec) await this.teardown(rec);
    } finally {
      if (!rec || !(await this.records.read(containerId))) await this.releasePorts(containerId);
    }
  }

  /**
   * After a daemon restart: live containers keep their namespace, address and
   * rules, and get their host ports held again; containers the engine no
   * longer has are detached (leases, rules and namespaces released).
   */
  async recover(liveContainerIds: Iterable<string>): Promise<void> {
    await this.ensureReady();
    const live = new Set(liveContainerIds);
    let firstErr: unknown;
    for (const id of await this.records.ids()) {
      try {
        if (!live.has(id)) {
          await this.detach(id);
          continue;
        }
        if (this.reservations.has(id)) continue;
        const rec = await this.records.read(id);
        if (!rec) continue;
        const held: PortReservation[] = [];
        for (const p of rec.ports) {
          // Best effort: if something grabbed the port meanwhile, the DNAT still wins.
          const r = await reserveHostPort(p.protocol, p.hostIp, p.hostPort).catch(() => undefined);
          if (r) held.push(r);
        }
        this.reservations.set(id, held);
      } catch (err) {
        firstErr ??= err;
      }
    }
    if (firstErr) throw firstErr;
  }

  /**
   * Lets go of in-process resources (the held host-port sockets) and leaves all
   * network state as it is: for a daemon that stops while its containers keep
   * running; the next daemon's recover() picks them up again.
   */
  async close(): Promise<void> {
    for (const id of [...this.reservations.keys()]) await this.releasePorts(id);
  }

  /** The interface a container has on this network, if attached. */
  async ifNameOf(containerId: string): Promise<string | undefined> {
    return (await this.records.read(containerId))?.ifName;
  }

  /** Containers attached according to the records on disk. */
  attachedIds(): Promise<string[]> {
    return this.records.ids();
  }

  /**
   * destroy() for a network removed for good: an attach racing with the
   * removal fails instead of making the bridge and rules again.
   */
  async retire(): Promise<void> {
    this.retired = true;
    await this.destroy();
  }

  /**
   * Detach everything, then remove the bridge, the network's admin chain and
   * any rule still naming this network or its subnet. Shared CNI chains
   * (CNI-FORWARD, CNI-HOSTPORT-*) and other programs' rules stay.
   */
  async destroy(): Promise<void> {
    // A setup still running would install the chains again after they are removed below.
    await this.ready?.catch(() => undefined);
    let firstErr: unknown;
    for (const id of await this.records.ids()) {
      await this.detach(id).catch((err: unknown) => {
        firstErr ??= err;
      });
    }
    for (const id of [...this.reservations.keys()]) await this.releasePorts(id);
    // Leftovers of attachments whose records were lost: rules commented with this network's name.
    const named = `name: "${this.networkName}" `;
    const orphanChains = new Set<string>();
    await deleteRulesWhere('nat', (argv) => {
      const comment = optionValue(argv, '--comment');
      const target = jumpTarget(argv);
      if (!comment?.includes(named) || !target?.startsWith('CNI-')) return false;
      orphanChains.add(target);
      return true;
    });
    for (const c of orphanChains) await removeChain('nat', c);
    if (await chainExists('filter', 'CNI-FORWARD')) {
      await deleteRulesWhere('filter', (argv) => {
        if (argv[1] !== 'CNI-FORWARD') return false;
        const addr = optionValue(argv, '-s') ?? optionValue(argv, '-d');
        if (!addr || !addr.endsWith('/32')) return false;
        return cidrContains(this.cidr, ipToNumber(addr.slice(0, -3)));
      });
    }
    await removeNetworkRules(this.bridgeName);
    if (this.opts.isolationChain) await removeIsolationMember(this.opts.isolationChain, this.bridgeName);
    await removeChain('filter', this.adminChain);
    if (await this.bridgeExists()) await runTool('ip', ['link', 'del', 'dev', this.bridgeName]);
    await rm(join(this.ipamDir, this.networkName), { recursive: true, force: true });
    this.ready = undefined;
    if (firstErr) throw firstErr;
  }
}

/** A link's ifindex in this process's namespace. */
async function linkIndex(name: string): Promise<number> {
  const r = await runTool('ip', ['-j', 'link', 'show', 'dev', name]);
  const index = (JSON.parse(r.stdout) as { ifindex?: number }[])[0]?.ifindex;
  if (!index) throw new Error(`ip link show ${name}: no ifindex`);
  return index;
}

/**
 * Does /sys show this process's network namespace? Not for an agent started by
 * nsenter into a namespace of its own (the multinode tests): its /sys shows
 * the namespace that mounted it, so a link there by our name is not ours. The
 * bridge under its name with the ifindex `ip` gave us in our namespace says it is.
 */
function sysfsShowsOurLinks(bridgeName: string, bridgeIndex: number): boolean {
  try {
    return bridgeIndex > 0 && Number(readFileSync(`/sys/class/net/${bridgeName}/ifindex`, 'utf8')) === bridgeIndex;
  } catch {
    return false;
  }
}

/** Hairpin on a bridge port: through sysfs when it shows our links (no process), else `ip`. */
async function setHairpin(hostIf: string, viaSysfs: boolean): Promise<void> {
  if (viaSysfs) {
    try {
      await writeFile(`/sys/class/net/${hostIf}/brport/hairpin_mode`, '1');
      return;
    } catch {
      // Fall back to ip.
    }
  }
  await runTool('ip', ['link', 'set', 'dev', hostIf, 'type', 'bridge_slave', 'hairpin', 'on']);
}

async function deleteLink(name: string): Promise<void> {
  const r = await runTool('ip', ['link', 'del', 'dev', name], { allowFailure: true });
  if (r.code !== 0 && !/Cannot find device|does not exist/i.test(r.stderr)) throw new Error(`ip link del ${name}: ${r.stderr.trim()}`);
}

/**
 * The namespace holding a veth's peer is gone (or going): the kernel removes
 * the pair as it cleans the namespace up, a moment later. Wait for that where
 * /sys shows it (no process); else, or if it stays (a process still in the
 * namespace), delete it.
 */
async function linkGone(name: string, viaSysfs: boolean): Promise<void> {
  if (viaSysfs) {
    for (let i = 0; i < 200; i++) {
      if (!existsSync(`/sys/class/net/${name}`)) return;
      await sleep(10);
    }
  }
  await deleteLink(name);
}
