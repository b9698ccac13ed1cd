// Forwarding a query to upstream resolvers, the way Docker's embedded DNS
// does it (libnetwork resolver.go): the upstreams in order, at most three; an
// upstream that does not answer in time, answers SERVFAIL or REFUSED, or says
// NXDOMAIN without authority is skipped for the next one; the first good
// answer is relayed byte for byte (the client's id is kept). When every
// upstream failed, the last answer received (if any) is relayed.
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { frameTcp } from './dns-listener.js';

export interface ForwardOptions {
  /** The transport to the upstreams: Docker uses the client's own. */
  tcp: boolean;
  /** Per upstream. Docker waits 4s. */
  timeoutMs: number;
  /** Docker tries three at most. */
  maxUpstreams?: number;
}

const RCODE_SERVFAIL = 2;
const RCODE_NXDOMAIN = 3;
const RCODE_REFUSED = 5;
const FLAG_AA = 0x0400;

/** "ip" or "ip:port" (53 by default). */
export function parseUpstream(u: string): { host: string; port: number } {
  const i = u.lastIndexOf(':');
  if (i > 0 && !u.slice(0, i).includes(':')) return { host: u.slice(0, i), port: Number(u.slice(i + 1)) };
  return { host: u, port: 53 };
}

export async function forwardQuery(msg: Buffer, upstreams: readonly string[], o: ForwardOptions): Promise<Buffer | undefined> {
  let fallback: Buffer | undefined;
  for (const u of upstreams.slice(0, o.maxUpstreams ?? upstreams.length)) {
    const { host, port } = parseUpstream(u);
    const answer = o.tcp ? await askTcp(msg, host, port, o.timeoutMs) : await askUdp(msg, host, port, o.timeoutMs);
    if (!answer || answer.length < 4) continue;
    const flags = answer.readUInt16BE(2);
    const rcode = flags & 0xf;
    if (rcode === RCODE_SERVFAIL || rcode === RCODE_REFUSED) {
      fallback = answer;
      continue;
    }
    if (rcode === RCODE_NXDOMAIN && !(flags & FLAG_AA)) {
      fallback = answer;
      continue;
    }
    return answer;
  }
  return fallback;
}

function askUdp(msg: Buffer, host: string, port: number, timeoutMs: number): Promise<Buffer | undefined> {
  const id = msg.readUInt16BE(0);
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    let finished = false;
    const done = (b?: Buffer): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      sock.close();
      resolve(b);
    };
    const timer = setTimeout(() => done(), timeoutMs);
    sock.on('error', () => done());
    // Only the upstream's own reply to this id counts (a connected socket drops strangers).
    sock.on('message', (m) => {
      if (m.length >= 2 && m.readUInt16BE(0) === id) done(m);
    });
    sock.connect(port, host, () => sock.send(msg, (err) => err && done()));
  });
}

function askTcp(msg: Buffer, host: string, port: number, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    let buf = Buffer.alloc(0);
    let finished = false;
    const done = (b?: Buffer): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      s.destroy();
      resolve(b);
    };
    const timer = setTimeout(() => done(), timeoutMs);
    s.on('error', () => done());
    s.on('close', () => done());
    s.on('connect', () => s.write(frameTcp(msg)));
    s.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(Buffer.from(buf.subarray(2, 2 + buf.readUInt16BE(0))));
    });
  });
}
