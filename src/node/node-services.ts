// Services on a node: the service proxy and the cluster DNS server, sharing one
// set of informers (Services, Endpoints, EndpointSlices in all namespaces).
// They hand the node agent's pods what these give them: the Service cache for
// Service variables and the cluster DNS address (the agent's ServiceEnv and
// PodDns). run-agent.ts's withNodeServices ties their life to the agent's, so
// stopping the agent also removes every chain and route the proxy made.
import { messageOf } from '../errdefs.js';
import { Informer } from '../kube/client/informer.js';
import type { KubeClient } from '../kube/client/kube-client.js';
import type { ClusterView } from './dns/cluster-resolver.js';
import { startDnsServer, type DnsServer } from './dns/dns-server.js';
import { bridgeGatewayIp, ensureKubeDnsService } from './dns/kube-dns-service.js';
import { hostUpstreams } from './dns/resolv-conf.js';
import type { PodDns } from './dns/pod-dns.js';
import type { ServiceEnv } from './agent/service-env.js';
import { interfaceIpv4 } from './proxy/node-routing.js';
import { ServiceProxy, type ServiceInformers } from './proxy/service-proxy.js';
import { backendsFromEndpoints, backendsFromSlices } from './proxy/service-endpoints.js';

export interface NodeServicesOptions {
  client: KubeClient;
  bridge: string;
  podCidr: string;
  /** The cluster's pod range, when nodes route to each other's pods. */
  clusterCidr?: string;
  serviceCidr: string;
  clusterDomain?: string;
  /** Port of the DNS server on the bridge gateway (53; tests may pick another). */
  dnsPort?: number;
  /** Upstream resolvers (default: the host's /etc/resolv.conf without loopback ones). */
  upstreams?: string[];
  /** Create/repoint the kube-system/kube-dns Service (the server's embedded agent does). */
  manageKubeDnsService?: boolean;
  /** Who writes that Service and its Endpoints (default: client); the server passes its own, as a node may not. */
  dnsServiceClient?: KubeClient;
  /** The node agent's: they get this node's Service cache and the cluster DNS address. */
  serviceEnv: ServiceEnv;
  podDns: PodDns;
  log?: (msg: string) => void;
}

export interface NodeServices {
  proxy: ServiceProxy;
  informers: ServiceInformers;
  /** ClusterIP of kube-dns (what pods' resolv.conf names), if managed. */
  clusterDnsIp?: string;
  /** Resolves once the DNS server listens (the bridge gateway exists after the first pod). */
  dnsReady: Promise<DnsServer>;
  close(): Promise<void>;
}

export function clusterViewOf(inf: ServiceInformers): ClusterView {
  return {
    service: (ns, name) => inf.services.get(`${ns}/${name}`),
    services: () => inf.services.list(),
    backends: (ns, name) => {
      const slices = inf.endpointSlices.list().filter((s) => s.metadata.namespace === ns && s.metadata.labels?.['kubernetes.io/service-name'] === name);
      return slices.length ? backendsFromSlices(slices) : backendsFromEndpoints(inf.endpoints.get(`${ns}/${name}`));
    },
  };
}

export async function startNodeServices(o: NodeServicesOptions): Promise<NodeServices> {
  const ref = (resource: string, group = '', version = 'v1') => ({ group, version, resource });
  const informers: ServiceInformers = {
    services: new Informer(o.client, ref('services')),
    endpoints: new Informer(o.client, ref('endpoints')),
    endpointSlices: new Informer(o.client, ref('endpointslices', 'discovery.k8s.io')),
  };
  await Promise.all([informers.services.start(), informers.endpoints.start(), informers.endpointSlices.start()]);
  // Pods started from now on get service variables from this cache (no API request per pod).
  o.serviceEnv.setLister(informers.services);
  const gateway = bridgeGatewayIp(o.podCidr);
  // With a cluster network every node answers its own pods' DNS (see ServiceProxyOptions.localDnsIp), unless a test picked another port.
  const localDnsIp = o.clusterCidr && (o.dnsPort ?? 53) === 53 ? gateway : undefined;
  const proxy = new ServiceProxy({ informers, bridge: o.bridge, podCidr: o.podCidr, clusterCidr: o.clusterCidr, serviceCidr: o.serviceCidr, localDnsIp, log: o.log });
  proxy.start();
  let clusterDnsIp: string | undefined;
  if (o.manageKubeDnsService) {
    clusterDnsIp = await ensureKubeDnsService(o.dnsServiceClient ?? o.client, o.serviceCidr, gateway).catch((err) => {
      o.log?.(`cluster dns: kube-dns Service: ${messageOf(err)}`);
      return undefined;
    });
  }
  // Pods the agent creates from now on get this nameserver and search path.
  if (clusterDnsIp) o.podDns.setClusterDns(clusterDnsIp, o.clusterDomain);
  let closed = false;
  let dns: DnsServer | undefined;
  let retry: NodeJS.Timeout | undefined;
  const upstreams = o.upstreams ?? (await hostUpstreams());
  // The gateway address appears on the bridge with the first pod: bind then.
  const dnsReady = new Promise<DnsServer>((resolve) => {
    const tryBind = async () => {
      if (closed) return;
      try {
        if (interfaceIpv4(o.bridge) === gateway) {
          dns = await startDnsServer({ host: gateway, port: o.dnsPort ?? 53, view: clusterViewOf(informers), domain: o.clusterDomain, upstreams, log: o.log });
          if (closed) await dns.close();
          else resolve(dns);
          return;
        }
      } catch (err) {
        o.log?.(`cluster dns: ${messageOf(err)}`);
      }
      // Polled in-process (no spawn), often enough that a node's first pods find DNS answering.
      retry = setTimeout(() => void tryBind(), 100);
      retry.unref();
    };
    void tryBind();
  });
  return {
    proxy,
    informers,
    clusterDnsIp,
    dnsReady,
    async close() {
      closed = true;
      if (clusterDnsIp) o.podDns.setClusterDns(undefined);
      o.serviceEnv.setLister(undefined);
      if (retry) clearTimeout(retry);
      await dns?.close();
      await proxy.stop(true).catch((err) => o.log?.(`service proxy: cleanup: ${messageOf(err)}`));
      for (const i of Object.values(informers)) i.stop();
    },
  };
}
