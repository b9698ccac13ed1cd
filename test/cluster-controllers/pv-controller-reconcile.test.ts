// The PersistentVolume controller's and the local-path provisioner's reconcile
// without a server: informers seeded through a fake client, one reconcile,
// the recorded writes compared with what Kubernetes' binder would do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SharedInformers, refs } from '../../src/kube/client/shared-informers.js';
import { PersistentVolumeController } from '../../src/controllers/volume/pv-controller.js';
import { LocalPathProvisioner } from '../../src/controllers/volume/local-path-provisioner.js';
import { storageRefs } from '../../src/controllers/volume/storage-refs.js';
import type { KubeObject } from '../../src/kube/client/kube-client.js';
import { FakeClient } from './fake-client.js';

const localPath: KubeObject = { metadata: { name: 'local-path' }, provisioner: 'tug.io/local-path', reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer' } as KubeObject;

function claim(name: string, extra: { annotations?: Record<string, string>; spec?: Record<string, unknown>; deleting?: boolean; finalizers?: string[] } = {}): KubeObject {
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, resourceVersion: '3', annotations: extra.annotations, finalizers: extra.finalizers, ...(extra.deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'local-path', volumeMode: 'Filesystem', ...extra.spec },
    status: { phase: 'Pending' },
  };
}

function volume(name: string, spec: Record<string, unknown> = {}, extra: { phase?: string; annotations?: Record<string, string>; finalizers?: string[]; deleting?: boolean } = {}): KubeObject {
  return {
    metadata: { name, uid: `pv-${name}`, resourceVersion: '7', annotations: extra.annotations, finalizers: extra.finalizers, ...(extra.deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) },
    spec: { accessModes: ['ReadWriteOnce'], capacity: { storage: '2Gi' }, storageClassName: 'manual', volumeMode: 'Filesystem', persistentVolumeReclaimPolicy: 'Retain', hostPath: { path: '/srv/x' }, ...spec },
    status: { phase: extra.phase ?? 'Available' },
  };
}

async function fixture(o: { pvcs?: KubeObject[]; pvs?: KubeObject[]; classes?: KubeObject[]; nodes?: KubeObject[]; pods?: KubeObject[] }) {
  const client = new FakeClient()
    .seed(storageRefs.pvcs, ...(o.pvcs ?? []))
    .seed(storageRefs.pvs, ...(o.pvs ?? []))
    .seed(storageRefs.classes, ...(o.classes ?? []))
    .seed(refs.nodes, ...(o.nodes ?? []))
    .seed(refs.pods, ...(o.pods ?? []))
    .seed(refs.events);
  const informers = new SharedInformers(client);
  const controller = new PersistentVolumeController(informers, client);
  const provisioner = new LocalPathProvisioner(informers, client);
  await informers.start();
  return { client, controller, provisioner, stop: () => informers.stop() };
}

const writes = (c: FakeClient) => c.summary().filter((s) => !s.startsWith('create events'));
const settle = () => new Promise((r) => setTimeout(r, 10));

