// Cluster storage benchmark: SQLite (embedded) vs etcd (real etcd-server on
// loopback) through the same Store interface, with 10,000 pod-sized (~1.5 KB)
// JSON objects. Prints one table. Usage (after the build):
//   node dist/bench/cluster-storage/bench.js [--keys 10000] [--only sqlite|etcd]
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Store, WatchEvent } from '../../src/apiserver/storage/store.js';
import { openStore } from '../../src/apiserver/storage/open-store.js';
import { isKind } from '../../src/errdefs.js';
import { startEtcd } from '../../test/cluster-storage/etcd-harness.js';

const args = process.argv.slice(2);
const argOf = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const KEYS = Number(argOf('--keys') ?? 10_000);
const ONLY = argOf('--only');
const SAMPLES = Math.min(2000, KEYS);
const WRITERS = 16;

function podJson(i: number, generation = 1): string {
  const name = `pod-${String(i).padStart(6, '0')}`;
  const obj = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: `ns-${i % 10}`,
      uid: `0b3c9f2e-${String(i).padStart(4, '0')}-4b8e-9d2a-5f1e7c3a${String(generation).padStart(4, '0')}`,
      generation,
      labels: { app: `app-${i % 50}`, tier: 'backend', 'pod-template-hash': '5d8f9c7b6' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': 'x'.repeat(700) },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `app-${i % 50}-5d8f9c7b6`, uid: 'a1b2c3d4', controller: true }],
    },
    spec: {
      containers: [
        {
          name: 'main',
          image: 'docker.io/library/busybox:latest',
          command: ['sh', '-c', 'sleep 3600'],
          resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
          env: [{ name: 'POD_INDEX', value: String(i) }],
        },
      ],
      restartPolicy: 'Always',
      nodeName: `node-${i % 3}`,
    },
    status: { phase: 'Running', podIP: `10.88.${(i >> 8) & 255}.${i & 255}`, conditions: [{ type: 'Ready', status: 'True' }] },
  };
  return JSON.stringify(obj);
}

const keyOf = (i: number): string => `/registry/pods/ns-${i % 10}/pod-${String(i).padStart(6, '0')}`;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function timed<T>(lat: number[], fn: () => Promise<T>): Promise<T> {
  const t = performance.now();
  const r = await fn();
  lat.push(performance.now() - t);
  return r;
}

interface Row {
  backend: string;
  metric: string;
  p50: string;
  p99: string;
  extra: string;
}

const ms = (x: number): string => `${x.toFixed(3)} ms`;

