// KubeClient's connections to a real API server, counted by a loopback TCP
// relay in front of it: many requests at once share MAX_REQUEST_SOCKETS
// kept-alive connections (they wait in the client, not each on its own TLS
// handshake), and watches have connections of their own, so more open watches
// than request connections never hold a request back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setMaxListeners } from 'node:events';
import { startTestServer, suffix, type TestServer } from '../cluster/test-server.js';
import { KubeClient, MAX_REQUEST_SOCKETS } from '../../src/kube/client/kube-client.js';
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay.js';

let srv: TestServer;
let relay: TcpRelay | undefined;
let relayUrl = '';

before(async () => {
  srv = await startTestServer();
  relay = await startTcpRelay(new URL(srv.url));
  relayUrl = `https://127.0.0.1:${relay.port}`;
});

after(async () => {
  await relay?.close();
  await srv?.stop();
});

test('200 writes at once share MAX_REQUEST_SOCKETS connections, and 20 open watches neither wait for them nor take them', async () => {
  const base = await KubeClient.readKubeconfig(srv.kubeconfig);
  const c = new KubeClient({ ...base, server: relayUrl });
  const ns = `conns-${suffix()}`;
  const abort = new AbortController();
  // Every watch listens on the one signal that ends them all.
  setMaxListeners(64, abort.signal);
  try {
    await c.create({ group: '', version: 'v1', resource: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const cmRef = { group: '', version: 'v1', resource: 'configmaps', namespace: ns };
    const before = relay!.accepted;
    // More watches than request connections: each must be open (and see every write) while the writes run.
    const watchers = 20;
    const seen = Array.from({ length: watchers }, () => new Set<string>());
    const opened: Promise<void>[] = [];
    const watching = Array.from({ length: watchers }, (_, i) => {
      let ready!: () => void;
      opened.push(new Promise<void>((r) => (ready = r)));
      return (async () => {
        const list = await c.list(cmRef);
        ready();
        for await (const e of c.watch<{ metadata: { name: string } }>(cmRef, { resourceVersion: list.metadata.resourceVersion, signal: abort.signal })) {
          if (e.type === 'ADDED') seen[i].add(e.object.metadata.name);
          if (seen[i].size === 200) return;
        }
      })();
    });
    await Promise.all(opened);
    const writes = 200;
    const created = await Promise.all(
      Array.from({ length: writes }, (_, i) => c.create<{ metadata: { name: string } }>(cmRef, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` }, data: { i: String(i) } })),
    );
    assert.equal(new Set(created.map((o) => o.metadata.name)).size, writes);
    await Promise.all(watching);
    for (const s of seen) assert.equal(s.size, writes);
    // The list before each watch reuses a request connection; the watches hold one each.
    const opened2 = relay!.accepted - before;
    assert.ok(opened2 <= MAX_REQUEST_SOCKETS + watchers, `${opened2} connections for ${writes} writes and ${watchers} watches (at most ${MAX_REQUEST_SOCKETS} + ${watchers})`);
    assert.ok(opened2 >= watchers, `${opened2} connections: each watch has its own`);
  } finally {
    abort.abort();
    c.close();
  }
});
