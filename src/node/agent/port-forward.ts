// pods/portforward on the node agent: Kubernetes' portforward.k8s.io protocol
// over SPDY/3.1, reached either by a plain HTTP upgrade to SPDY/3.1 or by a
// websocket whose subprotocol is "SPDY/3.1+portforward.k8s.io" and whose
// binary messages carry the SPDY byte stream (kubectl 1.31+ tries that first).
// A websocket offering only the channel subprotocols (the Python client's
// v4.channel.k8s.io) goes to port-forward-channels.ts.
// For each local connection kubectl opens two streams sharing a requestid:
// streamtype=error and streamtype=data, both with port=N. We connect TCP to
// the pod's own IP (from its sandbox, on the node's bridge) and pipe the data
// stream both ways; a failure is written on the error stream, which kubectl
// reads to its end and prints.
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Engine } from '../../engine/engine.js';
import { invalid, notFound } from '../../errdefs.js';
import { SpdySession, type SpdyStream } from '../spdy/session.js';
import { liveSandboxOf } from './pod-runtime.js';
import { channelPorts, portForwardChannelProtocols, serveChannelPortForward } from './port-forward-channels.js';

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
export const PORT_FORWARD_TUNNEL_PROTOCOL = `SPDY/3.1+${PORT_FORWARD_PROTOCOL}`;

export interface PortForwarder {
  /** Takes over an upgrade request for /portForward/{ns}/{pod}; throws before touching the socket if it cannot serve it. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, ns: string, pod: string): void;
  close(): void;
}

/** The pod's IP as its sandbox got it on this node's bridge. */
function podIPOf(engine: Engine, ns: string, pod: string): string {
  const sandbox = liveSandboxOf(engine, ns, pod);
  if (!sandbox) throw notFound(`pod ${ns}/${pod} has no running sandbox on this node`);
  // A hostNetwork pod listens on the node's own addresses.
  const ip = sandbox.network === 'host' ? '127.0.0.1' : sandbox.ip;
  if (!ip) throw invalid(`pod ${ns}/${pod} has no IP address`);
  return ip;
}

interface Pair {
  error?: SpdyStream;
  data?: SpdyStream;
}

function serveSession(conn: Duplex, ip: string, ns: string, pod: string): SpdySession {
  const pairs = new Map<string, Pair>();
  const session = new SpdySession(conn, (stream) => {
    const type = stream.headers['streamtype'];
    const id = stream.headers['requestid'] ?? '';
    if (type !== 'error' && type !== 'data') {
      stream.reset();
      return;
    }
    void stream.reply().catch(() => stream.destroy());
    stream.on('error', () => undefined);
    const pair = pairs.get(id) ?? {};
    pair[type] = stream;
    pairs.set(id, pair);
    // A half pair whose stream goes away (reset by kubectl) must not linger for the session's life.
    stream.once('close', () => {
      if (pairs.get(id) === pair) pairs.delete(id);
    });
    // The error stream carries nothing from kubectl (it half-closes it at once).
    if (type === 'error') stream.resume();
    if (pair.error && pair.data) {
      pairs.delete(id);
      forward(pair.error, pair.data, stream.headers['port'] ?? '');
    }
  });

  function forward(errStream: SpdyStream, data: SpdyStream, portText: string): void {
    const port = Number(portText);
    const fail = (message: string): void => {
      errStream.end(message);
      data.end();
    };
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      fail(`invalid port ${JSON.stringify(portText)}`);
      return;
    }
    const tcp: Socket = connect({ host: ip, port, allowHalfOpen: true });
    let connected = false;
    tcp.once('connect', () => {
      connected = true;
      tcp.pipe(data);
      data.pipe(tcp);
    });
    tcp.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected) fail(`error forwarding port ${port} to pod ${ns}/${pod}: dial tcp ${ip}:${port}: ${err.code === 'ECONNREFUSED' ? 'connect: connection refused' : err.message}`);
      else data.destroy();
    });
    // Both directions done (or the stream reset by kubectl): close the pod side and the error stream.
    tcp.once('close', () => {
      if (!errStream.writableEnded) errStream.end();
    });
    data.once('close', () => tcp.destroy());
    errStream.once('close', () => undefined);
  }
  return session;
}

export function createPortForwarder(engine: Engine): PortForwarder {
  const sessions = new Set<SpdySession>();
  // "SPDY/3.1+portforward.k8s.io" has a '/', which is not an HTTP token
  // character, so ws refuses it as a subprotocol. We check the offer ourselves,
  // hide it from ws, and name it in the 101 response (kubectl insists on it).
  const wss = new WebSocketServer({ noServer: true });
  wss.on('headers', (headers) => headers.push(`Sec-WebSocket-Protocol: ${PORT_FORWARD_TUNNEL_PROTOCOL}`));
  const channelWss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => portForwardChannelProtocols.find((p) => offered.has(p)) ?? false });
  const track = (s: SpdySession): void => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  };
  return {
    handleUpgrade(req, socket, head, ns, pod) {
      const ip = podIPOf(engine, ns, pod);
      const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
      if (upgrade === 'websocket') {
        const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
        if (!offered.includes(PORT_FORWARD_TUNNEL_PROTOCOL)) {
          if (!offered.some((p) => portForwardChannelProtocols.includes(p))) {
            throw invalid(`port-forward over websocket needs subprotocol ${PORT_FORWARD_TUNNEL_PROTOCOL} or one of ${portForwardChannelProtocols.join(', ')}`);
          }
          const ports = channelPorts(new URL(req.url ?? '/', 'http://x').searchParams);
          channelWss.handleUpgrade(req, socket, head, (ws) => serveChannelPortForward(ws, ip, ports, ns, pod));
          return;
        }
        delete req.headers['sec-websocket-protocol'];
        wss.handleUpgrade(req, socket, head, (ws) => {
          // The websocket carries the SPDY session as a plain byte stream; message boundaries mean nothing.
          const tunnel = createWebSocketStream(ws);
          tunnel.on('error', () => tunnel.destroy());
          track(serveSession(tunnel, ip, ns, pod));
        });
        return;
      }
      if (upgrade !== 'spdy/3.1') throw invalid(`port-forward needs an upgrade to SPDY/3.1 or websocket, not ${JSON.stringify(req.headers.upgrade ?? '')}`);
      const offered = String(req.headers['x-stream-protocol-version'] ?? '').split(',').map((p) => p.trim());
      if (!offered.includes(PORT_FORWARD_PROTOCOL)) throw invalid(`port-forward needs X-Stream-Protocol-Version ${PORT_FORWARD_PROTOCOL}`);
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL}\r\n\r\n`);
      if (head.length) socket.unshift(head);
      track(serveSession(socket, ip, ns, pod));
    },
    close() {
      for (const s of sessions) s.close();
      sessions.clear();
      for (const ws of wss.clients) ws.terminate();
      for (const ws of channelWss.clients) ws.terminate();
    },
  };
}
