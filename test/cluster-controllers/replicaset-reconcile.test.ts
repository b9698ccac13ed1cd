// ReplicaSet controller's reconcile(key) without a server, as sample-controller's
// controller_test.go: informers seeded through a fake client, one reconcile,
// then the recorded writes compared with the ones expected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SharedInformers, refs } from '../../src/kube/client/shared-informers.js';
import { ReplicaSetController } from '../../src/controllers/replicaset-controller.js';
import type { KubeObject } from '../../src/kube/client/kube-client.js';
import { FakeClient } from './fake-client.js';

const labels = { app: 'web' };
const rsOwner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'rs-uid', controller: true, blockOwnerDeletion: true };

function replicaSet(replicas: number, status: Record<string, number> = {}): KubeObject {
  return {
    metadata: { name: 'web', namespace: 'default', uid: 'rs-uid', generation: 1, resourceVersion: '10' },
    spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    status,
  };
}

function pod(name: string, o: { node?: string; phase?: string; ready?: boolean; labels?: Record<string, string>; owned?: boolean } = {}): KubeObject {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion: '5', labels: o.labels ?? labels, creationTimestamp: '2024-01-01T00:00:00Z', ...(o.owned === false ? {} : { ownerReferences: [rsOwner] }) },
    spec: { nodeName: o.node, containers: [{ name: 'c', image: 'busybox' }] },
    status: { phase: o.phase ?? 'Pending', conditions: o.ready ? [{ type: 'Ready', status: 'True', lastTransitionTime: '2024-01-01T00:00:10Z' }] : [] },
  };
}

async function fixture(rs: KubeObject[], pods: KubeObject[]): Promise<{ client: FakeClient; controller: ReplicaSetController; stop: () => void }> {
  const client = new FakeClient().seed(refs.replicasets, ...rs).seed(refs.pods, ...pods);
  const informers = new SharedInformers(client);
  const controller = new ReplicaSetController(informers, client);
  await informers.start();
  return { client, controller, stop: () => informers.stop() };
}

test('ReplicaSet reconcile: creates the missing pods (slow start 1, 2), owned by the ReplicaSet, then writes status; a second pass waits for them', async () => {
  const f = await fixture([replicaSet(3)], []);
  try {
    await f.controller.reconcile('default/web');
    assert.deepEqual(f.client.summary(), ['create pods default/web-00001', 'create pods default/web-00002', 'create pods default/web-00003', 'patch apps/replicasets default/web status']);
    const created = f.client.actions[0].body;
    assert.equal(created.metadata.generateName, 'web-');
    assert.equal(created.metadata.name, undefined);
    assert.deepEqual(created.metadata.labels, labels);
    assert.deepEqual(created.metadata.ownerReferences, [rsOwner]);
    assert.deepEqual(created.spec, { containers: [{ name: 'c', image: 'busybox' }] });
    assert.deepEqual(f.client.actions[3].body, { status: { replicas: 0, fullyLabeledReplicas: 0, readyReplicas: 0, availableReplicas: 0, observedGeneration: 1 } });
    // The informer has not seen the three pods yet: expectations hold the next pass back from creating more.
    f.client.actions.length = 0;
    await f.controller.reconcile('default/web');
    assert.deepEqual(f.client.summary(), ['patch apps/replicasets default/web status']);
  } finally {
    f.stop();
  }
});

test('ReplicaSet reconcile: scaling down deletes the cheapest pods first (unscheduled, then not ready), with uid preconditions', async () => {
  const pods = [pod('p-ready', { node: 'n1', phase: 'Running', ready: true }), pod('p-pending'), pod('p-notready', { node: 'n1', phase: 'Running' })];
  const f = await fixture([replicaSet(1, { replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 1, availableReplicas: 1, observedGeneration: 1 })], pods);
  try {
    await f.controller.reconcile('default/web');
    assert.deepEqual(f.client.summary(), ['delete pods default/p-pending', 'delete pods default/p-notready']);
    assert.deepEqual(
      f.client.actions.map((a) => a.options),
      [{ uid: 'uid-p-pending' }, { uid: 'uid-p-notready' }],
    );
  } finally {
    f.stop();
  }
});

test('ReplicaSet reconcile: adopts a matching orphan and releases an owned pod that stopped matching, each patch guarded by the pod resourceVersion', async () => {
  const f = await fixture([replicaSet(1, { replicas: 1, fullyLabeledReplicas: 1, readyReplicas: 0, availableReplicas: 0, observedGeneration: 1 })], [pod('stray', { labels: { app: 'other' } }), pod('orphan', { owned: false })]);
  try {
    await f.controller.reconcile('default/web');
    assert.deepEqual(f.client.summary(), ['patch pods default/stray', 'patch pods default/orphan']);
    assert.deepEqual(f.client.actions[0].body, { metadata: { ownerReferences: null, resourceVersion: '5' } });
    assert.deepEqual(f.client.actions[1].body, { metadata: { ownerReferences: [rsOwner], resourceVersion: '5' } });
  } finally {
    f.stop();
  }
});

test('ReplicaSet reconcile: a ReplicaSet no longer in the cache, or one being deleted, creates nothing', async () => {
  const deleting = replicaSet(2);
  deleting.metadata.deletionTimestamp = '2024-01-01T00:00:00Z';
  deleting.status = { replicas: 0, fullyLabeledReplicas: 0, readyReplicas: 0, availableReplicas: 0, observedGeneration: 1 };
  const f = await fixture([deleting], []);
  try {
    await f.controller.reconcile('default/gone');
    await f.controller.reconcile('default/web');
    assert.deepEqual(f.client.summary(), []);
  } finally {
    f.stop();
  }
});
