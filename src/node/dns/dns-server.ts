// The cluster DNS server: UDP and TCP on one address (network/dns/dns-listener),
// messages through dns-packet. Cluster names are answered from a ClusterView
// with authority; every other name is forwarded over UDP to the upstream
// resolvers in turn (network/dns/dns-forwarder), and the upstream's answer is
// relayed as is.
import * as dnsPacket from 'dns-packet';
import { forwardQuery } from '../../network/dns/dns-forwarder.js';
import { listenDns, type DnsQueryContext } from '../../network/dns/dns-listener.js';
import { encodeReply, type Rcode } from '../../network/dns/dns-reply.js';
import { resolveClusterName, type ClusterView } from './cluster-resolver.js';

export interface DnsServerOptions {
  host: string;
  /** 53 in production; 0 picks a free port (tests). */
  port: number;
  view: ClusterView;
  domain?: string;
  /** Upstream resolvers as "ip" or "ip:port". */
  upstreams: string[];
  forwardTimeoutMs?: number;
  log?: (msg: string) => void;
}

export interface DnsServer {
  host: string;
  port: number;
  close(): Promise<void>;
}

export async function startDnsServer(o: DnsServerOptions): Promise<DnsServer> {
  const domain = o.domain ?? 'cluster.local';
  const handle = async (msg: Buffer, ctx: DnsQueryContext): Promise<Buffer | undefined> => {
    let q: dnsPacket.Packet;
    try {
      q = dnsPacket.decode(msg);
    } catch {
      return undefined; // not a DNS message: nothing sensible to answer
    }
    const reply = (rcode: Rcode, answers: dnsPacket.Answer[]): Buffer => encodeReply(q, { rcode, answers, authoritative: true, tcp: ctx.tcp });
    const question = q.questions?.[0];
    if (!question) return reply('FORMERR', []);
    const res = resolveClusterName(o.view, domain, question.name, question.type);
    if (res !== 'forward') return reply(res.rcode, res.answers);
    const fwd = await forwardQuery(msg, o.upstreams, { tcp: false, timeoutMs: o.forwardTimeoutMs ?? 2000 });
    return fwd ?? reply('SERVFAIL', []);
  };
  const listener = await listenDns({ host: o.host, port: o.port, handle, log: o.log });
  return { host: listener.host, port: listener.port, close: () => listener.close() };
}
