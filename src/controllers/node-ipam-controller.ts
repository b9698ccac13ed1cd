// Node IPAM (kube-controller-manager's range allocator, as k3s runs it): every
// Node without spec.podCIDR gets the lowest free /N of the cluster CIDR. What is
// taken is read from the Nodes themselves, so an agent restart keeps its range
// (the Node keeps it) and a deleted Node frees it, with nothing else to store;
// ranges handed out but not yet seen in the cache are held in memory so two
// Nodes registering at once never get the same one. A Node that came with its
// own podCIDR (an agent's explicit --pod-cidr) is left as it is.
//
// It also publishes the cluster network's shape (ConfigMap kube-system/
// tug-network: clusterCIDR and the overlay backend), which every node agent
// reads to build its routes, as flannel's agents read its net-conf.json.
import type { KubeClient, KubeObject } from '../kube/client/kube-client.js';
import { WorkQueue } from '../kube/client/work-queue.js';
import { invalid, isKind, messageOf } from '../errdefs.js';
import { refs, inNs, type SharedInformers } from '../kube/client/shared-informers.js';
import { formatCidr, parseCidr, type Cidr } from '../network/cidr.js';

export { CLUSTER_NETWORK_CONFIGMAP } from '../kube/api/node-identity.js';
import { CLUSTER_NETWORK_CONFIGMAP } from '../kube/api/node-identity.js';
export const DEFAULT_CLUSTER_CIDR = '10.42.0.0/16';
export const DEFAULT_NODE_CIDR_MASK_SIZE = 24;
export type NetworkBackend = 'vxlan' | 'host-gw' | 'none';
export const NETWORK_BACKENDS: NetworkBackend[] = ['vxlan', 'host-gw', 'none'];

export interface ClusterNetwork {
  clusterCidr: string;
  nodeCidrMaskSize: number;
  backend: NetworkBackend;
}

/** Checks a cluster network as given on the command line; the error names the flag. */
export function validateClusterNetwork(n: ClusterNetwork): ClusterNetwork {
  if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(n.clusterCidr)) throw invalid(`--cluster-cidr "${n.clusterCidr}" is not an IPv4 CIDR (want a.b.c.d/len)`);
  const c = parseCidr(n.clusterCidr);
  if (!Number.isInteger(n.nodeCidrMaskSize) || n.nodeCidrMaskSize < c.prefixLen || n.nodeCidrMaskSize > 30) {
    throw invalid(`--node-cidr-mask-size ${n.nodeCidrMaskSize} must lie between the cluster CIDR's prefix (/${c.prefixLen}) and 30`);
  }
  if (!NETWORK_BACKENDS.includes(n.backend)) throw invalid(`--network-backend must be one of ${NETWORK_BACKENDS.join(', ')}, not "${n.backend}"`);
  return { ...n, clusterCidr: formatCidr(c) };
}

/**
 * The lowest /maskSize of the cluster CIDR that overlaps none of `taken`, or undefined when all are.
 * The taken ranges become runs of slots, sorted, and the first gap is the answer: allocating the
 * n-th node's range costs O(n log n), where checking each candidate against every taken range cost
 * O(n²) and kept the controllers' thread busy for most of a minute after 1,000 nodes registered.
 */
export function firstFreeRange(cluster: Cidr, maskSize: number, taken: Cidr[]): Cidr | undefined {
  const count = 2 ** (maskSize - cluster.prefixLen);
  const step = 2 ** (32 - maskSize);
  const clusterEnd = cluster.base + count * step;
  const runs: [number, number][] = [];
  for (const t of taken) {
    const start = t.base;
    const end = t.base + 2 ** (32 - t.prefixLen);
    if (end <= cluster.base || start >= clusterEnd) continue;
    // The slots [first, last] intersect [start, end).
    runs.push([Math.max(0, Math.floor((start - cluster.base) / step)), Math.min(count - 1, Math.floor((end - 1 - cluster.base) / step))]);
  }
  runs.sort((a, b) => a[0] - b[0]);
  let free = 0;
  for (const [first, last] of runs) {
    if (first > free) break;
    free = Math.max(free, last + 1);
  }
  return free < count ? { base: (cluster.base + free * step) >>> 0, prefixLen: maskSize } : undefined;
}

export class NodeIpamController {
  readonly queue = new WorkQueue({ name: 'node_ipam_controller', baseDelayMs: 500, maxDelayMs: 30_000 });
  private readonly cluster: Cidr;
  /** node name → range patched but maybe not yet in the cache. */
  private readonly pending = new Map<string, string>();
  /** Nodes already told that the cluster CIDR is full. */
  private readonly reportedFull = new Set<string>();
  /** Ranges as parsed: each allocation reads every Node's, and parsing them all again made it O(n) regex matches a node. */
  private readonly parsed = new Map<string, Cidr>();

