// The shared storage suite on the etcd v3 backend against a real etcd (Debian
// etcd-server) on loopback, plus a 3-member cluster: write through one member,
// watch through another.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Store } from '../../src/apiserver/storage/store.js';
import { openStore } from '../../src/apiserver/storage/open-store.js';
import { isKind } from '../../src/errdefs.js';
import { defineStoreSuite, type StoreFixture } from './suite.js';
import { startEtcd, type EtcdCluster } from './etcd-harness.js';
import { changes, recordWatch } from './watch-recorder.js';

let etcd: EtcdCluster;
before(async () => {
  etcd = await startEtcd(1);
});
after(async () => {
  await etcd?.stop();
});

// Each test gets its own key prefix in the shared etcd, so tests never see each other's keys.
async function etcdFixture(): Promise<StoreFixture> {
  const prefix = `/tug-test-${randomBytes(4).toString('hex')}`;
  const opened: Store[] = [];
  return {
    async open() {
      const s = await openStore({ kind: 'etcd', endpoints: etcd.endpoints, prefix });
      opened.push(s);
      return s;
    },
    async cleanup() {
      for (const s of opened) await s.close();
    },
  };
}

defineStoreSuite('etcd', etcdFixture);

test('etcd: opening a store with no reachable endpoint fails as unavailable', async () => {
  await assert.rejects(openStore({ kind: 'etcd', endpoints: ['http://127.0.0.1:1'] }), (err: unknown) => isKind(err, 'unavailable'));
});

test('etcd: 3-member cluster, write through one member, watch and read through the others', async () => {
  const cluster = await startEtcd(3);
  const stores: Store[] = [];
  try {
    const prefix = `/tug-test-${randomBytes(4).toString('hex')}`;
    for (const ep of cluster.endpoints) stores.push(await openStore({ kind: 'etcd', endpoints: [ep], prefix }));
    const [writer, reader, watcher] = stores;
    const rec = recordWatch(watcher, '/registry/pods/', 0);
    try {
      const a = await writer.create('/registry/pods/default/a', '{"v":1}');
      const b = await writer.update('/registry/pods/default/a', '{"v":2}', a.modRevision);
      const d = await writer.delete('/registry/pods/default/a');
      await rec.until((es) => changes(es).length >= 3);
      assert.deepEqual(
        changes(rec.events).map((e) => [e.type, e.revision]),
        [
          ['PUT', a.modRevision],
          ['PUT', b.modRevision],
          ['DELETE', d.modRevision],
        ],
      );
      // Reads through another member are linearizable: they see the write at once.
      const c = await writer.create('/registry/pods/default/c', '{}');
      assert.deepEqual(await reader.get('/registry/pods/default/c'), c);
      // And optimistic concurrency holds across members.
      await reader.update('/registry/pods/default/c', '{"by":"reader"}', c.modRevision);
      await assert.rejects(writer.update('/registry/pods/default/c', '{"by":"writer"}', c.modRevision), (err: unknown) => isKind(err, 'conflict'));
    } finally {
      rec.cancel();
    }
    // One client given all three endpoints keeps working when its first member is unreachable.
    const multi = await openStore({ kind: 'etcd', endpoints: ['http://127.0.0.1:1', ...cluster.endpoints], prefix });
    stores.push(multi);
    assert.equal((await multi.get('/registry/pods/default/c'))?.value, '{"by":"reader"}');
  } finally {
    for (const s of stores) await s.close();
    await cluster.stop();
  }
});

test('etcd: a watch whose etcd goes away ends with unavailable', async () => {
  const single = await startEtcd(1);
  let stopped = false;
  try {
    const store = await openStore({ kind: 'etcd', endpoints: single.endpoints });
    try {
      const rec = recordWatch(store, '/registry/', 0);
      try {
        const kv = await store.create('/registry/pods/x/a', '{}');
        await rec.until((es) => changes(es).length === 1);
        assert.equal(changes(rec.events)[0].revision, kv.modRevision);
        await single.stop();
        stopped = true;
        const err = await rec.failure();
        assert.ok(isKind(err, 'unavailable'), `expected unavailable, got ${err.message}`);
        await assert.rejects(store.get('/registry/pods/x/a'), (e: unknown) => isKind(e, 'unavailable'));
      } finally {
        rec.cancel();
      }
    } finally {
      await store.close();
    }
  } finally {
    if (!stopped) await single.stop();
  }
});

// Gets and latest lists of one event-loop turn share one read-only Txn; an etcd that allows
// fewer ops per Txn than a batch holds gets them one by one instead.
for (const maxTxnOps of [undefined, 2]) {
  test(`etcd: gets and lists made together answer each their own${maxTxnOps ? ` (etcd --max-txn-ops ${maxTxnOps})` : ''}`, async () => {
    const own = maxTxnOps ? await startEtcd(1, { maxTxnOps }) : undefined;
    const store = await openStore({ kind: 'etcd', endpoints: (own ?? etcd).endpoints, prefix: `/tug-test-${randomBytes(4).toString('hex')}` });
    try {
      for (let i = 0; i < 6; i++) await store.create(`/batch/a/${i}`, `a${i}`);
      await store.create('/batch/b/only', 'b');
      const [gets, listA, listB, missing, page] = await Promise.all([
        Promise.all([0, 1, 2, 3, 4, 5].map((i) => store.get(`/batch/a/${i}`))),
        store.list('/batch/a/'),
        store.list('/batch/b/'),
        store.get('/batch/a/none'),
        store.list('/batch/a/', { limit: 2 }),
      ]);
      assert.deepEqual(gets.map((kv) => kv?.value), ['a0', 'a1', 'a2', 'a3', 'a4', 'a5']);
      assert.deepEqual(listA.items.map((kv) => kv.value), ['a0', 'a1', 'a2', 'a3', 'a4', 'a5']);
      assert.deepEqual(listB.items.map((kv) => kv.key), ['/batch/b/only']);
      assert.equal(missing, null);
      assert.deepEqual([page.items.map((kv) => kv.value), page.more, page.remaining], [['a0', 'a1'], true, 4]);
      // Every answer carries the revision it was read at: the latest, here.
      const rev = await store.currentRevision();
      assert.equal(listA.revision, rev);
      assert.equal(gets[5]?.modRevision, rev - 1);
    } finally {
      await store.close();
      await own?.stop();
    }
  });
}
