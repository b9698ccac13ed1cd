// Garbage collector's reconcile(key) without a server, as sample-controller's
// controller_test.go: the type monitors list from a fake client seeded with
// objects, their events queue keys, one reconcile runs, and the recorded
// writes are compared with the ones expected. Covers the HA rules too: a
// delete another server already made (NotFound) is success.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TugError } from '../../src/errdefs.js';
import { TypeRegistry } from '../../src/kube/api/registry.js';
import { TypeMonitors } from '../../src/apiserver/type-monitors.js';
import { GarbageCollector, gcKeys } from '../../src/apiserver/garbage-collector.js';
import type { KubeObject } from '../../src/kube/client/kube-client.js';
import { FakeClient } from './fake-client.js';

const registry = new TypeRegistry();
const cmType = registry.lookup('', 'v1', 'configmaps')!;
const rsType = registry.lookup('apps', 'v1', 'replicasets')!;
const deployType = registry.lookup('apps', 'v1', 'deployments')!;
const refs = {
  configmaps: { group: '', version: 'v1', resource: 'configmaps' },
  replicasets: { group: 'apps', version: 'v1', resource: 'replicasets' },
  deployments: { group: 'apps', version: 'v1', resource: 'deployments' },
  namespaces: { group: '', version: 'v1', resource: 'namespaces' },
};

const ownerRef = (kind: string, name: string, uid: string, apiVersion = 'apps/v1', block = false) => ({ apiVersion, kind, name, uid, ...(block ? { blockOwnerDeletion: true } : {}) });

function obj(name: string, o: { ns?: string; uid?: string; owners?: object[]; deleting?: boolean; finalizers?: string[] } = {}): KubeObject {
  return {
    metadata: {
      name,
      namespace: o.ns ?? 'default',
      uid: o.uid ?? `uid-${name}`,
      resourceVersion: '3',
      ...(o.owners ? { ownerReferences: o.owners } : {}),
      ...(o.deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}),
      ...(o.finalizers ? { finalizers: o.finalizers } : {}),
    },
  };
}

async function fixture(seed: (c: FakeClient) => void): Promise<{ client: FakeClient; gc: GarbageCollector; stop: () => void }> {
  const client = new FakeClient();
  seed(client);
  const monitors = new TypeMonitors(registry, client);
  const gc = new GarbageCollector(client, registry, monitors);
  await monitors.start();
  return { client, gc, stop: () => monitors.stop() };
}

/** The keys the monitors' first list queued, in order (the workers are not running). */
async function queued(gc: GarbageCollector): Promise<string[]> {
  const keys: string[] = [];
  while (gc.queue.length) keys.push((await gc.queue.get())!);
  return keys;
}

test('GC reconcile: a dependent whose owner is not in the store is queued from the list and deleted in the background, exactly that object (uid precondition)', async () => {
  const f = await fixture((c) => c.seed(refs.configmaps, obj('child', { owners: [ownerRef('Deployment', 'web', 'gone-uid')] })));
  try {
    const key = gcKeys.dependent(cmType, 'default', 'child');
    assert.deepEqual(await queued(f.gc), [key]);
    await f.gc.reconcile(key);
    assert.deepEqual(f.client.summary(), ['delete configmaps default/child']);
    assert.deepEqual(f.client.actions[0].options, { propagationPolicy: 'Background', uid: 'uid-child' });
  } finally {
    f.stop();
  }
});

test('GC reconcile: an owner recreated under the same name (another uid) does not keep the dependent; a live owner or an owner of an unknown kind does', async () => {
  const f = await fixture((c) => {
    c.seed(refs.deployments, obj('web', { uid: 'new-uid' }), obj('api', { uid: 'api-uid' }));
    c.seed(
      refs.configmaps,
      obj('stale', { owners: [ownerRef('Deployment', 'web', 'old-uid')] }),
      obj('kept', { owners: [ownerRef('Deployment', 'api', 'api-uid')] }),
      obj('foreign', { owners: [ownerRef('Widget', 'w', 'w-uid', 'example.com/v1')] }),
    );
  });
  try {
    // A dependent whose owner uid the cache does not hold is worth a look ("kept" too if its owner's type listed after it); an unknown kind is not.
    const keys = await queued(f.gc);
    assert.ok(keys.includes(gcKeys.dependent(cmType, 'default', 'stale')));
    assert.ok(!keys.includes(gcKeys.dependent(cmType, 'default', 'foreign')));
    for (const name of ['stale', 'kept', 'foreign']) await f.gc.reconcile(gcKeys.dependent(cmType, 'default', name));
    assert.deepEqual(f.client.summary(), ['delete configmaps default/stale']);
  } finally {
    f.stop();
  }
});

test('GC reconcile: a delete another server already made (NotFound) or a successor under the same name (Conflict) is success; other errors retry', async () => {
  const f = await fixture((c) => c.seed(refs.configmaps, obj('child', { owners: [ownerRef('Deployment', 'web', 'gone-uid')] })));
  const key = gcKeys.dependent(cmType, 'default', 'child');
  try {
    f.client.failNext('delete', new TugError('not-found', 'configmaps "child" not found'));
    await f.gc.reconcile(key);
    f.client.failNext('delete', new TugError('conflict', 'Precondition failed: UID in precondition'));
    await f.gc.reconcile(key);
    f.client.failNext('delete', new TugError('unavailable', 'etcd is unavailable'));
    await assert.rejects(f.gc.reconcile(key), /etcd is unavailable/);
    assert.deepEqual(f.client.summary(), ['delete configmaps default/child', 'delete configmaps default/child', 'delete configmaps default/child']);
  } finally {
    f.stop();
  }
});

