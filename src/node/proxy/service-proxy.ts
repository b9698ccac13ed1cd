// The node's service proxy (kube-proxy's iptables mode): Services plus their
// EndpointSlices (or Endpoints) from informers → one rule set → one
// iptables-restore per sync. Syncs are coalesced and rate-limited as kube-proxy's
// (--iptables-min-sync-period 1s, two syncs of burst): a change after a quiet
// spell lands at once, and a stream of them (30 replacement pods turning Ready
// one after another) costs about one restore a second instead of one each
// (each restore is a process and ~15 ms of CPU, on the CPU those pods start on).
import { messageOf } from '../../errdefs.js';
import type { Informer } from '../../kube/client/informer.js';
import type { KubeObject } from '../../kube/client/kube-client.js';
import { IptablesProgrammer } from './iptables-programmer.js';
import { addServiceRoute, bridgeExists, enableRouteLocalnet, removeServiceRoute } from './node-routing.js';
import { backendsFromEndpoints, backendsFromSlices, type BackendPort } from './service-endpoints.js';
import { buildRules, chainNames, type ChainNames } from './service-rules.js';
import { SyncBucket } from '../../util/sync-bucket.js';

export interface ServiceInformers {
  services: Informer;
  endpoints: Informer;
  endpointSlices: Informer;
}

export interface ServiceProxyOptions {
  informers: ServiceInformers;
  bridge: string;
  podCidr: string;
  /** The cluster's pod range (default: this node's). */
  clusterCidr?: string;
  serviceCidr: string;
  /**
   * This node's own DNS server: the kube-system/kube-dns Service leads there on
   * this node (node-local DNS), whatever its Endpoints say, so every node answers its pods itself.
   */
  localDnsIp?: string;
  /** Restores after the first two of a burst are at least this far apart (default 1000; kube-proxy's minSyncPeriod). */
  minSyncMs?: number;
  /** Full re-sync period, repairing rules someone else removed. */
  resyncMs?: number;
  log?: (msg: string) => void;
}

/** All backends of every Service, keyed "namespace/name" (slices win over Endpoints). */
export function backendsByService(inf: ServiceInformers): Map<string, BackendPort[]> {
  const slices = new Map<string, KubeObject[]>();
  for (const s of inf.endpointSlices.list()) {
    const svc = s.metadata.labels?.['kubernetes.io/service-name'];
    if (!svc) continue;
    const key = `${s.metadata.namespace}/${svc}`;
    slices.set(key, [...(slices.get(key) ?? []), s]);
  }
  const out = new Map<string, BackendPort[]>();
  for (const svc of inf.services.list()) {
    const key = `${svc.metadata.namespace}/${svc.metadata.name}`;
    const sl = slices.get(key);
    out.set(key, sl?.length ? backendsFromSlices(sl) : backendsFromEndpoints(inf.endpoints.get(key)));
  }
  return out;
}

const KUBE_DNS = 'kube-system/kube-dns';
const DEFAULT_MIN_SYNC_MS = 1_000;
const SYNC_BURST = 2;

/** kube-dns's ports (as kube-dns-service.ts makes them), served by this node's DNS server. */
function localDnsBackends(ip: string): BackendPort[] {
  return [
    { name: 'dns', protocol: 'UDP', port: 53, addresses: [{ ip, ready: true }] },
    { name: 'dns-tcp', protocol: 'TCP', port: 53, addresses: [{ ip, ready: true }] },
  ];
}

export class ServiceProxy {
  readonly chains: ChainNames;
  private readonly programmer: IptablesProgrammer;
  private readonly bucket: SyncBucket;
  private timer?: NodeJS.Timeout;
  private resyncTimer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private dirty = false;
  /** The next sync restores even unchanged rules (the periodic re-sync repairs rules someone else removed). */
  private forced = false;
  private routed = false;
  private routeTimer?: NodeJS.Timeout;
  private routing?: Promise<void>;
  private stopped = false;
  /** Number of iptables-restore calls made (tests and metrics). */
  syncCount = 0;

  constructor(private readonly o: ServiceProxyOptions) {
    this.chains = chainNames(o.bridge);
    this.programmer = new IptablesProgrammer(this.chains, o.bridge);
    this.bucket = new SyncBucket(o.minSyncMs ?? DEFAULT_MIN_SYNC_MS, SYNC_BURST);
  }

  start(): void {
    const poke = () => this.requestSync();
    for (const inf of [this.o.informers.services, this.o.informers.endpoints, this.o.informers.endpointSlices]) {
      inf.addHandlers({ onAdd: poke, onUpdate: (a, b) => a !== b && poke(), onDelete: poke });
    }
    this.resyncTimer = setInterval(() => {
      this.requestSync(true);
      // The route may have gone with another server sharing the service CIDR (tests): add it again.
      if (this.routed) {
        this.routed = false;
        this.routing = this.ensureRouting();
      }
    }, this.o.resyncMs ?? 30_000);
    this.resyncTimer.unref();
    this.requestSync();
    this.routing = this.ensureRouting();
  }

  requestSync(force = false): void {
    if (this.stopped) return;
    this.dirty = true;
    if (force) this.forced = true;
    if (this.timer || this.running) return;
    const wait = this.bucket.delay();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.sync().finally(() => {
        this.running = undefined;
        if (this.dirty) this.requestSync();
      });
    }, wait);
  }

  /** Resolves once no sync is pending or running (tests). */
  async settled(): Promise<void> {
    while (this.timer || this.running || this.dirty) {
      await (this.running ?? new Promise((r) => setTimeout(r, 20)));
    }
  }

  private async sync(): Promise<void> {
    this.dirty = false;
    const force = this.forced;
    this.forced = false;
    try {
      const backends = backendsByService(this.o.informers);
      if (this.o.localDnsIp && backends.has(KUBE_DNS)) backends.set(KUBE_DNS, localDnsBackends(this.o.localDnsIp));
      const rules = buildRules(this.chains, { services: this.o.informers.services.list(), backends, podCidr: this.o.podCidr, clusterCidr: this.o.clusterCidr });
      // Only a restore spends the rate limit's budget: unchanged rules cost no process.
      if (await this.programmer.apply(rules, { force, before: () => this.bucket.take() })) this.syncCount++;
    } catch (err) {
      this.o.log?.(`service proxy: sync failed: ${messageOf(err)}`);
    }
  }

  /** The pod bridge appears with the first pod: until then, look for it every second. */
  private async ensureRouting(): Promise<void> {
    if (this.stopped || this.routed) return;
    try {
      if (await bridgeExists(this.o.bridge)) {
        await addServiceRoute(this.o.serviceCidr, this.o.bridge);
        await enableRouteLocalnet(this.o.bridge);
        this.routed = true;
        return;
      }
    } catch (err) {
      this.o.log?.(`service proxy: routes: ${messageOf(err)}`);
    }
    if (this.stopped) return;
    this.routeTimer = setTimeout(() => (this.routing = this.ensureRouting()), 1000);
    this.routeTimer.unref();
  }

  /** Stops syncing; with cleanup, removes every chain, hook and route it made. */
  async stop(cleanup: boolean): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    if (this.routeTimer) clearTimeout(this.routeTimer);
    await this.routing;
    await this.running;
    if (cleanup) {
      await this.programmer.remove();
      await removeServiceRoute(this.o.serviceCidr, this.o.bridge);
    }
  }
}
