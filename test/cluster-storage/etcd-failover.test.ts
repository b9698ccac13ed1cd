// The etcd store's member failover (the gRPC client, etcd-fault-policy.ts):
// a first endpoint where nothing listens (a dead member) costs nothing but a
// refused connection, for unary calls and watches; and the store opened on
// three members keeps reading, writing and watching after the member it was
// using is killed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { openStore } from '../../src/apiserver/storage/open-store.js';
import type { WatchEvent } from '../../src/apiserver/storage/store.js';
import { startEtcd } from './etcd-harness.js';

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
