// HTTP watchers of one server share one decoded object, and one serialized
// line, per write (src/apiserver/shared-watch-reads.ts). Sharing must never
// hand a watcher another write's object, or the same object under another
// watcher's event type: on SQLite and on etcd, three watches of one namespace
// (two without a selector, one with a label selector that the object leaves)
// see exactly what each write returned, in order, with the type each
// watcher's selector gives it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type EtcdCluster } from '../cluster-storage/etcd-harness.js';
import { startTestServer, suffix, type TestServer } from './test-server.js';
import { SharedWatchReads } from '../../src/apiserver/shared-watch-reads.js';
import { TypeRegistry } from '../../src/kube/api/registry.js';
import type { KObject, ResourceType } from '../../src/kube/api/resource-type.js';

let etcd: EtcdCluster | undefined;
const servers: TestServer[] = [];

before(async () => {
  etcd = await startEtcd();
});

after(async () => {
  for (const s of servers) await s.stop();
  await etcd?.stop();
});

test('shared reads: one object per (type, revision, key); another revision or type is decoded again', () => {
  const shared = new SharedWatchReads();
  const registry = new TypeRegistry();
  const cm = registry.lookup('', 'v1', 'configmaps')!;
  const secret = registry.lookup('', 'v1', 'secrets')!;
  let decodes = 0;
  const read = (t: ResourceType, kv: { value: string; modRevision: number }): KObject => {
    decodes++;
    return { ...(JSON.parse(kv.value) as KObject), kind: t.kind, metadata: { resourceVersion: String(kv.modRevision) } };
  };
  const kv = (rev: number, v: string) => ({ key: 'configmaps/ns/a', value: JSON.stringify({ data: { v } }), createRevision: 1, modRevision: rev });
  const first = shared.get(cm, kv(5, 'one'), read);
  assert.equal(shared.get(cm, kv(5, 'one'), read), first, 'the same write is decoded once');
  assert.equal(decodes, 1);
  const next = shared.get(cm, kv(6, 'two'), read);
  assert.notEqual(next, first);
  assert.equal(next.data.v, 'two');
  assert.equal(next.metadata!.resourceVersion, '6');
  assert.equal(shared.get(secret, kv(6, 'two'), read).kind, 'Secret', 'another type is its own object');
  assert.equal(decodes, 3);
  // Old entries leave: after many other writes, revision 5 is decoded again.
  for (let r = 100; r < 1200; r++) shared.get(cm, kv(r, 'x'), read);
  const before = decodes;
  shared.get(cm, kv(5, 'one'), read);
  assert.equal(decodes, before + 1);
});

interface Line {
  type: string;
  object: KObject;
}

/** A watch read to its end (the server closes it after timeoutSeconds). */
async function watchAll(s: TestServer, path: string): Promise<Line[]> {
  const r = await s.http('GET', path);
  assert.equal(r.status, 200, r.body);
  return r.body
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line)
    // Only the test's ConfigMap: the namespace's kube-root-ca.crt may be written meanwhile.
    .filter((l) => l.object.metadata?.name === 'c');
}

for (const store of ['sqlite', 'etcd'] as const) {
  test(`${store}: three HTTP watches of one namespace each see every write's own object, with their own event types`, async () => {
    const s = await startTestServer({ store: store === 'etcd' ? ['--store', 'etcd', '--etcd-endpoints', etcd!.endpoints[0], '--etcd-prefix', `/tug-${suffix()}`] : ['--store', 'sqlite'] });
    servers.push(s);
    const ns = `shared-${suffix()}`;
    await s.kubectl(['create', 'namespace', ns]);
    const base = `/api/v1/namespaces/${ns}/configmaps`;
    const rv = (JSON.parse((await s.http('GET', base)).body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    const watch = (q: string) => watchAll(s, `${base}?watch=true&resourceVersion=${rv}&timeoutSeconds=20${q}`);
    const watches = [watch(''), watch(''), watch('&labelSelector=app%3Da')];
    // Let the watches register (they start at rv, so nothing is missed either way).
    await new Promise((r) => setTimeout(r, 1000));
    const json = { 'Content-Type': 'application/json' };
    const merge = { 'Content-Type': 'application/merge-patch+json' };
    const written: KObject[] = [];
    const write = async (method: string, path: string, body: unknown, headers: Record<string, string>) => {
      const r = await s.http(method, path, body === undefined ? {} : { body: JSON.stringify(body), headers });
      assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.body}`);
      written.push(JSON.parse(r.body) as KObject);
    };
    await write('POST', base, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels: { app: 'a' } }, data: { v: '1' } }, json);
    await write('PATCH', `${base}/c`, { data: { v: '2' } }, merge);
    await write('PATCH', `${base}/c`, { metadata: { labels: { app: 'b' } }, data: { v: '3' } }, merge);
    await write('DELETE', `${base}/c`, undefined, json);
    const [all1, all2, selected] = await Promise.all(watches);
    const seen = (ls: Line[]) => ls.map((l) => `${l.type} ${l.object.metadata?.resourceVersion} ${l.object.data?.v} ${l.object.metadata?.labels?.app}`);
    const rvs = written.map((o) => o.metadata!.resourceVersion);
    // DELETE answers with the last object; the event carries the delete's revision.
    assert.deepEqual(seen(all1).slice(0, 3), [`ADDED ${rvs[0]} 1 a`, `MODIFIED ${rvs[1]} 2 a`, `MODIFIED ${rvs[2]} 3 b`]);
    assert.equal(all1.length, 4);
    assert.equal(all1[3].type, 'DELETED');
    assert.equal(all1[3].object.data?.v, '3');
    assert.ok(Number(all1[3].object.metadata?.resourceVersion) > Number(rvs[2]));
    assert.deepEqual(all2, all1, 'two watches without a selector see the same events');
    // The selected watch sees the object leave its selector as DELETED, with the new object.
    assert.deepEqual(seen(selected), [`ADDED ${rvs[0]} 1 a`, `MODIFIED ${rvs[1]} 2 a`, `DELETED ${rvs[2]} 3 b`]);
    for (const [i, o] of written.slice(0, 3).entries()) assert.equal(all1[i].object.metadata?.uid, o.metadata?.uid);
  });
}
