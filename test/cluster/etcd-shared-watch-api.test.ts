// HTTP watches on the etcd store, which serves all watchers of a key prefix from
// one etcd watch (src/apiserver/storage/etcd/etcd-shared-watch.ts): watches of
// all namespaces and of one namespace, with field and label selectors, from two
// resourceVersions, each see exactly their own events in order; and a
// resourceVersion older than a compaction still answers 410 Expired while other
// watches of the resource are open.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type EtcdCluster } from '../cluster-storage/etcd-harness.js';
import { startTestServer, suffix, type TestServer } from './test-server.js';
import { openStore } from '../../src/apiserver/storage/open-store.js';

let etcd: EtcdCluster | undefined;
let srv: TestServer | undefined;
const prefix = `/tug-${suffix()}`;

before(async () => {
  etcd = await startEtcd();
  srv = await startTestServer({ store: ['--store', 'etcd', '--etcd-endpoints', etcd.endpoints[0], '--etcd-prefix', prefix] });
});

after(async () => {
  await srv?.stop();
  await etcd?.stop();
});

interface Line {
  type: string;
  object: { metadata?: { name?: string; namespace?: string; resourceVersion?: string }; data?: Record<string, string>; code?: number; reason?: string };
}

/** A watch read until the server ends it (timeoutSeconds), as `TYPE ns/name v` lines of the test's ConfigMaps. */
async function watchAll(s: TestServer, path: string): Promise<string[]> {
  const r = await s.http('GET', path);
  assert.equal(r.status, 200, r.body);
  return r.body
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line)
    .filter((l) => l.object.metadata?.name?.startsWith('c'))
    .map((l) => `${l.type} ${l.object.metadata?.namespace}/${l.object.metadata?.name} ${l.object.data?.v}`);
}

test('etcd: watches of all namespaces and of one, with selectors, from two resourceVersions, see exactly their events', async () => {
  const s = srv!;
  const [a, b] = [`sw-a-${suffix()}`, `sw-b-${suffix()}`];
  for (const ns of [a, b]) await s.kubectl(['create', 'namespace', ns]);
  const rv0 = (JSON.parse((await s.http('GET', '/api/v1/configmaps?limit=1')).body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  const json = { 'Content-Type': 'application/json' };
  const create = async (ns: string, name: string, v: string, app: string): Promise<string> => {
    const r = await s.http('POST', `/api/v1/namespaces/${ns}/configmaps`, { body: JSON.stringify({ metadata: { name, labels: { app } }, data: { v } }), headers: json });
    assert.equal(r.status, 201, r.body);
    return (JSON.parse(r.body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  };
  const watch = (path: string, rv: string, q = '') => watchAll(s, `${path}?watch=true&resourceVersion=${rv}&timeoutSeconds=10${q}`);
  const fromRv0 = [
    watch('/api/v1/configmaps', rv0),
    watch(`/api/v1/namespaces/${a}/configmaps`, rv0),
    watch('/api/v1/configmaps', rv0, '&fieldSelector=metadata.name%3Dc1'),
    watch(`/api/v1/namespaces/${b}/configmaps`, rv0, '&labelSelector=app%3Dx'),
  ];
  await new Promise((r) => setTimeout(r, 500));
  const rv1 = await create(a, 'c1', '1', 'x');
  await create(b, 'c1', '2', 'y');
  // Started after two writes, from the first one's resourceVersion.
  const fromRv1 = [watch('/api/v1/configmaps', rv1), watch(`/api/v1/namespaces/${b}/configmaps`, rv1, '&labelSelector=app%3Dx')];
  await new Promise((r) => setTimeout(r, 500));
  await create(a, 'c2', '3', 'x');
  await create(b, 'c3', '4', 'x');
  const [all0, nsA0, c1Only0, bX0] = await Promise.all(fromRv0);
  const [all1, bX1] = await Promise.all(fromRv1);
  assert.deepEqual(all0, [`ADDED ${a}/c1 1`, `ADDED ${b}/c1 2`, `ADDED ${a}/c2 3`, `ADDED ${b}/c3 4`]);
  assert.deepEqual(nsA0, [`ADDED ${a}/c1 1`, `ADDED ${a}/c2 3`]);
  assert.deepEqual(c1Only0, [`ADDED ${a}/c1 1`, `ADDED ${b}/c1 2`]);
  assert.deepEqual(bX0, [`ADDED ${b}/c3 4`]);
  assert.deepEqual(all1, [`ADDED ${b}/c1 2`, `ADDED ${a}/c2 3`, `ADDED ${b}/c3 4`]);
  assert.deepEqual(bX1, [`ADDED ${b}/c3 4`]);
});

test('etcd: a resourceVersion older than a compaction answers 410 Expired while another watch of the resource is open', async () => {
  const s = srv!;
  const ns = `sw-c-${suffix()}`;
  await s.kubectl(['create', 'namespace', ns]);
  const old = (JSON.parse((await s.http('GET', `/api/v1/namespaces/${ns}/configmaps`)).body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  for (let i = 0; i < 3; i++) await s.kubectl(['-n', ns, 'create', 'configmap', `c${i}`, `--from-literal=v=${i}`]);
  // Compacted by another etcd client (as another API server's compactor would).
  const other = await openStore({ kind: 'etcd', endpoints: etcd!.endpoints, prefix });
  try {
    await other.compact(await other.currentRevision());
  } finally {
    await other.close();
  }
  const live = watchAll(s, `/api/v1/namespaces/${ns}/configmaps?watch=true&timeoutSeconds=5`);
  await new Promise((r) => setTimeout(r, 500));
  const r = await s.http('GET', `/api/v1/namespaces/${ns}/configmaps?watch=true&resourceVersion=${old}&timeoutSeconds=5`);
  const lines = r.body.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
  assert.equal(lines.length, 1, r.body);
  assert.equal(lines[0].type, 'ERROR');
  assert.equal(lines[0].object.code, 410);
  assert.equal(lines[0].object.reason, 'Expired');
  // The open watch (no resourceVersion: the current objects first) is unaffected.
  assert.deepEqual(await live, [`ADDED ${ns}/c0 0`, `ADDED ${ns}/c1 1`, `ADDED ${ns}/c2 2`]);
});