async function bench(backend: string, open: () => Promise<Store>): Promise<Row[]> {
  const rows: Row[] = [];
  const store = await open();
  const watcherStore = await open();
  try {
    // create: KEYS sequential creates
    const createLat: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < KEYS; i++) await timed(createLat, () => store.create(keyOf(i), podJson(i)));
    const createSecs = (performance.now() - t0) / 1000;
    rows.push({ backend, metric: `create (${KEYS} sequential)`, p50: ms(pct(createLat, 50)), p99: ms(pct(createLat, 99)), extra: `${(KEYS / createSecs).toFixed(0)} creates/s` });

    // get: random keys
    const getLat: number[] = [];
    for (let n = 0; n < SAMPLES; n++) await timed(getLat, () => store.get(keyOf((n * 7919) % KEYS)));
    rows.push({ backend, metric: `get (${SAMPLES} random)`, p50: ms(pct(getLat, 50)), p99: ms(pct(getLat, 99)), extra: '' });

    // list: all keys in pages of 500 at one revision
    const pageLat: number[] = [];
    const tl = performance.now();
    let page = await timed(pageLat, () => store.list('/registry/pods/', { limit: 500 }));
    let listed = page.items.length;
    while (page.more) {
      const after = page.items[page.items.length - 1].key;
      const rev = page.revision;
      page = await timed(pageLat, () => store.list('/registry/pods/', { limit: 500, startAfter: after, revision: rev }));
      listed += page.items.length;
    }
    if (listed !== KEYS) throw new Error(`listed ${listed} of ${KEYS}`);
    rows.push({ backend, metric: 'list page (limit 500)', p50: ms(pct(pageLat, 50)), p99: ms(pct(pageLat, 99)), extra: `full list ${ms(performance.now() - tl)}` });

    // update: sequential. Two watchers (this Store, and a second Store instance,
    // which for SQLite means another connection found by polling) measure the
    // delay from issuing a write to receiving its event. Each sampled key is
    // updated once, so the key identifies the write.
    const issuedAt = new Map<string, number>();
    const delays: number[] = [];
    const sameDelays: number[] = [];
    const watchDelay = (sink: number[]) => (e: WatchEvent) => {
      if (e.type !== 'PUT') return;
      const at = issuedAt.get(e.kv.key);
      if (at !== undefined) sink.push(performance.now() - at);
    };
    const fail = (err: Error): void => console.error(`${backend} watch error: ${err.message}`);
    const cancelOther = watcherStore.watch('/registry/pods/', await store.currentRevision(), watchDelay(delays), fail);
    const cancelSame = store.watch('/registry/pods/', await store.currentRevision(), watchDelay(sameDelays), fail);
    const updLat: number[] = [];
    for (let n = 0; n < SAMPLES; n++) {
      const i = (n * 104729) % KEYS;
      const kv = (await store.get(keyOf(i)))!;
      const t = performance.now();
      issuedAt.set(keyOf(i), t);
      await store.update(keyOf(i), podJson(i, 2 + n), kv.modRevision);
      updLat.push(performance.now() - t);
      // Let the event loop turn between requests, as a server does (SQLite calls never yield by themselves).
      await new Promise((r) => setImmediate(r));
    }
    for (let waited = 0; waited < 100 && (delays.length < SAMPLES || sameDelays.length < SAMPLES); waited++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    cancelOther();
    cancelSame();
    rows.push({ backend, metric: `update (${SAMPLES} sequential)`, p50: ms(pct(updLat, 50)), p99: ms(pct(updLat, 99)), extra: '' });
    rows.push({ backend, metric: 'watch delay (write issued → event), same Store', p50: ms(pct(sameDelays, 50)), p99: ms(pct(sameDelays, 99)), extra: `${sameDelays.length}/${SAMPLES} events` });
    rows.push({ backend, metric: 'watch delay (write issued → event), 2nd Store', p50: ms(pct(delays, 50)), p99: ms(pct(delays, 99)), extra: `${delays.length}/${SAMPLES} events` });

    // writes/s: WRITERS concurrent writers, each updating its own keys
    let writes = 0;
    let conflicts = 0;
    const tw = performance.now();
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        for (let n = 0; n < SAMPLES / WRITERS; n++) {
          const i = (w * 613 + n * WRITERS) % KEYS;
          const kv = (await store.get(keyOf(i)))!;
          try {
            await store.update(keyOf(i), podJson(i, 9000 + n), kv.modRevision);
            writes++;
          } catch (err) {
            if (!isKind(err, 'conflict')) throw err;
            conflicts++;
          }
        }
      }),
    );
    const wsecs = (performance.now() - tw) / 1000;
    rows.push({ backend, metric: `writes/s (${WRITERS} concurrent get+update)`, p50: '', p99: '', extra: `${(writes / wsecs).toFixed(0)} writes/s, ${conflicts} conflicts` });
  } finally {
    await watcherStore.close();
    await store.close();
  }
  return rows;
}

const all: Row[] = [];
if (ONLY !== 'etcd') {
  const dir = await mkdtemp(join(tmpdir(), 'tug-bench-sqlite-'));
  try {
    const path = join(dir, 'state.db');
    all.push(...(await bench('sqlite', () => openStore({ kind: 'sqlite', path }))));
    const size = (await stat(path)).size + (await stat(`${path}-wal`).catch(() => ({ size: 0 }))).size;
    all.push({ backend: 'sqlite', metric: 'database size (db + wal)', p50: '', p99: '', extra: `${(size / 1048576).toFixed(1)} MiB` });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
if (ONLY !== 'sqlite') {
  const etcd = await startEtcd(1);
  try {
    all.push(...(await bench('etcd', () => openStore({ kind: 'etcd', endpoints: etcd.endpoints, prefix: '/bench' }))));
  } finally {
    await etcd.stop();
  }
}

const cols: (keyof Row)[] = ['backend', 'metric', 'p50', 'p99', 'extra'];
const widths = cols.map((c) => Math.max(c.length, ...all.map((r) => r[c].length)));
const line = (r: Record<string, string>): string => cols.map((c, i) => r[c].padEnd(widths[i])).join(' | ');
console.log(`cluster storage benchmark: ${KEYS} keys of ~${podJson(1).length} bytes`);
console.log(line({ backend: 'backend', metric: 'metric', p50: 'p50', p99: 'p99', extra: 'extra' }));
console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
for (const r of all) console.log(line(r as unknown as Record<string, string>));
