// Deployment controller's reconcile(key) without a server, as sample-controller's
// controller_test.go: informers seeded through a fake client, one reconcile,
// then the recorded writes compared with the ones expected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SharedInformers, refs } from '../../src/kube/client/shared-informers.js';
import { DeploymentController } from '../../src/controllers/deployment-controller.js';
import { templateHash, hashLabel } from '../../src/controllers/template-hash.js';
import type { KubeObject } from '../../src/kube/client/kube-client.js';
import { FakeClient } from './fake-client.js';

const labels = { app: 'web' };
const template = (image: string) => ({ metadata: { labels }, spec: { containers: [{ name: 'c', image }] } });
const dOwner = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true, blockOwnerDeletion: true };

function deployment(replicas: number, image: string, extra: { strategy?: unknown; revision?: string } = {}): KubeObject {
  return {
    metadata: { name: 'web', namespace: 'default', uid: 'd-uid', generation: 1, resourceVersion: '20', ...(extra.revision ? { annotations: { 'deployment.kubernetes.io/revision': extra.revision } } : {}) },
    spec: { replicas, selector: { matchLabels: labels }, template: template(image), ...(extra.strategy ? { strategy: extra.strategy } : {}) },
  };
}

/** A ReplicaSet the Deployment made earlier for `image`. */
function replicaSet(image: string, o: { replicas: number; available: number; revision: number }): KubeObject {
  const hash = templateHash(template(image));
  const tpl = template(image);
  tpl.metadata.labels = { ...labels, [hashLabel]: hash } as typeof labels;
  return {
    metadata: { name: `web-${hash}`, namespace: 'default', uid: `rs-${hash}`, resourceVersion: '7', labels: tpl.metadata.labels, annotations: { 'deployment.kubernetes.io/revision': String(o.revision) }, ownerReferences: [dOwner], creationTimestamp: '2024-01-01T00:00:00Z' },
    spec: { replicas: o.replicas, selector: { matchLabels: { ...labels, [hashLabel]: hash } }, template: tpl },
    status: { replicas: o.replicas, readyReplicas: o.available, availableReplicas: o.available },
  };
}

async function fixture(d: KubeObject, rss: KubeObject[]): Promise<{ client: FakeClient; controller: DeploymentController; stop: () => void }> {
  const client = new FakeClient().seed(refs.deployments, d).seed(refs.replicasets, ...rss);
  const informers = new SharedInformers(client);
  const controller = new DeploymentController(informers, client);
  await informers.start();
  return { client, controller, stop: () => informers.stop() };
}

test('Deployment reconcile: a new Deployment gets one ReplicaSet named by its template hash, revision 1, then the revision and status are written', async () => {
  const f = await fixture(deployment(3, 'nginx:1'), []);
  const hash = templateHash(template('nginx:1'));
  try {
    await f.controller.reconcile('default/web');
    assert.deepEqual(f.client.summary(), [`create apps/replicasets default/web-${hash}`, 'patch apps/deployments default/web', 'patch apps/deployments default/web status']);
    const rs = f.client.actions[0].body;
    assert.equal(rs.spec.replicas, 3);
    assert.deepEqual(rs.metadata.ownerReferences, [dOwner]);
    assert.deepEqual(rs.spec.selector, { matchLabels: { ...labels, [hashLabel]: hash } });
    assert.equal(rs.spec.template.metadata.labels[hashLabel], hash);
    // maxSurge defaults to 25% of 3, rounded up.
    assert.deepEqual(rs.metadata.annotations, { 'deployment.kubernetes.io/revision': '1', 'deployment.kubernetes.io/desired-replicas': '3', 'deployment.kubernetes.io/max-replicas': '4' });
    assert.deepEqual(f.client.actions[1].body, { metadata: { annotations: { 'deployment.kubernetes.io/revision': '1' } } });
    const status = f.client.actions[2].body.status;
    assert.equal(status.observedGeneration, 1);
    assert.equal(status.unavailableReplicas, 3);
    assert.deepEqual(
      status.conditions.map((c: { type: string; reason: string }) => `${c.type}=${c.reason}`),
      ['Available=MinimumReplicasUnavailable', 'Progressing=NewReplicaSetCreated'],
    );
  } finally {
    f.stop();
  }
});

test('Deployment reconcile: a template change with maxSurge 1, maxUnavailable 0 surges one new pod and scales no old one down yet', async () => {
  const d = deployment(3, 'nginx:2', { revision: '1', strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } });
  const old = replicaSet('nginx:1', { replicas: 3, available: 3, revision: 1 });
  const f = await fixture(d, [old]);
  const hash = templateHash(template('nginx:2'));
  try {
    await f.controller.reconcile('default/web');
    assert.deepEqual(f.client.summary(), [`create apps/replicasets default/web-${hash}`, 'patch apps/deployments default/web', 'patch apps/deployments default/web status']);
    assert.equal(f.client.actions[0].body.spec.replicas, 1);
    assert.equal(f.client.actions[0].body.metadata.annotations['deployment.kubernetes.io/revision'], '2');
    assert.deepEqual(f.client.actions[1].body, { metadata: { annotations: { 'deployment.kubernetes.io/revision': '2' } } });
  } finally {
    f.stop();
  }
});

test('Deployment reconcile: scaling up patches the current ReplicaSet replicas, guarded by its resourceVersion', async () => {
  const rs = replicaSet('nginx:1', { replicas: 2, available: 2, revision: 1 });
  const f = await fixture(deployment(5, 'nginx:1', { revision: '1' }), [rs]);
  try {
    await f.controller.reconcile('default/web');
    assert.deepEqual(f.client.summary(), [`patch apps/replicasets default/${rs.metadata.name}`, 'patch apps/deployments default/web status']);
    // maxSurge 25% of 5 rounds up to 2: max-replicas 7.
    assert.deepEqual(f.client.actions[0].body, {
      metadata: { resourceVersion: '7', annotations: { 'deployment.kubernetes.io/desired-replicas': '5', 'deployment.kubernetes.io/max-replicas': '7' } },
      spec: { replicas: 5 },
    });
  } finally {
    f.stop();
  }
});

test('Deployment reconcile: an unowned ReplicaSet matching the selector is adopted with its resourceVersion', async () => {
  const rs = replicaSet('nginx:1', { replicas: 2, available: 2, revision: 1 });
  delete rs.metadata.ownerReferences;
  const f = await fixture(deployment(2, 'nginx:1', { revision: '1' }), [rs]);
  try {
    await f.controller.reconcile('default/web');
    assert.equal(f.client.summary()[0], `patch apps/replicasets default/${rs.metadata.name}`);
    assert.deepEqual(f.client.actions[0].body, { metadata: { ownerReferences: [dOwner], resourceVersion: '7' } });
    assert.ok(!f.client.summary().some((a) => a.startsWith('create')), 'no second ReplicaSet for the same template');
  } finally {
    f.stop();
  }
});
