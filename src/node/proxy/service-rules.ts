// The iptables rules of kube-proxy's iptables mode, as a pure function of the
// Services and their backends: nat chains that DNAT a ClusterIP:port (and a
// NodePort on any local address) to one ready backend chosen with
// `-m statistic --mode random`, a mark that POSTROUTING masquerades, and filter
// rules that REJECT a service without ready backends. Every chain name carries
// a tag (from the node bridge), so several tug servers on one host — test
// servers side by side — each own their chains and never rewrite another's.
import { createHash } from 'node:crypto';
import type { KubeObject } from '../../kube/client/kube-client.js';
import { backendsForPort, type BackendPort } from './service-endpoints.js';
import { cidrContains, ipToNumber, parseCidr } from '../../network/cidr.js';

export const MASQ_MARK = '0x4000';

export interface ChainNames {
  tag: string;
  services: string;
  nodePorts: string;
  postrouting: string;
  markMasq: string;
  forward: string;
  /** filter table: REJECT for services without ready backends. */
  reject: string;
  svcPrefix: string;
  sepPrefix: string;
  /** nat: a NodePort of an externalTrafficPolicy: Local Service (local endpoints only). */
  xlbPrefix: string;
}

export function chainNames(bridge: string): ChainNames {
  const tag = createHash('sha256').update(bridge).digest('hex').slice(0, 6).toUpperCase();
  return {
    tag,
    services: `TUG-SERVICES-${tag}`,
    nodePorts: `TUG-NODEPORTS-${tag}`,
    postrouting: `TUG-POSTROUTING-${tag}`,
    markMasq: `TUG-MARK-MASQ-${tag}`,
    forward: `TUG-FORWARD-${tag}`,
    reject: `TUG-REJECT-${tag}`,
    svcPrefix: `TUG-SVC-${tag}-`,
    sepPrefix: `TUG-SEP-${tag}-`,
    xlbPrefix: `TUG-XLB-${tag}-`,
  };
}

/**
 * Jumps from the built-in chains into ours: [table, builtin chain, rule args].
 * Forwarded traffic is taken only from this node's pod bridge, so tug servers
 * side by side on one host (tests), which may share a service CIDR, never
 * translate each other's pods' traffic; NodePorts reached from other
 * interfaces go straight to the node-port chain.
 */
export function hookRules(c: ChainNames, bridge: string): [string, string, string[]][] {
  const newOnly = ['-m', 'conntrack', '--ctstate', 'NEW'];
  return [
    ['nat', 'PREROUTING', ['-i', bridge, '-m', 'comment', '--comment', 'tug service portals', '-j', c.services]],
    ['nat', 'PREROUTING', ['!', '-i', bridge, '-m', 'addrtype', '--dst-type', 'LOCAL', '-m', 'comment', '--comment', 'tug node ports', '-j', c.nodePorts]],
    ['nat', 'OUTPUT', ['-m', 'comment', '--comment', 'tug service portals', '-j', c.services]],
    ['nat', 'POSTROUTING', ['-m', 'comment', '--comment', 'tug postrouting', '-j', c.postrouting]],
    ['filter', 'INPUT', [...newOnly, '-m', 'comment', '--comment', 'tug services without endpoints', '-j', c.reject]],
    ['filter', 'OUTPUT', [...newOnly, '-m', 'comment', '--comment', 'tug services without endpoints', '-j', c.reject]],
    ['filter', 'FORWARD', ['-i', bridge, ...newOnly, '-m', 'comment', '--comment', 'tug services without endpoints', '-j', c.reject]],
    ['filter', 'FORWARD', ['-m', 'comment', '--comment', 'tug forwarding', '-j', c.forward]],
  ];
}

function hashName(prefix: string, s: string): string {
  // 28 characters is iptables' limit for a chain name.
  return prefix + createHash('sha256').update(s).digest('hex').slice(0, 28 - prefix.length).toUpperCase();
}

export interface RuleInput {
  services: KubeObject[];
  /** Backends by "namespace/name". */
  backends: Map<string, BackendPort[]>;
  /** This node's pod range: endpoints in it are local (externalTrafficPolicy: Local). */
  podCidr: string;
  /** The cluster's pod range (traffic from outside it is masqueraded); this node's range when not given. */
  clusterCidr?: string;
}

