// resolv.conf for pods (what kubelet writes for dnsPolicy ClusterFirst) and the
// host's upstream resolvers that cluster DNS forwards other names to.
import { readFile } from 'node:fs/promises';

export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

/** The nameserver/search/options of a pod in `namespace`, in the engine's --dns/--dns-search/--dns-option shape. */
export function podDnsSettings(namespace: string, clusterDnsIp: string, domain = DEFAULT_CLUSTER_DOMAIN): { servers: string[]; search: string[]; options: string[] } {
  return { servers: [clusterDnsIp], search: [`${namespace}.svc.${domain}`, `svc.${domain}`, domain], options: ['ndots:5'] };
}

/** The text of a pod's /etc/resolv.conf. */
export function podResolvConf(namespace: string, clusterDnsIp: string, domain = DEFAULT_CLUSTER_DOMAIN): string {
  const s = podDnsSettings(namespace, clusterDnsIp, domain);
  return `search ${s.search.join(' ')}\nnameserver ${s.servers.join('\nnameserver ')}\noptions ${s.options.join(' ')}\n`;
}

/** Nameservers of a resolv.conf text, without loopback ones (a host stub resolver is unreachable from the pod bridge's view and would loop). */
export function upstreamsOf(resolvConf: string): string[] {
  const out: string[] = [];
  for (const line of resolvConf.split('\n')) {
    const m = line.trim().match(/^nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/);
    if (m && !m[1].startsWith('127.')) out.push(m[1]);
  }
  return out;
}

export async function hostUpstreams(path = '/etc/resolv.conf'): Promise<string[]> {
  return upstreamsOf(await readFile(path, 'utf8').catch(() => ''));
}
