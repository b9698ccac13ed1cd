// Before a node agent can make its pod bridge it needs its pod range: it
// registers its Node (or finds it from an earlier run, range included) and
// waits until the server's node IPAM controller has set spec.podCIDR, as a
// kubelet and flannel wait for theirs. An explicit --pod-cidr is written onto
// the Node instead (one node on its own, or ranges planned by hand). It also
// reads the cluster's network (kube-system/tug-network, which the IPAM
// controller publishes): the cluster CIDR and the overlay backend.
import { hostname } from 'node:os';
import { isKind, TugError } from '../../errdefs.js';
import type { KubeClient, KubeObject } from '../../kube/client/kube-client.js';
import { cidrsOverlap, parseCidr, formatCidr } from '../../network/cidr.js';

const nodesRef = { group: '', version: 'v1', resource: 'nodes' };
const configMaps = { group: '', version: 'v1', resource: 'configmaps', namespace: 'kube-system' };

export interface ClusterNetworkView {
  clusterCidr: string;
  backend: 'vxlan' | 'host-gw' | 'none';
}

/** The server's cluster network, or undefined (a server without node IPAM, or not yet published). */
export async function readClusterNetwork(client: KubeClient, tries = 1): Promise<ClusterNetworkView | undefined> {
  let d: Record<string, string> | undefined;
  for (let i = 0; i < tries && !d?.clusterCIDR; i++) {
    if (i) await new Promise((r) => setTimeout(r, 200));
    const cm = await client.getOrNull<KubeObject>(configMaps, 'tug-network').catch(() => null);
    d = cm?.['data'] as Record<string, string> | undefined;
  }
  if (!d?.clusterCIDR) return undefined;
  const backend = d.backend === 'host-gw' || d.backend === 'none' ? d.backend : 'vxlan';
  return { clusterCidr: formatCidr(parseCidr(d.clusterCIDR)), backend };
}

/** Whether `inner` lies wholly inside `outer`. */
export function cidrWithin(inner: string, outer: string): boolean {
  const i = parseCidr(inner);
  const o = parseCidr(outer);
  return i.prefixLen >= o.prefixLen && cidrsOverlap(i, o);
}

/** Creates the Node if it is missing (with `annotations`, and `podCidr` when given), else merges them in. */
export async function registerNode(client: KubeClient, nodeName: string, annotations: Record<string, string>, podCidr?: string): Promise<void> {
  const spec = podCidr ? { podCIDR: podCidr, podCIDRs: [podCidr] } : {};
  try {
    await client.create(nodesRef, { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName, labels: { 'kubernetes.io/hostname': nodeName, 'kubernetes.io/os': 'linux' }, annotations }, spec });
  } catch (err) {
    if (!isKind(err, 'already-exists') && !isKind(err, 'conflict')) throw err;
    await client.patch(nodesRef, nodeName, { metadata: { annotations }, ...(podCidr ? { spec } : {}) });
  }
}

/** spec.podCIDR of the Node once the IPAM controller has set it (polled; bounded). */
export async function awaitPodCidr(client: KubeClient, nodeName: string, tries = 300, everyMs = 200): Promise<string> {
  for (let i = 0; i < tries; i++) {
    const n = await client.getOrNull<KubeObject>(nodesRef, nodeName);
    const cidr = n?.spec?.podCIDR as string | undefined;
    if (cidr) return cidr;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new TugError(
    'unavailable',
    `node ${nodeName || hostname()} got no spec.podCIDR within ${(tries * everyMs) / 1000} s: the server's node IPAM hands ranges from its --cluster-cidr (is it full, or the server older?); give the agent --pod-cidr to choose one by hand`,
  );
}
