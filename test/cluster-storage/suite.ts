// The one storage test suite every Store backend must pass (SQLite and etcd call
// defineStoreSuite from their own test files). Each test gets a fresh fixture: a
// new SQLite file, or a new key prefix in a shared etcd.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isKind } from '../../src/errdefs.js';
import type { KeyValue, Store, WatchEvent } from '../../src/apiserver/storage/store.js';
import { changes, recordWatch } from './watch-recorder.js';

export interface StoreFixture {
  /** Opens a Store on this fixture's data (call it twice for two independent instances). */
  open(): Promise<Store>;
  /** Closes what open() returned and removes the fixture's data. */
  cleanup(): Promise<void>;
}

async function withStore(makeFixture: () => Promise<StoreFixture>, body: (store: Store, fx: StoreFixture) => Promise<void>): Promise<void> {
  const fx = await makeFixture();
  try {
    const store = await fx.open();
    // Start every test at a revision > 0: a watch from revision 0 means "from now".
    await store.create('/tug-test/seed', '{}');
    await body(store, fx);
  } finally {
    await fx.cleanup();
  }
}

async function rejectsKind(p: Promise<unknown>, kind: Parameters<typeof isKind>[1]): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isKind(err, kind), `expected a ${kind} TugError, got ${String(err)}`);
    return true;
  });
}

const pod = (name: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, ...extra });

/** Increment a JSON counter with optimistic concurrency, retrying on conflict. Returns the number of conflicts. */
async function increment(store: Store, key: string): Promise<number> {
  for (let conflicts = 0; ; conflicts++) {
    const kv = await store.get(key);
    assert.ok(kv, 'counter exists');
    const n = (JSON.parse(kv.value) as { n: number }).n;
    try {
      await store.update(key, JSON.stringify({ n: n + 1 }), kv.modRevision);
      return conflicts;
    } catch (err) {
      if (!isKind(err, 'conflict')) throw err;
    }
  }
}

