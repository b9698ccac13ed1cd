// The cluster DNS server: UDP and TCP on one address, messages through
// dns-packet. Cluster names are answered from a ClusterView; every other name
// is forwarded (over UDP) to the upstream resolvers in turn, and the upstream's
// answer is relayed as is.
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import * as dnsPacket from 'dns-packet';
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

const MAX_UDP = 512;

export async function startDnsServer(o: DnsServerOptions): Promise<DnsServer> {
  const domain = o.domain ?? 'cluster.local';
  const handle = async (msg: Buffer, tcp: boolean): Promise<Buffer | undefined> => {
    let q: dnsPacket.Packet;
    try {
      q = dnsPacket.decode(msg);
    } catch {
      return undefined; // not a DNS message: nothing sensible to answer
    }
    const question = q.questions?.[0];
    const reply = (rcode: string, answers: dnsPacket.Answer[]): Buffer => {
      let buf = dnsPacket.encode({ id: q.id, type: 'response', flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | dnsPacket.AUTHORITATIVE_ANSWER | rcodeFlag(rcode), questions: q.questions, answers });
      if (!tcp && buf.length > MAX_UDP) {
        // Too big for plain UDP: truncated, the client retries over TCP.
        buf = dnsPacket.encode({ id: q.id, type: 'response', flags: dnsPacket.TRUNCATED_RESPONSE | dnsPacket.RECURSION_AVAILABLE | dnsPacket.AUTHORITATIVE_ANSWER, questions: q.questions, answers: [] });
      }
      return buf;
    };
    if (!question) return reply('FORMERR', []);
    const res = resolveClusterName(o.view, domain, question.name, question.type);
    if (res !== 'forward') return reply(res.rcode, res.answers);
    const fwd = await forward(msg, o.upstreams, o.forwardTimeoutMs ?? 2000);
    return fwd ?? reply('SERVFAIL', []);
  };

  const udp: Socket = createSocket('udp4');
  udp.on('message', (msg, rinfo) => {
    void handle(msg, false).then((out) => out && udp.send(out, rinfo.port, rinfo.address));
  });
  udp.on('error', (err) => o.log?.(`dns udp: ${err.message}`));
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(o.port, o.host, () => {
      udp.off('error', reject);
      resolve();
    });
  });
  const port = udp.address().port;
  const tcp: Server = createServer((s) => serveTcp(s, handle));
  try {
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(port, o.host, () => resolve());
    });
  } catch (err) {
    udp.close();
    throw err;
  }
  return {
    host: o.host,
    port,
    async close() {
      await Promise.all([new Promise<void>((r) => udp.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))]);
    },
  };
}

function rcodeFlag(rcode: string): number {
  return ({ NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3 } as Record<string, number>)[rcode] ?? 0;
}

/** TCP DNS: each message is preceded by its 2-byte length. */
function serveTcp(s: TcpSocket, handle: (msg: Buffer, tcp: boolean) => Promise<Buffer | undefined>): void {
  let buf = Buffer.alloc(0);
  s.setTimeout(10_000, () => s.destroy());
  s.on('error', () => s.destroy());
  s.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
      buf = buf.subarray(2 + msg.length);
      void handle(Buffer.from(msg), true).then((out) => {
        if (!out || s.destroyed) return;
        const len = Buffer.alloc(2);
        len.writeUInt16BE(out.length);
        s.write(Buffer.concat([len, out]));
      });
    }
  });
}

/** Sends the query to each upstream in turn until one answers with the same id. */
async function forward(msg: Buffer, upstreams: string[], timeoutMs: number): Promise<Buffer | undefined> {
  const id = msg.readUInt16BE(0);
  for (const u of upstreams) {
    const [host, p] = u.split(':');
    const port = p ? Number(p) : 53;
    const answer = await new Promise<Buffer | undefined>((resolve) => {
      const sock = createSocket('udp4');
      const done = (b?: Buffer) => {
        clearTimeout(timer);
        sock.close();
        resolve(b);
      };
      const timer = setTimeout(() => done(), timeoutMs);
      sock.on('error', () => done());
      sock.on('message', (m) => {
        if (m.length >= 2 && m.readUInt16BE(0) === id) done(m);
      });
      sock.send(msg, port, host);
    });
    if (answer) return answer;
  }
  return undefined;
}
