// One DNS endpoint: UDP and TCP on the same address and port, each message
// handed to one async handler. Both the cluster DNS server and the embedded
// DNS server of user-defined networks listen through it. A failed bind leaves
// no socket open (the error keeps its errno code, e.g. EADDRINUSE, so callers
// can say who holds the port), and close() destroys open TCP connections so
// the port is free again as soon as it resolves.
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';

export interface DnsQueryContext {
  tcp: boolean;
  /** The client's address as the socket saw it. */
  source: string;
}

/** Returns the encoded reply, or undefined to answer nothing. */
export type DnsHandler = (msg: Buffer, ctx: DnsQueryContext) => Promise<Buffer | undefined>;

export interface DnsListenOptions {
  host: string;
  /** 0 picks a free port (the TCP side then takes the same one). */
  port: number;
  handle: DnsHandler;
  log?: (msg: string) => void;
}

export interface DnsListener {
  host: string;
  port: number;
  close(): Promise<void>;
}

export async function listenDns(o: DnsListenOptions): Promise<DnsListener> {
  const udp: Socket = createSocket('udp4');
  udp.on('message', (msg, rinfo) => {
    o.handle(msg, { tcp: false, source: rinfo.address }).then(
      (out) => {
        if (out) udp.send(out, rinfo.port, rinfo.address, (err) => err && o.log?.(`dns udp send: ${err.message}`));
      },
      (err: unknown) => o.log?.(`dns: ${err instanceof Error ? err.message : String(err)}`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(o.port, o.host, () => {
      udp.off('error', reject);
      resolve();
    });
  }).catch((err: unknown) => {
    udp.close();
    throw err;
  });
  udp.on('error', (err) => o.log?.(`dns udp: ${err.message}`));
  const port = udp.address().port;
  const conns = new Set<TcpSocket>();
  const tcp: Server = createServer((s) => {
    conns.add(s);
    s.once('close', () => conns.delete(s));
    serveTcp(s, o);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(port, o.host, () => {
        tcp.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    udp.close();
    throw err;
  }
  tcp.on('error', (err) => o.log?.(`dns tcp: ${err.message}`));
  let closed: Promise<void> | undefined;
  return {
    host: o.host,
    port,
    close() {
      closed ??= Promise.all([
        new Promise<void>((r) => udp.close(() => r())),
        new Promise<void>((r) => {
          tcp.close(() => r());
          for (const s of conns) s.destroy();
        }),
      ]).then(() => undefined);
      return closed;
    },
  };
}

/** TCP DNS: each message is preceded by its 2-byte length; several may share a connection. */
function serveTcp(s: TcpSocket, o: DnsListenOptions): void {
  let buf = Buffer.alloc(0);
  const source = s.remoteAddress ?? '';
  s.setTimeout(10_000, () => s.destroy());
  s.on('error', () => s.destroy());
  s.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      const msg = Buffer.from(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      buf = buf.subarray(2 + msg.length);
      o.handle(msg, { tcp: true, source }).then(
        (out) => {
          if (out && !s.destroyed) s.write(frameTcp(out));
        },
        (err: unknown) => o.log?.(`dns: ${err instanceof Error ? err.message : String(err)}`),
      );
    }
  });
}

export function frameTcp(msg: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length);
  return Buffer.concat([len, msg]);
}