export function defineStoreSuite(name: string, makeFixture: () => Promise<StoreFixture>): void {
  describe(`${name} store`, () => {
    test('create, get, update, delete', async () => {
      await withStore(makeFixture, async (store) => {
        const r0 = await store.currentRevision();
        const created = await store.create('/registry/pods/default/a', pod('a'));
        assert.ok(created.modRevision > r0, 'create advances the revision');
        assert.equal(created.createRevision, created.modRevision);
        assert.equal(await store.currentRevision(), created.modRevision);
        assert.deepEqual(await store.get('/registry/pods/default/a'), created);

        const updated = await store.update('/registry/pods/default/a', pod('a', { spec: { x: 1 } }), created.modRevision);
        assert.ok(updated.modRevision > created.modRevision);
        assert.equal(updated.createRevision, created.createRevision, 'update keeps createRevision');
        assert.deepEqual(await store.get('/registry/pods/default/a'), updated);

        const deleted = await store.delete('/registry/pods/default/a');
        assert.equal(deleted.value, updated.value, 'delete returns the last stored value');
        assert.equal(deleted.createRevision, created.createRevision);
        assert.ok(deleted.modRevision > updated.modRevision, 'the deleted kv carries the delete revision');
        assert.equal(await store.get('/registry/pods/default/a'), null);
        assert.equal(await store.get('/registry/pods/default/never'), null);

        // A key can be created again after a delete, with a fresh createRevision.
        const again = await store.create('/registry/pods/default/a', pod('a'));
        assert.ok(again.createRevision > deleted.modRevision);
      });
    });

    test('stale modRevision conflicts; missing keys are not found; duplicates already exist', async () => {
      await withStore(makeFixture, async (store) => {
        const v1 = await store.create('/registry/configmaps/default/c', '{"v":1}');
        await rejectsKind(store.create('/registry/configmaps/default/c', '{"v":9}'), 'already-exists');
        const v2 = await store.update('/registry/configmaps/default/c', '{"v":2}', v1.modRevision);
        await rejectsKind(store.update('/registry/configmaps/default/c', '{"v":3}', v1.modRevision), 'conflict');
        await rejectsKind(store.delete('/registry/configmaps/default/c', v1.modRevision), 'conflict');
        assert.equal((await store.get('/registry/configmaps/default/c'))?.value, '{"v":2}', 'failed writes changed nothing');
        await rejectsKind(store.update('/registry/configmaps/default/missing', '{}', 1), 'not-found');
        await rejectsKind(store.update('/registry/configmaps/default/missing', '{}', 0), 'not-found');
        assert.equal(await store.get('/registry/configmaps/default/missing'), null, 'update never creates');
        await rejectsKind(store.delete('/registry/configmaps/default/missing'), 'not-found');
        const gone = await store.delete('/registry/configmaps/default/c', v2.modRevision);
        assert.equal(gone.value, '{"v":2}');
        await rejectsKind(store.update('/registry/configmaps/default/c', '{}', v2.modRevision), 'not-found');
        await rejectsKind(store.delete('/registry/configmaps/default/c'), 'not-found');
      });
    });

    test('list by prefix with limit/startAfter pages consistently at one revision', async () => {
      await withStore(makeFixture, async (store) => {
        const names = Array.from({ length: 25 }, (_, i) => `p${String(i).padStart(2, '0')}`);
        for (const n of names) await store.create(`/registry/pods/ns1/${n}`, pod(n));
        // Neighbours that share leading characters but are outside the prefix.
        await store.create('/registry/pods/ns10/other', pod('other'));
        await store.create('/registry/podsx/ns1/x', pod('x'));
        await store.create('/registry/pods/ns0/before', pod('before'));
        // A deleted key does not appear.
        await store.create('/registry/pods/ns1/zz-deleted', pod('zz'));
        await store.delete('/registry/pods/ns1/zz-deleted');

        const all = await store.list('/registry/pods/ns1/');
        assert.deepEqual(
          all.items.map((kv) => kv.key),
          names.map((n) => `/registry/pods/ns1/${n}`),
        );
        assert.equal(all.more, false);
        assert.equal(all.revision, await store.currentRevision());
        assert.equal(await store.count('/registry/pods/ns1/'), 25);
        assert.equal(await store.count('/registry/pods/'), 27);
        // The empty prefix is the whole store (the suite's seed key included).
        assert.equal(await store.count(''), 29);
        assert.equal((await store.list('', { limit: 1 })).items[0].key, '/registry/pods/ns0/before');

        const first = await store.list('/registry/pods/ns1/', { limit: 10 });
        assert.equal(first.items.length, 10);
        assert.equal(first.more, true);
        assert.equal(first.remaining, 15);

        // Changes after the first page must not show in later pages read at its revision.
        const p15 = (await store.get('/registry/pods/ns1/p15'))!;
        await store.update('/registry/pods/ns1/p15', pod('p15', { changed: true }), p15.modRevision);
        await store.delete('/registry/pods/ns1/p20');
        await store.create('/registry/pods/ns1/p12a', pod('p12a'));

        const pages: KeyValue[][] = [first.items];
        let last = first;
        while (last.more) {
          last = await store.list('/registry/pods/ns1/', { limit: 10, startAfter: last.items[last.items.length - 1].key, revision: first.revision });
          assert.equal(last.revision, first.revision);
          pages.push(last.items);
        }
        assert.deepEqual(
          pages.map((p) => p.length),
          [10, 10, 5],
        );
        const paged = pages.flat();
        assert.deepEqual(
          paged.map((kv) => kv.key),
          names.map((n) => `/registry/pods/ns1/${n}`),
          'pages at the first revision see the old key set',
        );
        assert.equal(paged.find((kv) => kv.key.endsWith('/p15'))!.value, pod('p15'), 'and the old values');

        // The latest list sees the changes.
        const now = await store.list('/registry/pods/ns1/');
        assert.equal(now.items.length, 25);
        assert.ok(now.items.some((kv) => kv.key.endsWith('/p12a')));
        assert.ok(!now.items.some((kv) => kv.key.endsWith('/p20')));
      });
    });

    test('list at an older revision, and gone after compaction', async () => {
      await withStore(makeFixture, async (store) => {
        const a1 = await store.create('/registry/secrets/s/a', '{"v":1}');
        const a2 = await store.update('/registry/secrets/s/a', '{"v":2}', a1.modRevision);
        const b = await store.create('/registry/secrets/s/b', '{"v":1}');
        await store.delete('/registry/secrets/s/b');

        const atA1 = await store.list('/registry/secrets/s/', { revision: a1.modRevision });
        assert.equal(atA1.revision, a1.modRevision);
        assert.deepEqual(atA1.items, [a1]);
        const atB = await store.list('/registry/secrets/s/', { revision: b.modRevision });
        assert.deepEqual(
          atB.items.map((kv) => kv.value),
          ['{"v":2}', '{"v":1}'],
        );

        await store.compact(b.modRevision);
        await rejectsKind(store.list('/registry/secrets/s/', { revision: a1.modRevision }), 'gone');
        // Revisions at and after the compaction point stay readable.
        const atCompact = await store.list('/registry/secrets/s/', { revision: b.modRevision });
        assert.deepEqual(
          atCompact.items.map((kv) => kv.key),
          ['/registry/secrets/s/a', '/registry/secrets/s/b'],
        );
        const latest = await store.list('/registry/secrets/s/');
        assert.deepEqual(latest.items, [a2]);
        // Compaction is idempotent.
        await store.compact(b.modRevision);
        await store.compact(a1.modRevision);
        // The future is not readable or compactable.
        const future = (await store.currentRevision()) + 1000;
        await rejectsKind(store.list('/registry/secrets/s/', { revision: future }), 'invalid');
        await rejectsKind(store.compact(future), 'invalid');
      });
    });

    test('watch from a past revision replays in order, with prevKv on updates and the last value on deletes', async () => {
      await withStore(makeFixture, async (store) => {
        const before = await store.currentRevision();
        const c = await store.create('/registry/pods/w/a', '{"v":1}');
        const u = await store.update('/registry/pods/w/a', '{"v":2}', c.modRevision);
        await store.create('/registry/services/w/ignored', '{}');
        const d = await store.delete('/registry/pods/w/a');
        const c2 = await store.create('/registry/pods/w/b', '{"v":1}');

        const rec = recordWatch(store, '/registry/pods/w/', before);
        try {
          await rec.until((es) => changes(es).length >= 4);
          const ev = changes(rec.events);
          assert.deepEqual(
            ev.map((e) => [e.type, e.revision]),
            [
              ['PUT', c.modRevision],
              ['PUT', u.modRevision],
              ['DELETE', d.modRevision],
              ['PUT', c2.modRevision],
            ],
          );
          assert.equal(ev[0].type === 'PUT' && ev[0].prevKv, undefined, 'a create has no prevKv');
          assert.deepEqual(ev[1].type === 'PUT' && ev[1].prevKv, c);
          assert.deepEqual(ev[1].kv, u);
          assert.deepEqual(ev[2].kv, { key: '/registry/pods/w/a', value: '{"v":2}', createRevision: c.createRevision, modRevision: d.modRevision });
          assert.deepEqual(ev[3].kv, c2);
        } finally {
          rec.cancel();
        }
      });
    });

    test('watch from now sees only later writes, including deletes', async () => {
      await withStore(makeFixture, async (store) => {
        const old = await store.create('/registry/pods/n/old', '{"v":1}');
        const rec = recordWatch(store, '/registry/pods/n/', 0);
        try {
          const u = await store.update('/registry/pods/n/old', '{"v":2}', old.modRevision);
          const d = await store.delete('/registry/pods/n/old');
          await rec.until((es) => changes(es).length >= 2);
          const ev = changes(rec.events);
          assert.deepEqual(
            ev.map((e) => [e.type, e.revision]),
            [
              ['PUT', u.modRevision],
              ['DELETE', d.modRevision],
            ],
          );
          assert.equal(ev[1].kv.value, '{"v":2}', 'the DELETE carries the last stored value');
        } finally {
          rec.cancel();
        }
      });
    });

    // Writes issued together (SQLite commits them as one group) succeed or fail one by one.
    test('concurrent creates of one key: exactly one wins, and the others\' failure fails no other write', async () => {
      await withStore(makeFixture, async (store) => {
        const same = '/registry/pods/default/contested';
        const writes: Promise<KeyValue>[] = [];
        for (let i = 0; i < 10; i++) {
          writes.push(store.create(same, pod('contested', { spec: { writer: i } })));
          writes.push(store.create(`/registry/pods/default/other-${i}`, pod(`other-${i}`)));
        }
        const results = await Promise.allSettled(writes);
        const contested = results.filter((_, i) => i % 2 === 0);
        const others = results.filter((_, i) => i % 2 === 1);
        const winners = contested.filter((r): r is PromiseFulfilledResult<KeyValue> => r.status === 'fulfilled');
        assert.equal(winners.length, 1, 'exactly one create of the contested key succeeds');
        for (const r of contested) if (r.status === 'rejected') assert.ok(isKind(r.reason, 'already-exists'), `expected already-exists, got ${String(r.reason)}`);
        assert.deepEqual(others.map((r) => r.status), Array(10).fill('fulfilled'), 'the unrelated creates all commit');
        assert.deepEqual(await store.get(same), winners[0].value, 'the stored object is the winner\'s');
        // Every acknowledged write has its own revision, and nothing else was appended.
        const revs = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.modRevision] : []));
        assert.equal(new Set(revs).size, 11);
        assert.equal(await store.currentRevision(), Math.max(...revs));
      });
    });

    test('concurrent updates from one modRevision: exactly one wins, the rest conflict', async () => {
      await withStore(makeFixture, async (store) => {
        const base = await store.create('/registry/configmaps/default/cas', '{"v":0}');
        const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => store.update('/registry/configmaps/default/cas', JSON.stringify({ v: i + 1 }), base.modRevision)));
        const winners = results.filter((r): r is PromiseFulfilledResult<KeyValue> => r.status === 'fulfilled');
        assert.equal(winners.length, 1);
        for (const r of results) if (r.status === 'rejected') assert.ok(isKind(r.reason, 'conflict'), `expected conflict, got ${String(r.reason)}`);
        assert.deepEqual(await store.get('/registry/configmaps/default/cas'), winners[0].value);
      });
    });

    test('20 concurrent writers x 50 increments with retry on conflict lose no update', async () => {
      await withStore(makeFixture, async (store) => {
        await store.create('/registry/counters/c', JSON.stringify({ n: 0 }));
        const conflicts = await Promise.all(
          Array.from({ length: 20 }, async () => {
            let c = 0;
            for (let i = 0; i < 50; i++) c += await increment(store, '/registry/counters/c');
            return c;
          }),
        );
        const final = await store.get('/registry/counters/c');
        assert.equal((JSON.parse(final!.value) as { n: number }).n, 1000);
        // 1 create + 1000 successful updates: failed compare-and-swaps never append.
        assert.equal(final!.modRevision - final!.createRevision, 1000);
        assert.ok(conflicts.reduce((a, b) => a + b, 0) >= 0);
      });
    });

    test('watch under concurrent writers delivers every revision once, in order, matching the log', async () => {
      await withStore(makeFixture, async (store) => {
        const start = await store.currentRevision();
        const live = recordWatch(store, '/registry/pods/cw/', 0);
        try {
          const written: number[] = [];
          await Promise.all(
            Array.from({ length: 10 }, async (_, w) => {
              for (let i = 0; i < 20; i++) {
                const key = `/registry/pods/cw/w${w}-${i % 3}`;
                const cur = await store.get(key);
                const kv = cur ? await store.update(key, `{"w":${w},"i":${i}}`, cur.modRevision) : await store.create(key, `{"w":${w},"i":${i}}`);
                written.push(kv.modRevision);
                if (i % 5 === 4) written.push((await store.delete(key)).modRevision);
              }
            }),
          );
          written.sort((a, b) => a - b);
          const end = written[written.length - 1];
          await live.until((es) => changes(es).some((e) => e.revision === end));
          const liveRevs = changes(live.events).map((e) => e.revision);
          for (let i = 1; i < liveRevs.length; i++) assert.ok(liveRevs[i] > liveRevs[i - 1], `revisions strictly increase at ${i}`);
          assert.deepEqual(liveRevs, written, 'every write is delivered exactly once');

          // The log replayed from the start must tell the same story, event for event.
          const replay = recordWatch(store, '/registry/pods/cw/', start);
          try {
            await replay.until((es) => changes(es).some((e) => e.revision === end));
            assert.deepEqual(changes(replay.events), changes(live.events));
          } finally {
            replay.cancel();
          }
        } finally {
          live.cancel();
        }
      });
    });

    test('a second Store instance on the same data sees the first one writes in its watch', async () => {
      await withStore(makeFixture, async (store, fx) => {
        const other = await fx.open();
        const rec = recordWatch(other, '/registry/pods/x/', 0);
        try {
          const a = await store.create('/registry/pods/x/a', '{"from":"first"}');
          const b = await store.update('/registry/pods/x/a', '{"from":"first","v":2}', a.modRevision);
          await rec.until((es) => changes(es).length >= 2);
          assert.deepEqual(
            changes(rec.events).map((e) => e.kv),
            [a, b],
          );
          assert.deepEqual(await other.get('/registry/pods/x/a'), b);
          // And writes through the second are conflicts for the first when stale.
          await other.update('/registry/pods/x/a', '{"from":"second"}', b.modRevision);
          await rejectsKind(store.update('/registry/pods/x/a', '{"from":"first"}', b.modRevision), 'conflict');
        } finally {
          rec.cancel();
        }
      });
    });

    test('a watch from before the compacted revision fails with gone', async () => {
      await withStore(makeFixture, async (store) => {
        const first = await store.create('/registry/pods/g/a', '{"v":1}');
        let last = first;
        for (let i = 2; i <= 5; i++) last = await store.update('/registry/pods/g/a', `{"v":${i}}`, last.modRevision);
        await store.compact(last.modRevision);
        const rec = recordWatch(store, '/registry/pods/g/', first.modRevision - 1);
        try {
          const err = await rec.failure();
          assert.ok(isKind(err, 'gone'), `expected gone, got ${err.message}`);
          assert.equal(changes(rec.events).length, 0);
        } finally {
          rec.cancel();
        }
        // Watching from the compacted revision itself still works.
        const ok = recordWatch(store, '/registry/pods/g/', last.modRevision);
        try {
          const next = await store.update('/registry/pods/g/a', '{"v":6}', last.modRevision);
          await ok.until((es) => changes(es).length >= 1);
          assert.equal(changes(ok.events)[0].revision, next.modRevision);
        } finally {
          ok.cancel();
        }
      });
    });

    test('a watch whose consumer throws ends with that error and delivers nothing more', async () => {
      await withStore(makeFixture, async (store) => {
        const seen: number[] = [];
        const failed = new Promise<Error>((resolve) => {
          store.watch(
            '/registry/pods/t/',
            0,
            (e) => {
              if (e.type === 'BOOKMARK') return;
              seen.push(e.revision);
              throw new Error('consumer bug');
            },
            resolve,
          );
        });
        const a = await store.create('/registry/pods/t/a', '{}');
        await store.create('/registry/pods/t/b', '{}');
        const err = await failed;
        assert.equal(err.message, 'consumer bug');
        await store.create('/registry/pods/t/c', '{}');
        // Give any (wrong) further delivery a chance to show up before checking.
        await store.get('/registry/pods/t/c');
        await new Promise((r) => setTimeout(r, 200));
        assert.deepEqual(seen, [a.modRevision]);
      });
    });

    test('an idle watch gets a BOOKMARK no older than its last event', async () => {
      await withStore(makeFixture, async (store) => {
        const rec = recordWatch(store, '/registry/pods/b/', 0);
        try {
          const kv = await store.create('/registry/pods/b/a', '{}');
          const covers = (e: WatchEvent): boolean => e.type === 'BOOKMARK' && e.revision >= kv.modRevision;
          await rec.until((es) => es.some(covers));
          const bookmarkAt = rec.events.findIndex(covers);
          const putAt = rec.events.findIndex((e) => e.type === 'PUT' && e.revision === kv.modRevision);
          assert.ok(putAt >= 0 && putAt < bookmarkAt, 'the event comes before the bookmark that covers it');
          for (const e of rec.events) if (e.type === 'BOOKMARK') assert.ok(e.revision > 0);
        } finally {
          rec.cancel();
        }
      });
    });
  });
}
