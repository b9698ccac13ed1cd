// Host ports for published container ports. Like Docker, a published port is
// reserved by holding a bound socket on it for as long as the container is
// attached: the host and other daemons then see it as taken, and a port some
// process already listens on is refused up front instead of being silently
// shadowed by a DNAT rule.
import { createServer, type Server, type Socket } from 'node:net';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { conflict } from '../errdefs.js';

export type Protocol = 'tcp' | 'udp';

/** A held host port; release() frees it. */
export interface PortReservation {
  proto: Protocol;
  hostIp: string;
  port: number;
  release(): Promise<void>;
}

function bindAddress(hostIp: string): string {
  return hostIp === '' ? '0.0.0.0' : hostIp;
}

async function holdTcp(hostIp: string, port: number): Promise<PortReservation> {
  const server: Server = createServer((s: Socket) => s.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // exclusive: a port held by a sibling cluster worker still counts as taken.
    server.listen({ host: bindAddress(hostIp), port, exclusive: true, backlog: 1 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : port;
  // A held port must not keep the daemon's event loop alive on its own.
  server.unref();
  return {
    proto: 'tcp',
    hostIp,
    port: bound,
    release: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function holdUdp(hostIp: string, port: number): Promise<PortReservation> {
  const sock: UdpSocket = createSocket({ type: 'udp4', reuseAddr: false });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ address: bindAddress(hostIp), port, exclusive: true }, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  sock.unref();
  return {
    proto: 'udp',
    hostIp,
    port: sock.address().port,
    release: () => new Promise<void>((r) => sock.close(() => r())),
  };
}

/**
 * Reserves hostIp:port (port 0 = let the kernel pick from the ephemeral range).
 * A port that is taken becomes a conflict worded as Docker words it.
 */
export async function reserveHostPort(proto: Protocol, hostIp: string, port: number): Promise<PortReservation> {
  try {
    return proto === 'tcp' ? await holdTcp(hostIp, port) : await holdUdp(hostIp, port);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      throw conflict(`Bind for ${bindAddress(hostIp)}:${port}/${proto} failed: port is already allocated`, {
        hostIp,
        hostPort: port,
        protocol: proto,
      });
    }
    throw err;
  }
}

/** A free ephemeral port for -P (the kernel's choice from ip_local_port_range). */
export async function allocateHostPort(proto: Protocol, hostIp: string): Promise<number> {
  const r = await reserveHostPort(proto, hostIp, 0);
  await r.release();
  return r.port;
}
