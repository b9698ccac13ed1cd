// KubeClient against servers that hang rather than refuse: a loopback listener
// that accepts TCP and never answers (no TLS handshake), and one that finishes
// the handshake with the real server's certificate and then says nothing.
// Both must be left for the next --server as a dead one is: reads go to the
// real server, a write cut off fails 'unavailable' and the next one goes to the
// real server, and a watch that falls silent ends so that its caller re-watches.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { createServer as createHttpsServer } from 'node:https';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, suffix, type TestServer } from '../cluster/test-server.js';
import { KubeClient } from '../../src/kube/client/kube-client.js';
import { isKind } from '../../src/errdefs.js';

let srv: TestServer;
const listeners: Server[] = [];
const sockets = new Set<Socket>();

before(async () => {
  srv = await startTestServer();
});

after(async () => {
  for (const s of sockets) s.destroy();
  for (const l of listeners) await new Promise((r) => l.close(r));
  await srv?.stop();
});

async function listen(server: Server): Promise<string> {
  listeners.push(server);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return `https://127.0.0.1:${port}`;
}

/** Accepts connections and never sends a byte. */
const silentTcp = () => listen(createTcpServer(() => undefined));

/** Finishes TLS with the API server's own certificate (so the client trusts it), then reads and answers nothing. */
async function silentTls(): Promise<string> {
  const pki = join(srv.dataDir, 'pki');
  const [key, cert] = await Promise.all([readFile(join(pki, 'apiserver.key'), 'utf8'), readFile(join(pki, 'apiserver.crt'), 'utf8')]);
  const tls = createTlsServer({ key, cert }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.resume();
  });
  return listen(tls as unknown as Server);
}

const nsRef = { group: '', version: 'v1', resource: 'namespaces' };
const cmRef = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' };

async function clientFor(servers: string[], o: { requestTimeoutMs?: number; watchIdleMs?: number } = {}): Promise<KubeClient> {
  const base = await KubeClient.readKubeconfig(srv.kubeconfig);
  return new KubeClient({ ...base, server: servers[0]!, servers, ...o });
}

test('a server that accepts TCP and never answers is left for the next one: reads and writes go to the live server', async () => {
  const hung = await silentTcp();
  const c = await clientFor([hung, srv.url]);
  try {
    const ns = await c.get<{ metadata: { name: string } }>(nsRef, 'default');
    assert.equal(ns.metadata.name, 'default');
    assert.equal(c.server, srv.url);
    // A write that never got through the hung server's handshake was never sent: it goes on to the live one.
    const c2 = await clientFor([hung, srv.url]);
    try {
      const name = `cm-${suffix()}`;
      await c2.create(cmRef, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: '1' } });
      assert.equal(c2.server, srv.url);
      assert.equal((await srv.kubectl(['get', 'configmap', name, '-o', 'jsonpath={.data.a}'])).stdout, '1');
    } finally {
      c2.close();
    }
  } finally {
    c.close();
  }
});

test('a server that finishes TLS and never answers: a read is repeated on the next server, a write fails unavailable and the next write goes to the live server', async () => {
  const hung = await silentTls();
  const reader = await clientFor([hung, srv.url], { requestTimeoutMs: 5000 });
  try {
    const list = await reader.list(nsRef);
    assert.ok(list.items.some((n) => n.metadata.name === 'kube-system'));
    assert.equal(reader.server, srv.url);
  } finally {
    reader.close();
  }
  const writer = await clientFor([hung, srv.url], { requestTimeoutMs: 5000 });
  try {
    const name = `cm-${suffix()}`;
    const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: '1' } };
    await assert.rejects(writer.create(cmRef, body), (err) => isKind(err, 'unavailable') && /no response within 5000 ms|complete response/.test((err as Error).message));
    assert.equal(writer.server, srv.url);
    await writer.create(cmRef, body);
    assert.equal((await srv.kubectl(['get', 'configmap', name, '-o', 'jsonpath={.data.a}'])).stdout, '1');
  } finally {
    writer.close();
  }
});

test('a watch on a server that falls silent ends unavailable, and the client moves to the next server', async () => {
  // The live server sends a BOOKMARK every 5 s: 3 s of silence on it would be a false alarm, so the silent one is first.
  const hungAfterHeaders = await listen(
    createTlsServer({ key: await readFile(join(srv.dataDir, 'pki', 'apiserver.key'), 'utf8'), cert: await readFile(join(srv.dataDir, 'pki', 'apiserver.crt'), 'utf8') }, (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.once('data', () => s.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n'));
    }) as unknown as Server,
  );
  const c = await clientFor([hungAfterHeaders, srv.url], { watchIdleMs: 3000 });
  try {
    const events: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const e of c.watch(nsRef, { resourceVersion: '0' })) events.push(e.type);
      })(),
      (err) => isKind(err, 'unavailable') && /nothing from the server in 3000 ms/.test((err as Error).message),
    );
    assert.deepEqual(events, []);
    assert.equal(c.server, srv.url);
    // The re-watch, on the live server, sees the namespaces.
    for await (const e of c.watch(nsRef, { resourceVersion: '0' })) {
      if (e.type === 'ADDED') break;
    }
  } finally {
    c.close();
  }
});

test('a kept-alive socket the server closes as the next request arrives: the request goes again on a new connection, a write too', async () => {
  // Answers each connection's first request and drops the connection on its second
  // without reading it: what a server's keep-alive timeout does when it fires just
  // as the client reuses the idle socket.
  const pki = join(srv.dataDir, 'pki');
  const [key, cert] = await Promise.all([readFile(join(pki, 'apiserver.key'), 'utf8'), readFile(join(pki, 'apiserver.crt'), 'utf8')]);
  const created: string[] = [];
  const requestsOn = new WeakMap<object, number>();
  const closing = createHttpsServer({ key, cert, keepAliveTimeout: 60_000 }, (req, res) => {
    const served = requestsOn.get(req.socket) ?? 0;
    requestsOn.set(req.socket, served + 1);
    if (served > 0) return req.socket.destroy();
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.method === 'POST') created.push((JSON.parse(body) as { metadata: { name: string } }).metadata.name);
      res.setHeader('content-type', 'application/json');
      res.end(body || JSON.stringify({ kind: 'Namespace', metadata: { name: 'default' } }));
    });
  });
  const url = await listen(closing as unknown as Server);
  const c = await clientFor([url]);
  try {
    assert.equal((await c.get<{ metadata: { name: string } }>(nsRef, 'default')).metadata.name, 'default');
    // The second request finds the kept-alive socket, which the server drops.
    const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm-stale' }, data: { a: '1' } };
    const made = await c.create<{ metadata: { name: string } }>(cmRef, body);
    assert.equal(made.metadata.name, 'cm-stale');
    assert.deepEqual(created, ['cm-stale'], 'the write reached the server once, on the new connection');
  } finally {
    c.close();
  }
});
