// A plain-HTTP listener that serves only GET /metrics, for daemons whose main
// socket is an API with its own routes (dockerd's --metrics-addr, the
// Distribution registry's debug address). Unauthenticated, as theirs are:
// bind it to loopback unless the network in between is trusted.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { invalid } from '../errdefs.js';
import { sendMetrics, type MetricsSource } from './metrics-registry.js';

export interface MetricsListener {
  url: string;
  close(): Promise<void>;
}

/** HOST:PORT (IPv6 in brackets) -> its parts; a clear error naming the flag otherwise. */
export function parseHostPort(value: string, flag: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw invalid(`${flag}: want HOST:PORT (e.g. 127.0.0.1:9323), got "${value}"`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

export async function serveMetrics(addr: string, flag: string, sources: MetricsSource[]): Promise<MetricsListener> {
  const { host, port } = parseHostPort(addr, flag);
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return void res.end('404 page not found\n');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' });
      return void res.end('405 method not allowed\n');
    }
    void sendMetrics(res, sources, req.method === 'HEAD');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  return {
    url: `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
