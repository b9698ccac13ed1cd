// The `kube-dns` Service in kube-system (as clusters name it, so pods and tools
// find it): a selector-less Service on the service CIDR's .10 whose Endpoints
// point at the node's DNS server on the pod bridge gateway.
import { TugError } from '../../errdefs.js';
import { numberToIp, parseCidr } from '../../network/cidr.js';
import type { KubeClient, KubeObject, ResourceRef } from '../../kube/client/kube-client.js';

const services: ResourceRef = { group: '', version: 'v1', resource: 'services', namespace: 'kube-system' };
const endpoints: ResourceRef = { group: '', version: 'v1', resource: 'endpoints', namespace: 'kube-system' };
const ports = [
  { name: 'dns', port: 53, protocol: 'UDP' },
  { name: 'dns-tcp', port: 53, protocol: 'TCP' },
];

/** The conventional cluster DNS address: the 10th address of the service CIDR. */
export function clusterDnsIp(serviceCidr: string): string {
  return numberToIp(parseCidr(serviceCidr).base + 10);
}

/** The address CNI's host-local IPAM gives the bridge: the subnet's first. */
export function bridgeGatewayIp(podCidr: string): string {
  return numberToIp(parseCidr(podCidr).base + 1);
}

/** Creates (or repoints) kube-system/kube-dns; returns the Service's ClusterIP. */
export async function ensureKubeDnsService(client: KubeClient, serviceCidr: string, serverIp: string): Promise<string> {
  let svc = await client.getOrNull<KubeObject>(services, 'kube-dns');
  if (!svc) {
    try {
      svc = await client.create<KubeObject>(services, {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'CoreDNS' } },
        spec: { clusterIP: clusterDnsIp(serviceCidr), ports: ports.map((p) => ({ ...p, targetPort: 53 })) },
      });
    } catch (err) {
      if (!(err instanceof TugError && err.kind === 'already-exists')) throw err;
      svc = await client.get<KubeObject>(services, 'kube-dns');
    }
  }
  const body = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } }, subsets: [{ addresses: [{ ip: serverIp }], ports }] };
  const old = await client.getOrNull<KubeObject>(endpoints, 'kube-dns');
  try {
    if (old) await client.update(endpoints, { ...body, metadata: { ...body.metadata, resourceVersion: old.metadata.resourceVersion } });
    else await client.create(endpoints, body);
  } catch (err) {
    // A node agent (Node authorizer) may make missing ones but not repoint another's: the Service still serves.
    if (!(err instanceof TugError && (err.kind === 'forbidden' || err.kind === 'already-exists'))) throw err;
  }
  return String(svc.spec?.clusterIP);
}

