// The pod network between nodes, on one node (flannel's job): this node
// publishes how to reach its pods (Node annotations: backend, VTEP MAC, public
// IP), and keeps a route to every other node's podCIDR in sync with the Node
// objects, level-triggered: any Node event (or the informer's resync) leads to
// one sync that computes the whole wanted state and makes the host match it.
//   vxlan:   the kernel's vxlan device (vxlan-device.ts), per peer a route,
//            a neighbour and an FDB entry; works across any IP network.
//   host-gw: `podCIDR via <node IP>` on the underlay; nodes share one L2 segment.
// Nodes whose address is on this host (several agents on one machine's own
// network, as the single-host tests run them) need no route: their bridges
// are local. Pod-to-pod traffic is forwarded without NAT (its own FORWARD
// accept; the engine's masquerade skips the cluster range).
import { networkInterfaces } from 'node:os';
import { messageOf } from '../../errdefs.js';
import { Informer } from '../../kube/client/informer.js';
import type { KubeClient, KubeObject } from '../../kube/client/kube-client.js';
import { removeChain } from '../../network/iptables.js';
import { runTool } from '../../util/exec-file.js';
import type { NodeAddress } from './node-address.js';
import { ensureVtep, removeVtep, syncVxlanPeers, vtepExists, vtepMac, VXLAN_OVERHEAD, type VxlanPeer } from './vxlan-device.js';

export type PodNetworkBackend = 'vxlan' | 'host-gw';

export const NODE_ANNOTATIONS = {
  backend: 'network.tug.io/backend-type',
  vtepMac: 'network.tug.io/vtep-mac',
  publicIp: 'network.tug.io/public-ip',
} as const;

/** Routes this module owns carry this protocol number, so stale ones are found and only ours removed. */
const ROUTE_PROTO = '157';
const nodesRef = { group: '', version: 'v1', resource: 'nodes' };
/** How often the host is checked against the wanted state even when no peer changed. */
const FULL_SYNC_MS = 30_000;

export interface PodNetworkOptions {
  client: KubeClient;
  nodeName: string;
  address: NodeAddress;
  podCidr: string;
  clusterCidr: string;
  backend: PodNetworkBackend;
  /** Names this node's iptables chain (one per pod bridge). */
  bridge: string;
  log?: (msg: string) => void;
}

/** The MTU pods get on a node with this backend and underlay. */
export function podMtu(backend: PodNetworkBackend, underlayMtu: number): number {
  return backend === 'vxlan' ? underlayMtu - VXLAN_OVERHEAD : underlayMtu;
}

/** What this node tells the others (merge-patched onto its Node). */
export function podNetworkAnnotations(nodeName: string, backend: PodNetworkBackend, ip: string): Record<string, string> {
  return { [NODE_ANNOTATIONS.backend]: backend, [NODE_ANNOTATIONS.publicIp]: ip, ...(backend === 'vxlan' ? { [NODE_ANNOTATIONS.vtepMac]: vtepMac(nodeName) } : {}) };
}

interface Peer {
  name: string;
  podCidr: string;
  ip: string;
  mac?: string;
}

function internalIp(n: KubeObject): string | undefined {
  return n.metadata.annotations?.[NODE_ANNOTATIONS.publicIp] ?? (n.status?.addresses as Array<{ type: string; address: string }> | undefined)?.find((a) => a.type === 'InternalIP')?.address;
}

export class PodNetwork {
  private readonly informer: Informer;
  private readonly chain: string;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private dirty = false;
  private stopped = false;
  /** Syncs done (tests). */
  syncCount = 0;
  private lastKey = '';
  private lastFull = 0;

  constructor(private readonly o: PodNetworkOptions) {
    this.informer = new Informer(o.client, nodesRef, { resyncMs: 30_000 });
    this.chain = `TUG-PODNET-${o.bridge}`;
  }

  async start(): Promise<void> {
    await this.installForwardAccept();
    const poke = () => this.requestSync();
    this.informer.addHandlers({ onAdd: poke, onUpdate: poke, onDelete: poke });
    await this.informer.start();
    this.requestSync();
  }

  /** Pod-to-pod across nodes is forwarded even where the FORWARD policy is DROP (as flannel adds). */
  private async installForwardAccept(): Promise<void> {
    const c = this.o.clusterCidr;
    await runTool('iptables-restore', ['-w', '--noflush'], { input: `*filter\n:${this.chain} - [0:0]\n-A ${this.chain} -s ${c} -d ${c} -j ACCEPT\nCOMMIT\n` });
    const jump = ['FORWARD', '-m', 'comment', '--comment', 'tug pod network', '-j', this.chain];
    const has = await runTool('iptables', ['-w', '-C', ...jump], { allowFailure: true });
    if (has.code !== 0) await runTool('iptables', ['-w', '-I', jump[0]!, '1', ...jump.slice(1)]);
  }