test('GC reconcile: an owner deleted with propagationPolicy=Orphan has its dependents released, then its orphan finalizer dropped, both guarded by resourceVersion', async () => {
  const owner = obj('web', { uid: 'web-uid', deleting: true, finalizers: ['orphan'] });
  const other = ownerRef('Deployment', 'keep', 'keep-uid');
  const f = await fixture((c) => {
    c.seed(refs.deployments, owner, obj('keep', { uid: 'keep-uid' }));
    c.seed(refs.replicasets, obj('web-1', { owners: [ownerRef('Deployment', 'web', 'web-uid')] }), obj('web-2', { owners: [ownerRef('Deployment', 'web', 'web-uid'), other] }));
  });
  try {
    const key = gcKeys.owner(deployType, 'default', 'web');
    assert.ok((await queued(f.gc)).includes(key), 'the owner held by its finalizer is queued from the list');
    await f.gc.reconcile(key);
    assert.deepEqual(f.client.summary(), ['patch apps/replicasets default/web-1', 'patch apps/replicasets default/web-2', 'patch apps/deployments default/web']);
    assert.deepEqual(f.client.actions[0].body, { metadata: { ownerReferences: null, resourceVersion: '3' } });
    assert.deepEqual(f.client.actions[1].body, { metadata: { ownerReferences: [other], resourceVersion: '3' } });
    assert.deepEqual(f.client.actions[2].body, { metadata: { finalizers: null, resourceVersion: '3' } });
  } finally {
    f.stop();
  }
});

test('GC reconcile: foreground deletion deletes the dependents in the foreground and keeps the owner while a blocking one remains', async () => {
  const owner = obj('web', { uid: 'web-uid', deleting: true, finalizers: ['foregroundDeletion'] });
  const f = await fixture((c) => {
    c.seed(refs.deployments, owner);
    c.seed(refs.replicasets, obj('web-1', { owners: [ownerRef('Deployment', 'web', 'web-uid', 'apps/v1', true)] }));
  });
  try {
    await f.gc.reconcile(gcKeys.owner(deployType, 'default', 'web'));
    assert.deepEqual(f.client.summary(), ['delete apps/replicasets default/web-1']);
    assert.deepEqual(f.client.actions[0].options, { propagationPolicy: 'Foreground', uid: 'uid-web-1' });
    // The blocking dependent is gone now (the fake deleted it): the next pass lets the owner go.
    f.client.actions.length = 0;
    await f.gc.reconcile(gcKeys.owner(deployType, 'default', 'web'));
    assert.deepEqual(f.client.summary(), ['patch apps/deployments default/web']);
    assert.deepEqual(f.client.actions[0].body, { metadata: { finalizers: null, resourceVersion: '3' } });
  } finally {
    f.stop();
  }
});

test('GC reconcile: a terminating namespace has its objects deleted, and only an empty one loses its finalizer', async () => {
  const terminating = (name: string): KubeObject => ({ metadata: { name, uid: `uid-${name}`, resourceVersion: '2', deletionTimestamp: '2024-01-01T00:00:00Z' }, spec: { finalizers: ['kubernetes'] } });
  const f = await fixture((c) => {
    c.seed(refs.namespaces, terminating('full'), terminating('empty'));
    c.seed(refs.configmaps, obj('cm', { ns: 'full' }));
  });
  try {
    const keys = await queued(f.gc);
    assert.ok(keys.includes(gcKeys.namespace('full')) && keys.includes(gcKeys.namespace('empty')));
    await f.gc.reconcile(gcKeys.namespace('full'));
    assert.deepEqual(f.client.summary(), ['delete configmaps full/cm']);
    f.client.actions.length = 0;
    await f.gc.reconcile(gcKeys.namespace('empty'));
    assert.deepEqual(f.client.summary(), ['patch namespaces empty']);
    assert.deepEqual(f.client.actions[0].body, { spec: { finalizers: null } });
  } finally {
    f.stop();
    f.gc.stop();
  }
});

test('GC reconcile: an object with no owners, or already being deleted, is left alone', async () => {
  const f = await fixture((c) => c.seed(refs.configmaps, obj('plain'), obj('going', { deleting: true, owners: [ownerRef('Deployment', 'web', 'gone-uid')] })));
  try {
    assert.deepEqual(await queued(f.gc), []);
    await f.gc.reconcile(gcKeys.dependent(cmType, 'default', 'plain'));
    await f.gc.reconcile(gcKeys.dependent(cmType, 'default', 'going'));
    await f.gc.reconcile(gcKeys.owner(rsType, 'default', 'missing'));
    await f.gc.reconcile(gcKeys.namespace('default'));
    assert.deepEqual(f.client.summary(), []);
  } finally {
    f.stop();
  }
});
