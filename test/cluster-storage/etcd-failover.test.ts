// The etcd store's member failover (the gRPC client, etcd-fault-policy.ts):
// a first endpoint where nothing listens (a dead member) costs nothing but a
// refused connection, for unary calls and watches; and the store opened on
// three members keeps reading, writing and watching after the member it was
// using is killed; creates whose connection is cut while they are in flight
// fail as unavailable (never AlreadyExists for their own write) and the next
// calls dial again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { openStore } from '../../src/apiserver/storage/open-store.js';
import type { WatchEvent } from '../../src/apiserver/storage/store.js';
import { startEtcd } from './etcd-harness.js';
import { startTcpRelay } from '../helpers/tcp-relay.js';
import { isKind } from '../../src/errdefs.js';

/** A loopback port with nothing listening on it. */
async function deadPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

type KeyEvent = Exclude<WatchEvent, { type: 'BOOKMARK' }>;

function watchUntil(store: Awaited<ReturnType<typeof openStore>>, prefix: string, key: string): Promise<KeyEvent> {
  return new Promise((resolve, reject) => {
    const cancel = store.watch(prefix, 0, (e) => {
      if (e.type !== 'BOOKMARK' && e.kv.key === key) {
        cancel();
        resolve(e);
      }
    }, reject);
  });
}

test('a dead first endpoint: calls and watches go to the next member', async () => {
  const etcd = await startEtcd(1);
  const store = await openStore({ kind: 'etcd', endpoints: [`http://127.0.0.1:${await deadPort()}`, ...etcd.endpoints], prefix: '/failover-a' });
  try {
    const seen = watchUntil(store, '/k/', '/k/one');
    await store.create('/k/one', 'v1');
    assert.equal((await store.get('/k/one'))?.value, 'v1');
    assert.equal((await seen).type, 'PUT');
  } finally {
    await store.close();
    await etcd.stop();
  }
});

test('three members: after the member in use is killed, reads, writes and a new watch work, and nothing written is lost', async () => {
  const etcd = await startEtcd(3);
  const store = await openStore({ kind: 'etcd', endpoints: etcd.endpoints, prefix: '/failover-b' });
  try {
    for (let i = 0; i < 20; i++) await store.create(`/k/${i}`, String(i));
    await etcd.kill(0);
    // The first call after the kill may fail (its pooled connection broke mid-request); later ones go to a live member.
    let listed: { key: string; value: string }[] = [];
    for (let attempt = 0; attempt < 20 && listed.length === 0; attempt++) {
      listed = await store.list('/k/').then((r) => r.items).catch(() => []);
      if (!listed.length) await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(listed.length, 20);
    const seen = watchUntil(store, '/k/', '/k/after');
    await store.create('/k/after', 'x');
    assert.equal((await seen).kv.value, 'x');
  } finally {
    await store.close();
    await etcd.stop();
  }
});

test('connections cut under creates in flight: each create is written or fails unavailable, none answers AlreadyExists, and the store carries on', async (t) => {
  const etcd = await startEtcd(1);
  const relay = await startTcpRelay(new URL(etcd.endpoints[0]));
  const store = await openStore({ kind: 'etcd', endpoints: [`http://127.0.0.1:${relay.port}`], prefix: '/failover-c' });
  try {
    // 16 writers, and every connection cut every 40 ms while they write.
    const results: PromiseSettledResult<unknown>[] = [];
    let next = 0;
    let cuts = 0;
    const cutter = setInterval(() => {
      relay.cut();
      cuts++;
    }, 40);
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < 600) {
          const i = next++;
          results[i] = await store.create(`/k/${i}`, String(i)).then((v) => ({ status: 'fulfilled' as const, value: v }), (reason: unknown) => ({ status: 'rejected' as const, reason }));
        }
      }),
    );
    clearInterval(cutter);
    assert.ok(cuts >= 1, 'the connections were cut while the creates ran');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    for (const f of failed) assert.ok(isKind(f.reason, 'unavailable'), `a cut create failed with ${String(f.reason)}`);
    t.diagnostic(`${failed.length} of 600 creates failed unavailable across ${cuts} cuts`);
    // Whatever failed may or may not have been applied; whatever succeeded is stored.
    // A call sent on a connection the last cut broke fails too (as with the grpc-js client); the next dials again.
    let listed: { key: string }[] | undefined;
    for (let attempt = 0; attempt < 20 && !listed; attempt++) {
      listed = await store.list('/k/').then((r) => r.items, () => undefined);
      if (!listed) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(listed, 'the store lists again after the cuts');
    const stored = new Set(listed.map((kv) => kv.key));
    results.forEach((r, i) => r.status === 'fulfilled' && assert.ok(stored.has(`/k/${i}`), `/k/${i} answered created but is not stored`));
    // New connections after the cuts: reads and writes work.
    await store.create('/k/after', 'x');
    assert.equal((await store.get('/k/after'))?.value, 'x');
    assert.ok(relay.accepted >= 2, `the client dialled again after the cut (${relay.accepted} connections)`);
  } finally {
    await store.close();
    await relay.close();
    await etcd.stop();
  }
});
