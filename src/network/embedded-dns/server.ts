// One network's embedded DNS server: UDP and TCP on the network's gateway
// address, port 53, where each container's 127.0.0.11:53 is redirected (see
// redirect.ts). A query is answered only for a container of the network (the
// engine's clientOf; strangers get REFUSED); names of the network are answered
// here (answer.ts), anything else is forwarded to that container's upstreams
// over the client's own transport (dns-forwarder.ts).
import * as dnsPacket from 'dns-packet';
import { conflict, unavailable } from '../../errdefs.js';
import { forwardQuery } from '../dns/dns-forwarder.js';
import { listenDns, type DnsListener, type DnsQueryContext } from '../dns/dns-listener.js';
import { encodeReply } from '../dns/dns-reply.js';
import { answerLocally } from './answer.js';
import type { EmbeddedDnsBackend, EmbeddedDnsClient } from './backend.js';
import { portOwner } from './port-owner.js';
import { Rotation } from './rotation.js';

export const EMBEDDED_DNS_PORT = 53;
/** Docker's extIOTimeout. */
const FORWARD_TIMEOUT_MS = 4000;
/** Docker's maxExtDNS. */
const MAX_UPSTREAMS = 3;

export interface EmbeddedDnsServerOptions<C extends EmbeddedDnsClient> {
  networkId: string;
  /** The network's gateway address; it must already be on the bridge. */
  gatewayIp: string;
  backend: EmbeddedDnsBackend<C>;
  /** 53 unless a test says otherwise. */
  port?: number;
  forwardTimeoutMs?: number;
  log?: (msg: string) => void;
}

export interface EmbeddedDnsServer {
  networkId: string;
  gatewayIp: string;
  port: number;
  /** Frees both sockets; safe to call more than once. */
  close(): Promise<void>;
}

export async function startEmbeddedDnsServer<C extends EmbeddedDnsClient>(o: EmbeddedDnsServerOptions<C>): Promise<EmbeddedDnsServer> {
  const rotation = new Rotation();
  const port = o.port ?? EMBEDDED_DNS_PORT;
  const handle = async (msg: Buffer, ctx: DnsQueryContext): Promise<Buffer | undefined> => {
    let q: dnsPacket.Packet;
    try {
      q = dnsPacket.decode(msg);
    } catch {
      return undefined; // not a DNS message: nothing sensible to answer
    }
    if (q.type !== 'query') return undefined;
    const question = q.questions?.[0];
    if (!question) return encodeReply(q, { rcode: 'FORMERR', tcp: ctx.tcp });
    try {
      const client = await o.backend.clientOf(o.networkId, ctx.source);
      if (!client) return encodeReply(q, { rcode: 'REFUSED', tcp: ctx.tcp });
      const local = await answerLocally(o.networkId, question, client, o.backend, rotation);
      if (local !== 'forward') return encodeReply(q, { ...local, tcp: ctx.tcp });
      const upstream = client.upstreams.length
        ? await forwardQuery(msg, client.upstreams, { tcp: ctx.tcp, timeoutMs: o.forwardTimeoutMs ?? FORWARD_TIMEOUT_MS, maxUpstreams: MAX_UPSTREAMS })
        : undefined;
      return upstream ?? encodeReply(q, { rcode: 'SERVFAIL', tcp: ctx.tcp });
    } catch (err) {
      o.log?.(`embedded dns ${o.networkId}: ${question.name} ${question.type}: ${err instanceof Error ? err.message : String(err)}`);
      return encodeReply(q, { rcode: 'SERVFAIL', tcp: ctx.tcp });
    }
  };
  let listener: DnsListener;
  try {
    listener = await listenDns({ host: o.gatewayIp, port, handle, log: o.log });
  } catch (err) {
    throw await bindError(err, o.networkId, o.gatewayIp, port);
  }
  return { networkId: o.networkId, gatewayIp: o.gatewayIp, port: listener.port, close: () => listener.close() };
}

async function bindError(err: unknown, networkId: string, host: string, port: number): Promise<Error> {
  const code = (err as NodeJS.ErrnoException).code;
  const where = `embedded DNS server for network ${networkId}: ${host}:${port}`;
  if (code === 'EADDRINUSE') {
    const owner = (await portOwner('udp', host, port)) ?? (await portOwner('tcp', host, port));
    return conflict(`${where} is already in use${owner ? ` by ${owner}` : ''}`);
  }
  if (code === 'EADDRNOTAVAIL') return unavailable(`${where}: the address is not on any interface (the network's bridge must hold its gateway address first)`);
  return unavailable(`${where}: ${err instanceof Error ? err.message : String(err)}`);
}
