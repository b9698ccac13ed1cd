// Pod DNS as the kubelet sets it (dnsPolicy ClusterFirst): the cluster DNS
// Service address, the namespace search path and ndots:5, in the engine's
// HostConfig Dns/DnsSearch/DnsOptions shape for the pod's sandbox. One PodDns
// per node agent: the node's services set the cluster DNS address once they
// know it; until then (or with dnsPolicy Default, or host networking) pods
// keep the host's resolvers.
import { DEFAULT_CLUSTER_DOMAIN, podDnsSettings } from './resolv-conf.js';

interface PodDnsSpec {
  dnsPolicy?: string; hostNetwork?: boolean; dnsConfig?: { nameservers?: string[]; searches?: string[]; options?: { name: string; value?: string }[] };
}

/** A pod's resolver settings as engine HostConfig fields (none: the host's resolvers). */
export interface PodDnsConfig {
  Dns?: string[];
  DnsSearch?: string[];
  DnsOptions?: string[];
}

export class PodDns {
  private clusterDns: { ip: string; domain: string } | undefined;

  /** The cluster DNS Service address (undefined: none yet, pods keep the host's resolvers). */
  setClusterDns(ip: string | undefined, domain = DEFAULT_CLUSTER_DOMAIN): void {
    this.clusterDns = ip ? { ip, domain } : undefined;
  }

  /** The cluster domain pods' names live in. */
  get domain(): string {
    return this.clusterDns?.domain ?? DEFAULT_CLUSTER_DOMAIN;
  }

  /** `spec` is any pod spec: the DNS fields are read if present. */
  hostConfig(pod: { metadata: { namespace?: string }; spec?: object }): PodDnsConfig {
    const clusterDns = this.clusterDns;
    const spec = pod.spec as PodDnsSpec | undefined;
    const policy = spec?.dnsPolicy ?? 'ClusterFirst';
    const extra = spec?.dnsConfig;
    const extraOut = {
      servers: extra?.nameservers ?? [],
      search: extra?.searches ?? [],
      options: (extra?.options ?? []).map((o) => (o.value !== undefined ? `${o.name}:${o.value}` : o.name)),
    };
    let base = { servers: [] as string[], search: [] as string[], options: [] as string[] };
    const cluster = clusterDns && (policy === 'ClusterFirst' ? !spec?.hostNetwork : policy === 'ClusterFirstWithHostNet');
    if (cluster && clusterDns) base = podDnsSettings(pod.metadata.namespace ?? 'default', clusterDns.ip, clusterDns.domain);
    else if (policy !== 'None' && !extra) return {};
    const servers = [...base.servers, ...extraOut.servers];
    const search = [...base.search, ...extraOut.search];
    const options = [...base.options, ...extraOut.options];
    return { ...(servers.length ? { Dns: servers } : {}), ...(search.length ? { DnsSearch: search } : {}), ...(options.length ? { DnsOptions: options } : {}) };
  }
}
