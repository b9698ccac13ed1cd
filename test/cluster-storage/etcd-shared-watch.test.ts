// The etcd store's one etcd watch per prefix (etcd-shared-watch.ts), against a
// real etcd: watchers of a prefix from different revisions each get exactly
// their own events, in order; etcd itself holds one watcher per prefix (its
// etcd_debugging_mvcc_watcher_total gauge); a watcher from before what the
// shared watch keeps catches up on its own etcd watch, then moves over; a
// compacted revision still ends in gone while a shared watch is open; and
// when the connection to etcd is cut and comes back, no event is lost or
// repeated.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../../src/apiserver/storage/open-store.js';
import type { Store, WatchEvent } from '../../src/apiserver/storage/store.js';
import { isKind } from '../../src/errdefs.js';
import { KEEP_EVENTS } from '../../src/apiserver/storage/etcd/etcd-shared-watch.js';
import { startEtcd, type EtcdCluster } from './etcd-harness.js';
import { startTcpRelay } from '../helpers/tcp-relay.js';
import { until as untilTruthy } from '../helpers/until.js';

let etcd: EtcdCluster;
before(async () => {
  etcd = await startEtcd(1);
});
after(async () => {
  await etcd?.stop();
});

let n = 0;
const open = (endpoint = etcd.endpoints[0]): Promise<Store> => openStore({ kind: 'etcd', endpoints: [endpoint], prefix: `/shared-${++n}` });

/** etcd's count of watchers it serves (all clients). */
async function etcdWatchers(): Promise<number> {
  const text = await (await fetch(`${etcd.endpoints[0]}/metrics`)).text();
  const m = /^etcd_debugging_mvcc_watcher_total (\S+)$/m.exec(text);
  assert.ok(m, 'etcd reports etcd_debugging_mvcc_watcher_total');
  return Number(m[1]);
}

/** Polls a condition every 50 ms, 200 times at most. */
async function until(what: string, ok: () => boolean | Promise<boolean>): Promise<void> {
  await untilTruthy(what, async () => ok(), { tries: 200, everyMs: 50 });
}

interface Recorder {
  events: Exclude<WatchEvent, { type: 'BOOKMARK' }>[];
  error?: Error;
  cancel: () => void;
}

function record(store: Store, prefix: string, from: number): Recorder {
  const r: Recorder = { events: [], cancel: () => undefined };
  r.cancel = store.watch(prefix, from, (e) => e.type !== 'BOOKMARK' && r.events.push(e), (err) => (r.error = err));
  return r;
}

const keysOf = (r: Recorder) => r.events.map((e) => `${e.type} ${e.kv.key}=${e.kv.value} @${e.revision}`);

test('watchers of one prefix from different revisions share one etcd watch and each get exactly their events, in order', async () => {
  const store = await open();
  const base = await etcdWatchers();
  try {
    const first = record(store, '/pods/', 0);
    const a = await store.create('/pods/a', '1');
    const b = await store.create('/pods/b', '1');
    await store.create('/other/x', '1');
    const fromA = record(store, '/pods/', a.modRevision);
    const fromB = record(store, '/pods/', b.modRevision);
    const a2 = await store.update('/pods/a', '2', a.modRevision);
    await store.delete('/pods/b');
    await until('every watcher has the delete', () => [first, fromA, fromB].every((r) => r.events.some((e) => e.type === 'DELETE')));
    assert.deepEqual(keysOf(first).map((s) => s.replace(/ @\d+$/, '')), ['PUT /pods/a=1', 'PUT /pods/b=1', 'PUT /pods/a=2', 'DELETE /pods/b=1']);
    assert.deepEqual(keysOf(fromA).map((s) => s.replace(/ @\d+$/, '')), ['PUT /pods/b=1', 'PUT /pods/a=2', 'DELETE /pods/b=1']);
    assert.deepEqual(keysOf(fromB).map((s) => s.replace(/ @\d+$/, '')), ['PUT /pods/a=2', 'DELETE /pods/b=1']);
    // The update carries the value before it; revisions strictly increase.
    const upd = fromB.events[0];
    assert.ok(upd.type === 'PUT' && upd.prevKv?.value === '1' && upd.kv.modRevision === a2.modRevision);
    for (const r of [first, fromA, fromB]) for (let i = 1; i < r.events.length; i++) assert.ok(r.events[i].revision > r.events[i - 1].revision);
    // Three watchers of /pods/, one etcd watcher.
    assert.equal((await etcdWatchers()) - base, 1);
    for (const r of [first, fromA, fromB]) r.cancel();
    // The last one gone, the etcd watch goes too.
    await until('etcd has no watcher of ours', async () => (await etcdWatchers()) === base);
  } finally {
    await store.close();
  }
});

test('a namespace prefix and the all-namespaces prefix: each watcher gets only its keys', async () => {
  const store = await open();
  try {
    const all = record(store, '/pods/', 0);
    const ns1 = record(store, '/pods/ns1/', 0);
    const ns1b = record(store, '/pods/ns1/', 0);
    await store.create('/pods/ns1/a', '1');
    await store.create('/pods/ns2/b', '1');
    await store.create('/pods/ns10/c', '1');
    await store.create('/pods/ns1/d', '1');
    await until('the all-namespaces watcher has 4 events', () => all.events.length === 4);
    await until('ns1 watchers have 2 events', () => ns1.events.length === 2 && ns1b.events.length === 2);
    assert.deepEqual(all.events.map((e) => e.kv.key), ['/pods/ns1/a', '/pods/ns2/b', '/pods/ns10/c', '/pods/ns1/d']);
    assert.deepEqual(ns1.events.map((e) => e.kv.key), ['/pods/ns1/a', '/pods/ns1/d']);
    assert.deepEqual(ns1b.events.map((e) => e.kv.key), ['/pods/ns1/a', '/pods/ns1/d']);
    for (const r of [all, ns1, ns1b]) r.cancel();
  } finally {
    await store.close();
  }
});

