// The shared storage suite on the embedded SQLite backend, plus what only SQLite
// has: several processes on one database file, and its own auto-compaction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import type { Store } from '../../src/apiserver/storage/store.js';
import { openStore } from '../../src/apiserver/storage/open-store.js';
import { openSqliteStore } from '../../src/apiserver/storage/sqlite/sqlite-store.js';
import { AutoCompactor } from '../../src/apiserver/storage/auto-compactor.js';
import { isKind } from '../../src/errdefs.js';
import { defineStoreSuite, type StoreFixture } from './suite.js';
import { changes, recordWatch } from './watch-recorder.js';

async function sqliteFixture(): Promise<StoreFixture & { path: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tug-sqlite-store-'));
  const path = join(dir, 'state.db');
  const opened: Store[] = [];
  return {
    path,
    async open() {
      const s = await openStore({ kind: 'sqlite', path });
      opened.push(s);
      return s;
    },
    async cleanup() {
      for (const s of opened) await s.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

defineStoreSuite('sqlite', sqliteFixture);

function runChild(path: string, key: string, count: number): Promise<string> {
  const script = join(fileURLToPath(new URL('.', import.meta.url)), 'sqlite-child.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, path, key, String(count)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`child exited ${code}: ${err}`))));
  });
}

test('sqlite: two processes incrementing one key lose no update, and a watcher sees the other process', async () => {
  const fx = await sqliteFixture();
  try {
    const store = await fx.open();
    const key = '/registry/counters/xproc';
    const created = await store.create(key, JSON.stringify({ n: 0 }));
    const rec = recordWatch(store, '/registry/counters/', created.modRevision);
    try {
      const children = [runChild(fx.path, key, 150), runChild(fx.path, key, 150)];
      for (let i = 0; i < 100; i++) {
        for (;;) {
          const kv = (await store.get(key))!;
          try {
            await store.update(key, JSON.stringify({ n: (JSON.parse(kv.value) as { n: number }).n + 1 }), kv.modRevision);
            break;
          } catch (err) {
            if (!isKind(err, 'conflict')) throw err;
          }
        }
        await new Promise((r) => setImmediate(r));
      }
      assert.deepEqual(await Promise.all(children), ['done\n', 'done\n']);
      const final = (await store.get(key))!;
      assert.equal((JSON.parse(final.value) as { n: number }).n, 400);
      // The watch saw all 400 updates, the children's found by polling, in order.
      await rec.until((es) => changes(es).some((e) => e.revision === final.modRevision));
      const revs = changes(rec.events).map((e) => e.revision);
      assert.equal(revs.length, 400);
      for (let i = 1; i < revs.length; i++) assert.equal(revs[i], revs[i - 1] + 1);
    } finally {
      rec.cancel();
    }
  } finally {
    await fx.cleanup();
  }
});

test('sqlite: data survives close and reopen; compaction removes superseded rows but keeps the latest', async () => {
  const fx = await sqliteFixture();
  try {
    const first = await openSqliteStore({ path: fx.path, autoCompact: false });
    let kv = await first.create('/registry/pods/r/a', '{"v":0}');
    for (let i = 1; i <= 20; i++) kv = await first.update('/registry/pods/r/a', `{"v":${i}}`, kv.modRevision);
    await first.create('/registry/pods/r/b', '{}');
    const del = await first.delete('/registry/pods/r/b');
    await first.close();

    const second = await fx.open();
    assert.deepEqual(await second.get('/registry/pods/r/a'), kv);
    assert.equal(await second.currentRevision(), del.modRevision);
    await second.compact(del.modRevision);
    // Compaction even of the newest revision keeps the revision counter and the live data.
    assert.equal(await second.currentRevision(), del.modRevision);
    assert.deepEqual(await second.get('/registry/pods/r/a'), kv);
    assert.equal(await second.get('/registry/pods/r/b'), null);
    const next = await second.create('/registry/pods/r/c', '{}');
    assert.equal(next.modRevision, del.modRevision + 1, 'revisions are never reused');
  } finally {
    await fx.cleanup();
  }
});

test('auto-compaction keeps the newest revisions and compacts older ones', async () => {
  const fx = await sqliteFixture();
  try {
    const store = await openSqliteStore({ path: fx.path, autoCompact: false });
    let kv = await store.create('/registry/pods/ac/a', '{"v":0}');
    for (let i = 1; i < 30; i++) kv = await store.update('/registry/pods/ac/a', `{"v":${i}}`, kv.modRevision);
    const compactor = new AutoCompactor(() => store.currentRevision(), (r) => store.compact(r), { retainMs: 1000, minRevisions: 10, intervalMs: 3_600_000 });
    try {
      assert.equal(await compactor.tick(0), null, 'nothing is old enough yet');
      // An hour later (by the clock we pass in) the first sample is past retention, but the newest 10 revisions stay.
      const target = await compactor.tick(3_600_000);
      assert.equal(target, kv.modRevision - 10);
      await assert.rejects(store.list('/registry/pods/ac/', { revision: target! - 1 }), (e: unknown) => isKind(e, 'gone'));
      assert.equal((await store.list('/registry/pods/ac/', { revision: target! })).items[0].value, `{"v":${29 - 10}}`);
    } finally {
      compactor.stop();
      await store.close();
    }
  } finally {
    await fx.cleanup();
  }
});

test('sqlite: every write acknowledged before a SIGKILL is there after reopening', async () => {
  const fx = await sqliteFixture();
  try {
    const key = '/registry/pods/crash/a';
    const script = join(fileURLToPath(new URL('.', import.meta.url)), 'sqlite-crash-child.js');
    const child = spawn(process.execPath, [script, fx.path, key], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let lastAck: { revision: number; n: number } | null = null;
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', () => resolve());
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const lines = out.split('\n').filter(Boolean);
        if (lines.length >= 200 && child.exitCode === null && !child.killed) child.kill('SIGKILL');
      });
    });
    // Only complete lines are acknowledgements; a torn last line was never fully written.
    for (const line of out.split('\n').slice(0, -1)) {
      const [revision, n] = line.split(' ').map(Number);
      lastAck = { revision, n };
    }
    assert.ok(lastAck && lastAck.n >= 200, 'the child acknowledged at least 200 writes');
    const store = await fx.open();
    const kv = (await store.get(key))!;
    // The write in flight at the kill may or may not have committed; nothing acknowledged may be lost.
    assert.ok(kv.modRevision >= lastAck.revision, `stored revision ${kv.modRevision} < acknowledged ${lastAck.revision}`);
    assert.ok((JSON.parse(kv.value) as { n: number }).n >= lastAck.n);
    const history = await store.list('/registry/pods/crash/', { revision: lastAck.revision });
    assert.equal(history.items[0].value, JSON.stringify({ n: lastAck.n }));
    // And the store is writable again (no stale lock left by the killed process).
    await store.update(key, '{"after":"crash"}', kv.modRevision);
  } finally {
    await fx.cleanup();
  }
});

