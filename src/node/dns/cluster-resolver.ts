// Answers for names in the cluster domain, from the Services and their
// backends (CoreDNS's kubernetes plugin, reduced): A for
// <svc>.<ns>.svc.<domain> (the ClusterIP, or the ready pod IPs of a headless
// Service), A for <hostname>.<svc>.<ns>.svc.<domain> of headless backends,
// SRV for _<port>._<proto>.<svc>.<ns>.svc.<domain>, PTR for ClusterIPs.
// Names outside the domain are not ours: the server forwards them.
import type { Answer } from 'dns-packet';
import type { KubeObject } from '../../kube/client/kube-client.js';
import type { BackendPort } from '../proxy/service-endpoints.js';

export const DNS_TTL = 5;

export interface ClusterView {
  service(namespace: string, name: string): KubeObject | undefined;
  services(): KubeObject[];
  backends(namespace: string, name: string): BackendPort[];
}

export type Resolution = { rcode: 'NOERROR' | 'NXDOMAIN'; answers: Answer[] } | 'forward';

export function resolveClusterName(view: ClusterView, domain: string, qname: string, qtype: string): Resolution {
  const name = qname.toLowerCase().replace(/\.$/, '');
  if (name.endsWith('.in-addr.arpa')) return reverse(view, domain, name, qtype);
  if (name !== domain && !name.endsWith(`.${domain}`)) return 'forward';
  const labels = name === domain ? [] : name.slice(0, -(domain.length + 1)).split('.');
  const nx: Resolution = { rcode: 'NXDOMAIN', answers: [] };
  const nodata: Resolution = { rcode: 'NOERROR', answers: [] };
  // The zone apex and the svc / <ns>.svc subdomains exist (empty non-terminals).
  if (labels.length === 0 || (labels.length === 1 && labels[0] === 'svc') || (labels.length === 2 && labels[1] === 'svc')) return nodata;
  if (labels[labels.length - 1] !== 'svc' || labels.length < 3) return nx;
  const ns = labels[labels.length - 2];
  const svcName = labels[labels.length - 3];
  const svc = view.service(ns, svcName);
  if (!svc) return nx;
  const ip: string | undefined = svc.spec?.clusterIP;
  const headless = !ip || ip === 'None';
  const ready = view.backends(ns, svcName).flatMap((b) => b.addresses.filter((a) => a.ready));
  const rest = labels.slice(0, -3);
  const a = (ips: string[]): Answer[] => [...new Set(ips)].map((data) => ({ type: 'A', name: qname, ttl: DNS_TTL, class: 'IN', data }));
  if (rest.length === 0) {
    if (svc.spec?.type === 'ExternalName' && svc.spec?.externalName) {
      return { rcode: 'NOERROR', answers: [{ type: 'CNAME', name: qname, ttl: DNS_TTL, class: 'IN', data: String(svc.spec.externalName) }] };
    }
    if (qtype !== 'A' && qtype !== 'ANY') return nodata;
    return { rcode: 'NOERROR', answers: a(headless ? ready.map((r) => r.ip) : [ip]) };
  }
  if (rest.length === 1 && headless) {
    const hit = ready.filter((r) => r.hostname === rest[0] || r.ip.replaceAll('.', '-') === rest[0]);
    if (!hit.length) return nx;
    return qtype === 'A' || qtype === 'ANY' ? { rcode: 'NOERROR', answers: a(hit.map((r) => r.ip)) } : nodata;
  }
  if (rest.length === 2 && rest[0].startsWith('_') && rest[1].startsWith('_')) {
    const portName = rest[0].slice(1);
    const proto = rest[1].slice(1).toUpperCase();
    const port = ((svc.spec?.ports ?? []) as any[]).find((p) => p.name === portName && String(p.protocol ?? 'TCP') === proto);
    if (!port) return nx;
    if (qtype !== 'SRV' && qtype !== 'ANY') return nodata;
    const target = `${svcName}.${ns}.svc.${domain}`;
    if (!headless) return { rcode: 'NOERROR', answers: [{ type: 'SRV', name: qname, ttl: DNS_TTL, class: 'IN', data: { priority: 0, weight: 100, port: port.port, target } }] };
    const answers: Answer[] = [];
    for (const b of view.backends(ns, svcName)) {
      if (b.name !== portName || b.protocol !== proto) continue;
      for (const r of b.addresses) if (r.ready) answers.push({ type: 'SRV', name: qname, ttl: DNS_TTL, class: 'IN', data: { priority: 0, weight: 100, port: b.port, target: `${r.hostname ?? r.ip.replaceAll('.', '-')}.${target}` } });
    }
    return { rcode: 'NOERROR', answers };
  }
  return nx;
}

function reverse(view: ClusterView, domain: string, name: string, qtype: string): Resolution {
  const parts = name.slice(0, -'.in-addr.arpa'.length).split('.');
  if (parts.length !== 4) return 'forward';
  const ip = parts.reverse().join('.');
  const svc = view.services().find((s) => s.spec?.clusterIP === ip);
  if (!svc) return 'forward';
  if (qtype !== 'PTR' && qtype !== 'ANY') return { rcode: 'NOERROR', answers: [] };
  return { rcode: 'NOERROR', answers: [{ type: 'PTR', name, ttl: DNS_TTL, class: 'IN', data: `${svc.metadata.name}.${svc.metadata.namespace}.svc.${domain}` }] };
}