test('a watcher from before what the shared watch keeps catches up on its own etcd watch, then moves to the shared one', async () => {
  const store = await open();
  const base = await etcdWatchers();
  try {
    const start = await store.currentRevision();
    const first = record(store, '/cm/', 0);
    // More writes than the shared watch keeps for late joiners.
    const writes = KEEP_EVENTS * 2 + 10;
    for (let i = 0; i < writes; i += 50) await Promise.all(Array.from({ length: Math.min(50, writes - i) }, (_, j) => store.create(`/cm/k${i + j}`, String(i + j))));
    await until('the first watcher has every write', () => first.events.length === writes);
    // Its own etcd watch while it catches up (gone again by the end: it moved).
    const late = record(store, '/cm/', start);
    await until('the late watcher has caught up', () => late.events.length === writes);
    await store.create('/cm/after', 'x');
    await until('both have the next write', () => first.events.length === writes + 1 && late.events.length === writes + 1);
    assert.deepEqual(late.events.map((e) => e.revision), first.events.map((e) => e.revision));
    await until('one etcd watcher again', async () => (await etcdWatchers()) - base === 1);
    first.cancel();
    late.cancel();
  } finally {
    await store.close();
  }
});

test('the only watcher of a prefix, from a revision before the shared watch began, keeps getting events after it moves over', async () => {
  const store = await open();
  const base = await etcdWatchers();
  try {
    const a = await store.create('/solo/a', '1');
    await store.create('/solo/b', '1');
    // The shared watch opens after b; this watcher needs b first, from its own etcd watch.
    const solo = record(store, '/solo/', a.modRevision);
    await until('the catch-up has b', () => solo.events.length === 1);
    for (let i = 0; i < 5; i++) await store.create(`/solo/c${i}`, '1');
    await until('all 5 later writes arrive', () => solo.events.length === 6);
    assert.deepEqual(solo.events.map((e) => e.kv.key), ['/solo/b', '/solo/c0', '/solo/c1', '/solo/c2', '/solo/c3', '/solo/c4']);
    assert.equal(solo.error, undefined);
    await until('one etcd watcher', async () => (await etcdWatchers()) - base === 1);
    solo.cancel();
  } finally {
    await store.close();
  }
});

test('a watch from a compacted revision fails with gone while the prefix has a shared watch open', async () => {
  const store = await open();
  try {
    const live = record(store, '/c/', 0);
    const k = await store.create('/c/k', '0');
    let rev = k.modRevision;
    for (let i = 1; i <= 5; i++) rev = (await store.update('/c/k', String(i), rev)).modRevision;
    await until('the live watcher has all 6 writes', () => live.events.length === 6);
    await store.compact(rev);
    const err = await new Promise<Error>((resolve) => store.watch('/c/', k.modRevision, () => undefined, resolve));
    assert.ok(isKind(err, 'gone'), `gone, got ${err.message}`);
    // The shared watch is unaffected.
    await store.update('/c/k', 'after', rev);
    await until('the live watcher has the write after compaction', () => live.events.length === 7);
    assert.equal(live.error, undefined);
    live.cancel();
  } finally {
    await store.close();
  }
});

test('the connection to etcd cut and restored: every watcher of the shared watch gets each event once, in order', async () => {
  // A loopback relay in front of etcd whose connections can be cut.
  const relay = await startTcpRelay(new URL(etcd.endpoints[0]));
  const store = await open(`http://127.0.0.1:${relay.port}`);
  // A second client straight to etcd writes while the first is cut off.
  const writer = await openStore({ kind: 'etcd', endpoints: etcd.endpoints, prefix: `/shared-${n}` });
  try {
    const start = await store.currentRevision();
    const a = record(store, '/p/', 0);
    const b = record(store, '/p/', start);
    for (let i = 0; i < 5; i++) await writer.create(`/p/before-${i}`, '1');
    await until('both have the first 5', () => a.events.length === 5 && b.events.length === 5);
    relay.cut();
    for (let i = 0; i < 5; i++) await writer.create(`/p/during-${i}`, '1');
    await until('both have all 10 after the reconnect', () => a.events.length === 10 && b.events.length === 10);
    await store.create('/p/after', '1');
    await until('both have the write made after', () => a.events.length === 11 && b.events.length === 11);
    const expected = [...Array.from({ length: 5 }, (_, i) => `/p/before-${i}`), ...Array.from({ length: 5 }, (_, i) => `/p/during-${i}`), '/p/after'];
    assert.deepEqual(a.events.map((e) => e.kv.key), expected);
    assert.deepEqual(b.events.map((e) => e.kv.key), expected);
    assert.equal(a.error, undefined);
    assert.equal(b.error, undefined);
    a.cancel();
    b.cancel();
  } finally {
    await store.close();
    await writer.close();
    await relay.close();
  }
});