test('sqlite: with 64 writes in flight (group commits), every write acknowledged before a SIGKILL is there after reopening', async () => {
  const fx = await sqliteFixture();
  try {
    const script = join(fileURLToPath(new URL('.', import.meta.url)), 'sqlite-batch-crash-child.js');
    const child = spawn(process.execPath, [script, fx.path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', () => resolve());
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        // Kill once well into the run, while the next batches are in flight.
        if (out.split('\n').length > 1000 && child.exitCode === null && !child.killed) child.kill('SIGKILL');
      });
    });
    assert.equal(child.signalCode, 'SIGKILL', `the child was killed, not ended on its own: ${err}`);
    // Only complete lines are acknowledgements.
    const acked = out.split('\n').slice(0, -1).map((l) => l.split(' ')).map(([key, rev]) => ({ key, rev: Number(rev) }));
    assert.ok(acked.length >= 1000, `the child acknowledged ${acked.length} writes`);
    const store = await fx.open();
    for (const a of acked) {
      const kv = await store.get(a.key);
      assert.ok(kv, `acknowledged ${a.key} (revision ${a.rev}) is missing after the crash`);
      assert.equal(kv.modRevision, a.rev);
    }
    // Revisions stay dense: a batch committed whole or not at all, and nothing acknowledged sits past the end.
    const list = await store.list('/registry/pods/batch/');
    assert.equal(await store.currentRevision(), list.items.length);
    assert.ok(Math.max(...acked.map((a) => a.rev)) <= list.items.length);
  } finally {
    await fx.cleanup();
  }
});

test('sqlite: a write whose WAL sync is still running is not listed, watched or the current revision before it is acknowledged', async () => {
  const fx = await sqliteFixture();
  try {
    const store = await fx.open();
    const acked = new Set<string>();
    let ackedRevision = 0;
    const early: string[] = [];
    const cancel = store.watch('/vis/', 0, (e) => {
      // Writers are told in the same turn, just after their watchers: by the next turn the write must be acknowledged.
      if (e.type === 'PUT') setImmediate(() => !acked.has(e.kv.key) && early.push(`watch ${e.kv.key}`));
    }, (err) => assert.fail(err));
    const keys = Array.from({ length: 200 }, (_, i) => `/vis/${String(i).padStart(3, '0')}`);
    const writes = keys.map((k, i) =>
      // Spread over many event-loop turns, so commits land while earlier syncs are in flight.
      new Promise((r) => setTimeout(r, i % 20)).then(() => store.create(k, 'v')).then((kv) => {
        acked.add(k);
        ackedRevision = Math.max(ackedRevision, kv.modRevision);
      }),
    );
    let checks = 0;
    while (acked.size < keys.length) {
      // Each check runs in its own turn: a commit and a finished sync may have happened just before.
      await new Promise((r) => setImmediate(r));
      const [listed, current] = await Promise.all([store.list('/vis/'), store.currentRevision()]);
      for (const kv of listed.items) if (!acked.has(kv.key)) early.push(`list ${kv.key}`);
      // Only this store writes here, so no revision past the newest acknowledged one may be current.
      if (current > ackedRevision) early.push(`current revision ${current} > acknowledged ${ackedRevision}`);
      checks++;
    }
    await Promise.all(writes);
    await new Promise((r) => setImmediate(r));
    cancel();
    assert.ok(checks > 5, `only ${checks} checks ran while writes were in flight`);
    assert.deepEqual(early, []);
    assert.equal((await store.list('/vis/')).items.length, keys.length);
  } finally {
    await fx.cleanup();
  }
});