  constructor(
    private readonly informers: SharedInformers,
    private readonly client: KubeClient,
    private readonly net: ClusterNetwork,
  ) {
    this.cluster = parseCidr(net.clusterCidr);
    const onNode = (n: KubeObject) => this.queue.add(n.metadata.name!);
    informers.for(refs.nodes).addHandlers({ onAdd: onNode, onUpdate: (_, n) => onNode(n), onDelete: (n) => this.pending.delete(n.metadata.name!) });
    const onConfig = (c: KubeObject) => c.metadata.namespace === 'kube-system' && c.metadata.name === CLUSTER_NETWORK_CONFIGMAP && this.queue.add(CONFIG_KEY);
    informers.for(refs.configmaps).addHandlers({ onUpdate: (_, c) => onConfig(c), onDelete: onConfig });
  }

  run(): void {
    this.queue.add(CONFIG_KEY);
    // One worker: allocations are decided one at a time against one view of what is taken.
    void this.queue.run((k) => this.reconcile(k), 1, (k, err) => {
      if (!isKind(err, 'conflict')) process.stderr.write(`node-ipam: ${k}: ${messageOf(err)}\n`);
    });
  }

  stop(): void {
    this.queue.shutdown();
  }

  async reconcile(key: string): Promise<void> {
    if (key === CONFIG_KEY) return this.publishConfig();
    const node = this.informers.for(refs.nodes).get(key);
    if (!node || node.metadata.deletionTimestamp) {
      this.pending.delete(key);
      this.reportedFull.delete(key);
      return;
    }
    if (node.spec?.podCIDR) {
      this.pending.delete(key);
      return;
    }
    const mine = this.pending.get(key);
    const range = mine ?? this.allocate(key);
    if (!range) {
      // Said once per Node (the resync re-queues every Node each 30 s); a range freed later is picked up then.
      if (this.reportedFull.has(key)) return;
      this.reportedFull.add(key);
      throw invalid(`no free /${this.net.nodeCidrMaskSize} left in cluster CIDR ${this.net.clusterCidr} for node ${key}`);
    }
    this.reportedFull.delete(key);
    this.pending.set(key, range);
    await this.client.patch(refs.nodes, key, { spec: { podCIDR: range, podCIDRs: [range] } });
  }

  private parse(c: string): Cidr {
    let p = this.parsed.get(c);
    if (!p) {
      p = parseCidr(c);
      // Bounded by the distinct ranges ever seen; a fresh map past that (nodes' ranges churned) costs one re-parse each.
      if (this.parsed.size >= 65_536) this.parsed.clear();
      this.parsed.set(c, p);
    }
    return p;
  }

  private allocate(nodeName: string): string | undefined {
    const taken: Cidr[] = [];
    for (const n of this.informers.for(refs.nodes).list()) {
      if (n.metadata.name === nodeName) continue;
      for (const c of [n.spec?.podCIDR, ...((n.spec?.podCIDRs as string[] | undefined) ?? [])]) {
        if (typeof c === 'string' && c.includes('.')) taken.push(this.parse(c));
      }
    }
    for (const [name, c] of this.pending) if (name !== nodeName) taken.push(this.parse(c));
    const free = firstFreeRange(this.cluster, this.net.nodeCidrMaskSize, taken);
    return free && formatCidr(free);
  }

  /** kube-system/tug-network as this server was told (restored if edited or deleted). */
  private async publishConfig(): Promise<void> {
    const data = { clusterCIDR: this.net.clusterCidr, nodeCIDRMaskSize: String(this.net.nodeCidrMaskSize), backend: this.net.backend };
    const ref = inNs(refs.configmaps, 'kube-system');
    const cur = this.informers.for(refs.configmaps).get(`kube-system/${CLUSTER_NETWORK_CONFIGMAP}`);
    if (!cur) {
      await this.client.create(ref, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: CLUSTER_NETWORK_CONFIGMAP, namespace: 'kube-system' }, data }).catch((err) => {
        if (!isKind(err, 'already-exists')) throw err;
      });
    } else if (Object.entries(data).some(([k, v]) => (cur.data as Record<string, string> | undefined)?.[k] !== v)) {
      await this.client.patch(ref, CLUSTER_NETWORK_CONFIGMAP, { data });
    }
  }
}

const CONFIG_KEY = '\0config';
