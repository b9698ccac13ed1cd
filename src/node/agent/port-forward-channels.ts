// pods/portforward over a websocket with the channel subprotocols
// (v4.channel.k8s.io, v5.channel.k8s.io), as the kubelet serves it to the
// Python and Java clients: the ports come from the query (port= or ports=,
// repeated or comma-separated); port i has data channel 2i and error channel
// 2i+1, and each channel's first message is the port as two little-endian
// bytes. The agent dials every port at once; a refused dial is written on
// the port's error channel. The websocket closes when every port is done
// (the pod side closed its connection), as the kubelet's does. In v5 the
// message [255, ch] half-closes data channel ch toward the pod.
import type { WebSocket, RawData } from 'ws';
import { connect, type Socket } from 'node:net';
import { invalid } from '../../errdefs.js';

export const portForwardChannelProtocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

const CLOSE = 255;

/** The ports a channel port-forward asks for; throws (before the upgrade) when there are none or one is bad. */
export function channelPorts(q: URLSearchParams): number[] {
  const raw = [...q.getAll('port'), ...q.getAll('ports')];
  if (!raw.length) throw invalid('query parameter "port" is required');
  const ports: number[] = [];
  for (const text of raw) {
    if (!text) throw invalid('query parameter "port" cannot be empty');
    for (const p of text.split(',')) {
      const n = Number(p);
      if (!/^\d+$/.test(p) || n < 1 || n > 65535) throw invalid(`unable to parse "${text}" as a port`);
      ports.push(n);
    }
  }
  return ports;
}

const frame = (ch: number, data: Buffer): Buffer => Buffer.concat([Buffer.from([ch]), data]);

export function serveChannelPortForward(ws: WebSocket, ip: string, ports: number[], ns: string, pod: string): void {
  const sockets: Socket[] = [];
  let open = ports.length;
  const send = (data: Buffer): void => {
    if (ws.readyState === ws.OPEN) ws.send(data);
  };
  const portDone = (): void => {
    if (--open > 0) return;
    // ws queues the close frame behind every data frame already sent.
    if (ws.readyState === ws.OPEN) ws.close(1000);
  };
  ports.forEach((port, i) => {
    const prefix = Buffer.from([port & 0xff, port >> 8]);
    send(frame(2 * i, prefix));
    send(frame(2 * i + 1, prefix));
    const tcp = connect({ host: ip, port, allowHalfOpen: true });
    sockets.push(tcp);
    let connected = false;
    tcp.once('connect', () => (connected = true));
    tcp.on('data', (d: Buffer) => send(frame(2 * i, d)));
    // The pod closing its side ends the port, as the kubelet's copy from the pod ends its forward.
    tcp.once('end', () => tcp.end());
    tcp.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected) send(frame(2 * i + 1, Buffer.from(`error forwarding port ${port} to pod ${ns}/${pod}: dial tcp ${ip}:${port}: ${err.code === 'ECONNREFUSED' ? 'connect: connection refused' : err.message}`)));
    });
    tcp.once('close', portDone);
  });
  ws.on('message', (raw: RawData) => {
    const data = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as ArrayBuffer);
    if (!data.length) return;
    const ch = data[0];
    if (ch === CLOSE) {
      const target = data[1];
      if (target % 2 === 0) sockets[target / 2]?.end();
      return;
    }
    // Data for the pod; what a client writes on an error channel means nothing.
    if (ch % 2 === 0) sockets[ch / 2]?.write(data.subarray(1));
  });
  ws.once('close', () => {
    for (const s of sockets) s.destroy();
  });
}