  requestSync(): void {
    if (this.stopped) return;
    this.dirty = true;
    if (this.timer || this.running) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.sync().finally(() => {
        this.running = undefined;
        if (this.dirty) this.requestSync();
      });
    }, 50);
  }

  /** Resolves once no sync is pending or running. */
  async settled(): Promise<void> {
    while (this.timer || this.running || this.dirty) await (this.running ?? new Promise((r) => setTimeout(r, 20)));
  }

  /** This host's addresses, read in-process (getifaddrs): cheap enough for every sync. */
  private localAddresses(): Set<string> {
    return new Set(Object.values(networkInterfaces()).flatMap((as) => (as ?? []).map((a) => a.address)));
  }

  /** The other nodes this one must route to. */
  private peers(): Peer[] {
    const local = this.localAddresses();
    const out: Peer[] = [];
    for (const n of this.informer.list()) {
      const name = n.metadata.name!;
      const podCidr = n.spec?.podCIDR as string | undefined;
      const ip = internalIp(n);
      if (name === this.o.nodeName || !podCidr || !ip || local.has(ip)) continue;
      if (n.metadata.annotations?.[NODE_ANNOTATIONS.backend] && n.metadata.annotations[NODE_ANNOTATIONS.backend] !== this.o.backend) {
        this.o.log?.(`pod network: node ${name} uses backend ${n.metadata.annotations[NODE_ANNOTATIONS.backend]}, this node ${this.o.backend}: no route`);
        continue;
      }
      out.push({ name, podCidr, ip, mac: n.metadata.annotations?.[NODE_ANNOTATIONS.vtepMac] });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  private async sync(): Promise<void> {
    this.dirty = false;
    try {
      const peers = this.peers();
      // Node heartbeats change nothing that matters here: skip the host unless the peers changed,
      // or a full pass (repairing what someone else removed) is due.
      const key = JSON.stringify(peers);
      if (key === this.lastKey && Date.now() - this.lastFull < FULL_SYNC_MS) return;
      if (this.o.backend === 'vxlan') {
        const vx: VxlanPeer[] = peers.filter((p) => p.mac).map((p) => ({ podCidr: p.podCidr, mac: p.mac!, publicIp: p.ip }));
        // The device exists only where there is someone to talk to (a lone node, or nodes sharing one host, need none).
        if (vx.length) await ensureVtep({ nodeName: this.o.nodeName, localIp: this.o.address.ip, underlay: this.o.address.dev, underlayMtu: this.o.address.mtu, podCidr: this.o.podCidr });
        if (vx.length || (await vtepExists())) await syncVxlanPeers(vx);
      } else {
        await this.syncHostGw(peers);
      }
      this.syncCount++;
      this.lastKey = key;
      this.lastFull = Date.now();
    } catch (err) {
      this.o.log?.(`pod network: sync failed: ${messageOf(err)}`);
      // Retry soon: a route that failed (the underlay briefly down) must not wait for the next resync.
      if (!this.stopped) setTimeout(() => this.requestSync(), 2000).unref();
    }
  }

  private async syncHostGw(peers: Peer[]): Promise<void> {
    const want = new Map(peers.map((p) => [p.podCidr, p.ip]));
    const have = JSON.parse((await runTool('ip', ['-j', '-4', 'route', 'show', 'proto', ROUTE_PROTO])).stdout || '[]') as Array<{ dst: string; gateway?: string }>;
    for (const r of have) if (want.get(r.dst) !== r.gateway) await runTool('ip', ['route', 'del', r.dst, 'proto', ROUTE_PROTO], { allowFailure: true });
    for (const [cidr, ip] of want) await runTool('ip', ['route', 'replace', cidr, 'via', ip, 'dev', this.o.address.dev, 'proto', ROUTE_PROTO]);
  }

  /** Stops following Nodes; with cleanup, removes the device, the routes and the chain. */
  async stop(cleanup: boolean): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.informer.stop();
    await this.running;
    if (!cleanup) return;
    if (this.o.backend === 'vxlan') await removeVtep();
    else {
      const have = JSON.parse((await runTool('ip', ['-j', '-4', 'route', 'show', 'proto', ROUTE_PROTO])).stdout || '[]') as Array<{ dst: string }>;
      for (const r of have) await runTool('ip', ['route', 'del', r.dst, 'proto', ROUTE_PROTO], { allowFailure: true });
    }
    await removeChain('filter', this.chain);
  }
}