test('binding: the volume is bound to the claim first (claimRef, bound-by-controller), then the claim (volumeName, bind-completed) and both phases', async () => {
  const f = await fixture({ pvcs: [claim('data', { spec: { storageClassName: 'manual' } })], pvs: [volume('big', { capacity: { storage: '5Gi' } }), volume('fits')] });
  try {
    await f.controller.reconcile('claim:ns/data');
    assert.deepEqual(writes(f.client), ['patch persistentvolumes fits', 'patch persistentvolumes fits status', 'patch persistentvolumeclaims ns/data', 'patch persistentvolumeclaims ns/data status']);
    const [pvPatch, pvStatus, pvcPatch, pvcStatus] = f.client.actions.filter((a) => a.resource !== 'events').map((a) => a.body);
    assert.deepEqual(pvPatch.spec.claimRef, { kind: 'PersistentVolumeClaim', namespace: 'ns', name: 'data', uid: 'uid-data', apiVersion: 'v1', resourceVersion: '3' });
    assert.equal(pvPatch.metadata.annotations['pv.kubernetes.io/bound-by-controller'], 'yes');
    assert.equal(pvPatch.metadata.resourceVersion, '7', 'the volume is written only if unchanged since read');
    assert.equal(pvStatus.status.phase, 'Bound');
    assert.equal(pvcPatch.spec.volumeName, 'fits');
    assert.deepEqual(pvcPatch.metadata.annotations, { 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes' });
    assert.deepEqual(pvcStatus.status, { phase: 'Bound', capacity: { storage: '2Gi' }, accessModes: ['ReadWriteOnce'] });
  } finally {
    f.stop();
  }
});

test('WaitForFirstConsumer: no binding and an event until the scheduler names a node; then the claim is handed to the provisioner, which makes a PV there', async () => {
  const node = { metadata: { name: 'n1', annotations: { 'tug.io/local-path-dir': '/var/lib/tug/storage' } } };
  const f = await fixture({ pvcs: [claim('wait'), claim('chosen', { annotations: { 'volume.kubernetes.io/selected-node': 'n1' } })], pvs: [volume('static', { storageClassName: 'local-path' })], classes: [localPath], nodes: [node] });
  try {
    await f.controller.reconcile('claim:ns/wait');
    assert.deepEqual(writes(f.client), []);
    await settle();
    assert.equal(f.client.actions.find((a) => a.resource === 'events')?.body.message, 'waiting for first consumer to be created before binding');
    f.client.actions.length = 0;
    await f.controller.reconcile('claim:ns/chosen');
    assert.deepEqual(writes(f.client), ['patch persistentvolumeclaims ns/chosen']);
    assert.equal(f.client.actions[0].body.metadata.annotations['volume.kubernetes.io/storage-provisioner'], 'tug.io/local-path');
  } finally {
    f.stop();
  }
  const annotated = claim('chosen', { annotations: { 'volume.kubernetes.io/selected-node': 'n1', 'volume.kubernetes.io/storage-provisioner': 'tug.io/local-path' } });
  const g = await fixture({ pvcs: [annotated], classes: [localPath], nodes: [node] });
  try {
    await g.provisioner.reconcile('ns/chosen');
    assert.deepEqual(writes(g.client), ['create persistentvolumes pvc-uid-chosen']);
    const pv = g.client.actions.find((a) => a.resource === 'persistentvolumes')!.body;
    assert.equal(pv.spec.hostPath.path, '/var/lib/tug/storage/pvc-uid-chosen_ns_chosen');
    assert.deepEqual(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values, ['n1']);
    assert.equal(pv.spec.claimRef.uid, 'uid-chosen');
    assert.equal(pv.spec.persistentVolumeReclaimPolicy, 'Delete');
    assert.deepEqual(pv.metadata.finalizers, ['tug.io/local-path-cleanup']);
    assert.equal(pv.metadata.annotations['pv.kubernetes.io/provisioned-by'], 'tug.io/local-path');
  } finally {
    g.stop();
  }
});

test('a missing class: ProvisioningFailed with Kubernetes words, nothing written', async () => {
  const f = await fixture({ pvcs: [claim('lost', { spec: { storageClassName: 'gold' } })] });
  try {
    await f.controller.reconcile('claim:ns/lost');
    await settle();
    assert.deepEqual(writes(f.client), []);
    const ev = f.client.actions.find((a) => a.resource === 'events')!.body;
    assert.deepEqual([ev.type, ev.reason, ev.message, ev.involvedObject.kind], ['Warning', 'ProvisioningFailed', 'storageclass.storage.k8s.io "gold" not found', 'PersistentVolumeClaim']);
  } finally {
    f.stop();
  }
});

test('a volume whose claim is gone: Released; Retain stops there, local-path Delete deletes the PV, a Delete without a deleter goes Failed', async () => {
  const ref = { namespace: 'ns', name: 'gone', uid: 'uid-gone' };
  const f = await fixture({
    pvs: [
      volume('kept', { claimRef: ref }, { phase: 'Bound' }),
      volume('made', { claimRef: ref, persistentVolumeReclaimPolicy: 'Delete' }, { phase: 'Bound', annotations: { 'pv.kubernetes.io/provisioned-by': 'tug.io/local-path' } }),
      volume('static', { claimRef: ref, persistentVolumeReclaimPolicy: 'Delete' }, { phase: 'Bound' }),
    ],
  });
  try {
    await f.controller.reconcile('volume:kept');
    assert.deepEqual(writes(f.client), ['patch persistentvolumes kept status']);
    assert.equal(f.client.actions[0].body.status.phase, 'Released');
    f.client.actions.length = 0;
    await f.controller.reconcile('volume:made');
    assert.deepEqual(writes(f.client), ['patch persistentvolumes made status', 'delete persistentvolumes made']);
    f.client.actions.length = 0;
    await f.controller.reconcile('volume:static');
    const statuses = f.client.actions.filter((a) => a.subresource === 'status').map((a) => a.body.status);
    assert.deepEqual(statuses.map((s) => s.phase), ['Released', 'Failed']);
    assert.equal(statuses[1].message, 'error getting deleter volume plugin for volume "static": no deletable volume plugin matched');
  } finally {
    f.stop();
  }
});

test('pvc-protection: the finalizer stays while a running pod uses the claim, and goes when none does', async () => {
  const deleting = claim('used', { deleting: true, finalizers: ['kubernetes.io/pvc-protection'] });
  const user = { metadata: { name: 'p', namespace: 'ns', uid: 'p1' }, spec: { volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'used' } }], containers: [] }, status: { phase: 'Running' } };
  const f = await fixture({ pvcs: [deleting], pods: [user] });
  try {
    await f.controller.reconcile('claim:ns/used');
    assert.deepEqual(writes(f.client), []);
  } finally {
    f.stop();
  }
  const g = await fixture({ pvcs: [deleting], pods: [{ ...user, status: { phase: 'Succeeded' } }] });
  try {
    await g.controller.reconcile('claim:ns/used');
    assert.deepEqual(writes(g.client), ['patch persistentvolumeclaims ns/used']);
    assert.deepEqual(g.client.actions[0].body.metadata.finalizers, []);
  } finally {
    g.stop();
  }
});
