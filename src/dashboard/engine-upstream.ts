// The dashboard's door to the engine: requests under /api/engine/* go to the
// Docker Engine API on the daemon's unix socket unchanged, streamed both ways
// (events, logs and stats are long responses). An exec terminal is the one
// thing a browser cannot do over plain HTTP (the Docker API hijacks the
// connection), so execTerminal bridges a WebSocket to a hijacked exec stream.
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { forwardHeaders, relayResponse, relayRequest, eachLine } from './relay.js';

/** Streams one request to the engine socket and its answer back. */
export function proxyToEngine(socketPath: string, path: string, req: IncomingMessage, res: ServerResponse): void {
  const up = request({ socketPath, path, method: req.method, headers: { ...forwardHeaders(req.headers), host: 'docker' } }, (r) => relayResponse(r, res));
  relayRequest(up, req, res, (message) => ({ message: `the engine did not answer: ${message}` }));
}

/** One engine API call with a JSON answer. */
export function engineJson(socketPath: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const r = request({ socketPath, path, method, headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: any = undefined;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = { message: text };
        }
        resolve({ status: res.statusCode ?? 502, json });
      });
    });
    r.on('error', reject);
    r.end(data);
  });
}

/** Starts an exec with a TTY in a container and bridges it to a browser WebSocket: binary frames are the terminal's bytes; a text frame {"resize":[cols,rows]} resizes. */
export async function execTerminal(socketPath: string, ws: WebSocket, container: string, cmd: string[]): Promise<void> {
  const created = await engineJson(socketPath, 'POST', `/containers/${encodeURIComponent(container)}/exec`, { AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: true, Cmd: cmd });
  if (created.status !== 201) {
    ws.close(4000 + Math.min(created.status, 999), String(created.json?.message ?? 'exec failed').slice(0, 120));
    return;
  }
  const id = String(created.json.Id);
  const stream = await new Promise<Duplex>((resolve, reject) => {
    const body = Buffer.from(JSON.stringify({ Detach: false, Tty: true }));
    const r = request({ socketPath, path: `/exec/${id}/start`, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length, connection: 'Upgrade', upgrade: 'tcp' } });
    r.on('upgrade', (_res, socket, head) => {
      if (head.length) socket.unshift(head);
      resolve(socket);
    });
    r.on('response', (res) => reject(new Error(`exec start answered ${res.statusCode}`)));
    r.on('error', reject);
    r.end(body);
  });
  stream.on('data', (chunk: Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(chunk, { binary: true });
  });
  stream.on('close', () => ws.close(1000, 'exited'));
  stream.on('error', () => ws.close(1011, 'exec stream failed'));
  ws.on('message', (data, isBinary) => {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (isBinary) {
      stream.write(buf);
      return;
    }
    try {
      const msg = JSON.parse(buf.toString('utf8')) as { resize?: [number, number]; data?: string };
      if (msg.resize) void engineJson(socketPath, 'POST', `/exec/${id}/resize?w=${msg.resize[0] | 0}&h=${msg.resize[1] | 0}`).catch(() => undefined);
      if (typeof msg.data === 'string') stream.write(msg.data);
    } catch {
      stream.write(buf);
    }
  });
  ws.on('close', () => stream.destroy());
}

/**
 * The stats streams of several containers as one response, each line {"id", "stats"}: a
 * browser holds at most six HTTP/1.1 connections to one host, so a list of many running
 * containers cannot keep a stats stream open per row.
 */
export function statsOfMany(socketPath: string, ids: string[], res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  const ups = ids.slice(0, 500).map((id) => {
    const up = request({ socketPath, path: `/containers/${encodeURIComponent(id)}/stats?stream=1`, method: 'GET' }, (r) => {
      if (r.statusCode !== 200) return void r.resume();
      eachLine(r, (l) => res.write(`{"id":${JSON.stringify(id)},"stats":${l}}\n`));
    });
    up.on('error', () => undefined);
    up.end();
    return up;
  });
  res.on('close', () => ups.forEach((u) => u.destroy()));
}
