// The /etc/hosts lines the kubelet writes into each container of a pod (its
// "Kubernetes-managed hosts file"): the pod's own address under its FQDN
// <hostname>.<subdomain>.<ns>.svc.<domain> (when it has a subdomain, as
// StatefulSet pods do) and its hostname, then spec.hostAliases. As engine
// ExtraHosts entries "names:address" (names tab-separated, one line each).
// Host-network pods keep the node's /etc/hosts.
import type { KubeObject } from '../../kube/client/kube-client.js';

export function podHostsEntries(pod: KubeObject, podIP: string, domain: string): string[] {
  if (!podIP || pod.spec?.hostNetwork) return [];
  const hostname = String(pod.spec?.hostname || pod.metadata.name);
  const subdomain = pod.spec?.subdomain;
  const own = subdomain ? `${hostname}.${subdomain}.${pod.metadata.namespace ?? 'default'}.svc.${domain}\t${hostname}` : hostname;
  const aliases = ((pod.spec?.hostAliases ?? []) as { ip?: string; hostnames?: string[] }[]).filter((a) => a.ip && a.hostnames?.length).map((a) => `${a.hostnames!.join('\t')}:${a.ip}`);
  return [`${own}:${podIP}`, ...aliases];
}