export interface RuleSet {
  nat: Map<string, string[]>;
  filter: Map<string, string[]>;
}

const AFFINITY_SECONDS_DEFAULT = 10800;

/** All our chains with their rules (each rule is the text after `-A CHAIN `). */
export function buildRules(c: ChainNames, input: RuleInput): RuleSet {
  const nat = new Map<string, string[]>();
  const filter = new Map<string, string[]>();
  const services: string[] = [];
  const nodePorts: string[] = [];
  const reject: string[] = [];
  nat.set(c.markMasq, [`-j MARK --or-mark ${MASQ_MARK}`]);
  // Clear the mark before masquerading so a re-routed packet is not masqueraded twice.
  nat.set(c.postrouting, [`-m mark ! --mark ${MASQ_MARK}/${MASQ_MARK} -j RETURN`, `-j MARK --xor-mark ${MASQ_MARK}`, `-j MASQUERADE --random-fully`]);
  filter.set(c.forward, [
    `-m mark --mark ${MASQ_MARK}/${MASQ_MARK} -j ACCEPT`,
    `-s ${input.podCidr} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    `-d ${input.podCidr} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
  ]);
  const cluster = input.clusterCidr ?? input.podCidr;
  const local = parseCidr(input.podCidr);
  const isLocal = (ip: string): boolean => cidrContains(local, ipToNumber(ip));
  const sorted = [...input.services].sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  for (const svc of sorted) {
    const ns = svc.metadata.namespace ?? 'default';
    const name = svc.metadata.name ?? '';
    const clusterIP: string | undefined = svc.spec?.clusterIP;
    const type: string = svc.spec?.type ?? 'ClusterIP';
    if (type === 'ExternalName') continue;
    const headless = !clusterIP || clusterIP === 'None';
    const affinity = svc.spec?.sessionAffinity === 'ClientIP';
    const affinitySeconds: number = svc.spec?.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? AFFINITY_SECONDS_DEFAULT;
    const all = input.backends.get(`${ns}/${name}`) ?? [];
    for (const p of (svc.spec?.ports ?? []) as any[]) {
      const proto = String(p.protocol ?? 'TCP').toLowerCase();
      if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') continue;
      const portName: string = p.name ?? '';
      const comment = `-m comment --comment "${ns}/${name}${portName ? `:${portName}` : ''}"`;
      const ready = backendsForPort(all, portName, String(p.protocol ?? 'TCP'))
        .flatMap((b) => b.addresses.filter((a) => a.ready).map((a) => ({ ip: a.ip, port: b.port })))
        .sort((a, b) => `${a.ip}:${a.port}`.localeCompare(`${b.ip}:${b.port}`));
      const nodePort: number | undefined = (type === 'NodePort' || type === 'LoadBalancer') && p.nodePort ? p.nodePort : undefined;
      if (headless) continue;
      if (!ready.length) {
        // kube-proxy rejects with icmp-port-unreachable; on this host a pod never saw that ICMP
        // for a forwarded SYN (it timed out), so TCP gets a RST: the client sees "connection refused" at once.
        const how = proto === 'tcp' ? 'tcp-reset' : 'icmp-port-unreachable';
        reject.push(`${comment} -d ${clusterIP}/32 -p ${proto} -m ${proto} --dport ${p.port} -j REJECT --reject-with ${how}`);
        if (nodePort) reject.push(`${comment} -m addrtype --dst-type LOCAL -p ${proto} -m ${proto} --dport ${nodePort} -j REJECT --reject-with ${how}`);
        continue;
      }
      const svcChain = hashName(c.svcPrefix, `${ns}/${name}:${portName}/${proto}`);
      const rules: string[] = [];
      // Traffic from outside the pod range is masqueraded, so replies come back through this node.
      rules.push(`${comment} ! -s ${cluster} -d ${clusterIP}/32 -p ${proto} --dport ${p.port} -j ${c.markMasq}`);
      const seps = ready.map((r) => ({ ...r, chain: hashName(c.sepPrefix, `${ns}/${name}:${portName}/${proto}@${r.ip}:${r.port}`) }));
      if (affinity) for (const s of seps) rules.push(`${comment} -m recent --name ${s.chain} --mask 255.255.255.255 --rsource --rcheck --seconds ${affinitySeconds} --reap -j ${s.chain}`);
      seps.forEach((s, i) => {
        const left = seps.length - i;
        rules.push(left > 1 ? `${comment} -m statistic --mode random --probability ${(1 / left).toFixed(10)} -j ${s.chain}` : `${comment} -j ${s.chain}`);
        const sep = [`${comment} -s ${s.ip}/32 -j ${c.markMasq}`];
        sep.push(`${comment} -p ${proto}${affinity ? ` -m recent --name ${s.chain} --mask 255.255.255.255 --rsource --set` : ''} -m ${proto} -j DNAT --to-destination ${s.ip}:${s.port}`);
        nat.set(s.chain, sep);
      });
      nat.set(svcChain, rules);
      services.push(`${comment} -d ${clusterIP}/32 -p ${proto} -m ${proto} --dport ${p.port} -j ${svcChain}`);
      if (nodePort && svc.spec?.externalTrafficPolicy === 'Local') {
        // Local: only this node's endpoints, no masquerade (the pod sees the client's address);
        // none here means the packet is dropped, so a load balancer moves on (kube-proxy's XLB chain).
        // Pods' own traffic to a NodePort still goes to any endpoint.
        const xlb = hashName(c.xlbPrefix, `${ns}/${name}:${portName}/${proto}`);
        const localSeps = seps.filter((s) => isLocal(s.ip));
        const x: string[] = [`${comment} -s ${cluster} -j ${svcChain}`];
        localSeps.forEach((s, i) => {
          const left = localSeps.length - i;
          x.push(left > 1 ? `${comment} -m statistic --mode random --probability ${(1 / left).toFixed(10)} -j ${s.chain}` : `${comment} -j ${s.chain}`);
        });
        // No endpoint here: nothing is DNATed, and the filter chain drops the packet (DROP is not allowed in nat).
        if (!localSeps.length) reject.push(`${comment} ! -s ${cluster} -m addrtype --dst-type LOCAL -p ${proto} -m ${proto} --dport ${nodePort} -j DROP`);
        nat.set(xlb, x);
        nodePorts.push(`${comment} -p ${proto} -m ${proto} --dport ${nodePort} -j ${xlb}`);
      } else if (nodePort) {
        nodePorts.push(`${comment} -p ${proto} -m ${proto} --dport ${nodePort} -j ${c.markMasq}`);
        nodePorts.push(`${comment} -p ${proto} -m ${proto} --dport ${nodePort} -j ${svcChain}`);
      }
    }
  }
  // Node ports last, and only for packets addressed to this host (any of its addresses, 127.0.0.1 too).
  services.push(`-m addrtype --dst-type LOCAL -j ${c.nodePorts}`);
  nat.set(c.services, services);
  nat.set(c.nodePorts, nodePorts);
  filter.set(c.reject, reject);
  return { nat, filter };
}

/**
 * iptables-restore input that rewrites exactly our chains: each declared chain
 * is flushed and refilled; chains we had before but no longer need are
 * flushed and deleted. With --noflush nothing else in the tables is touched.
 */
export function restoreText(rules: RuleSet, stale: { nat: string[]; filter: string[] }): string {
  const out: string[] = [];
  for (const table of ['nat', 'filter'] as const) {
    const chains = rules[table];
    out.push(`*${table}`);
    for (const name of chains.keys()) out.push(`:${name} - [0:0]`);
    for (const name of stale[table]) out.push(`:${name} - [0:0]`);
    for (const [name, lines] of chains) for (const l of lines) out.push(`-A ${name} ${l}`);
    // Delete stale chains after every rule that jumped to them is gone.
    for (const name of stale[table]) out.push(`-X ${name}`);
    out.push('COMMIT');
  }
  return out.join('\n') + '\n';
}
