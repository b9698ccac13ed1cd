// The client pieces controllers reuse: the work queue's dedup and retry rules,
// and an informer against a real API server (list, then watch adds, updates
// and deletes into its cache).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { WorkQueue } from '../../src/kube/client/work-queue.js';
import { Informer, keyOf } from '../../src/kube/client/informer.js';
import { KubeClient, type KubeObject } from '../../src/kube/client/kube-client.js';
import { TugError } from '../../src/errdefs.js';
import { startAgentCluster, suffix } from './agent-cluster.js';

test('work queue: a key is queued once, never processed twice at once, re-queued if added while processing, retried after failure', async () => {
  const q = new WorkQueue({ baseDelayMs: 1 });
  q.add('a');
  q.add('a');
  q.add('b');
  assert.equal(q.length, 2);
  const first = await q.get();
  assert.equal(first, 'a');
  q.add('a'); // while 'a' is processing: remembered, not queued
  assert.equal(q.length, 1);
  assert.equal(await q.get(), 'b');
  q.done('b');
  q.done('a'); // now 'a' comes back, once
  assert.equal(q.length, 1);
  assert.equal(await q.get(), 'a');
  q.done('a');
  assert.equal(q.length, 0);

  const seen: string[] = [];
  let failures = 2;
  const running = q.run(async (key) => {
    seen.push(key);
    if (key === 'flaky' && failures-- > 0) throw new Error('not yet');
  });
  q.add('flaky');
  for (let i = 0; i < 200 && seen.filter((k) => k === 'flaky').length < 3; i++) await new Promise((r) => setTimeout(r, 10));
  q.shutdown();
  await running;
  assert.deepEqual(seen, ['flaky', 'flaky', 'flaky']);
});

test('informer: initial list, then watched adds, updates and deletes; errors carry the API status kind', async () => {
  const c = await startAgentCluster();
  try {
    const client = await KubeClient.fromKubeconfig(join(c.dataDir, 'kubeconfig'));
    const ns = `inf-${suffix()}`;
    await c.kubectl(['create', 'namespace', ns]);
    await c.kubectl(['-n', ns, 'create', 'configmap', 'before', '--from-literal=k=1']);
    const ref = { group: '', version: 'v1', resource: 'configmaps', namespace: ns };
    const informer = new Informer(client, ref, { labelSelector: 'watched=yes' });
    const events: string[] = [];
    informer.addHandlers({
      onAdd: (o) => events.push(`add ${keyOf(o)}`),
      onUpdate: (o) => events.push(`update ${keyOf(o)} ${(o as KubeObject & { data?: Record<string, string> }).data?.k}`),
      onDelete: (o) => events.push(`delete ${keyOf(o)}`),
    });
    await c.kubectl(['-n', ns, 'label', 'configmap', 'before', 'watched=yes']);
    await informer.start();
    assert.ok(informer.get(`${ns}/before`));
    await client.create(ref, { metadata: { name: 'after', labels: { watched: 'yes' } }, data: { k: '1' } });
    await client.create(ref, { metadata: { name: 'ignored' }, data: { k: '1' } });
    await client.patch(ref, 'after', { data: { k: '2' } });
    await client.delete(ref, 'after');
    await c.until('delete seen', async () => events.includes(`delete ${ns}/after`));
    assert.deepEqual(events, [`add ${ns}/before`, `add ${ns}/after`, `update ${ns}/after 2`, `delete ${ns}/after`]);
    assert.equal(informer.get(`${ns}/after`), undefined);
    assert.deepEqual(informer.list().map(keyOf), [`${ns}/before`]);
    informer.stop();
    await assert.rejects(client.get(ref, 'nope'), (e: unknown) => e instanceof TugError && e.kind === 'not-found');
    await assert.rejects(client.create(ref, { metadata: { name: 'before' } }), (e: unknown) => e instanceof TugError && e.kind === 'already-exists');
    client.close();
    await c.kubectl(['delete', 'namespace', ns, '--wait=false']);
  } finally {
    await c.stop();
  }
});
