// StatefulSet and DaemonSet reconcile(key) without a server (seeded informers,
// one reconcile, the recorded writes compared), plus the ControllerRevision
// data shape kubectl applies and the daemon pod's node checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SharedInformers, refs } from '../../src/kube/client/shared-informers.js';
import type { KubeObject } from '../../src/kube/client/kube-client.js';
import { StatefulSetController, statefulSetsRef } from '../../src/controllers/statefulset-controller.js';
import { DaemonSetController, daemonSetsRef } from '../../src/controllers/daemonset-controller.js';
import { controllerRevisionsRef, revisionHash, templatePatch } from '../../src/controllers/controller-history.js';
import { nodeShouldRunDaemon } from '../../src/controllers/daemon-pod.js';
import { FakeClient } from './fake-client.js';
import { nodeObject } from './fake-kubelet.js';

const claimsRef = { group: '', version: 'v1', resource: 'persistentvolumeclaims' };
const labels = { app: 'web' };
const template = (v = 'v1') => ({ metadata: { labels }, spec: { containers: [{ name: 'c', image: 'busybox', env: [{ name: 'V', value: v }] }] } });

function statefulSet(spec: Record<string, unknown> = {}, v = 'v1', status: Record<string, unknown> = {}): KubeObject {
  return {
    metadata: { name: 'web', namespace: 'default', uid: 'sts-uid', generation: 1, resourceVersion: '10' },
    spec: { replicas: 3, serviceName: 'web', selector: { matchLabels: labels }, podManagementPolicy: 'OrderedReady', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }, template: template(v), ...spec },
    status,
  };
}

/** The ControllerRevision the controller makes for an owner (same name and data). */
function revisionFor(owner: KubeObject, kind: string, revision: number): KubeObject {
  const data = templatePatch(owner);
  const hash = revisionHash(data);
  return {
    metadata: { name: `${owner.metadata.name}-${hash}`, namespace: 'default', uid: `rev-${revision}`, labels: { ...labels, 'controller-revision-hash': hash }, ownerReferences: [{ apiVersion: 'apps/v1', kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true }] },
    data,
    revision,
  };
}

function stsPod(ord: number, rev: string, o: { ready?: boolean; owner?: string } = {}): KubeObject {
  const name = `web-${ord}`;
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}`, labels: { ...labels, 'controller-revision-hash': rev }, creationTimestamp: '2024-01-01T00:00:00Z', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: o.owner ?? 'sts-uid', controller: true }] },
    spec: { nodeName: 'n1', containers: [] },
    status: { phase: 'Running', conditions: o.ready === false ? [] : [{ type: 'Ready', status: 'True', lastTransitionTime: '2024-01-01T00:00:10Z' }] },
  };
}

async function run<C>(seed: (c: FakeClient) => void, make: (i: SharedInformers, c: FakeClient) => C, key: string): Promise<{ client: FakeClient; controller: C; events: FakeClient['actions'] }> {
  const client = new FakeClient();
  seed(client);
  const informers = new SharedInformers(client);
  const controller = make(informers, client);
  await informers.start();
  try {
    await (controller as { reconcile(k: string): Promise<void> }).reconcile(key);
  } finally {
    informers.stop();
  }
  // Events are asserted on their own; the other writes are the decisions compared here.
  const events = client.actions.filter((a) => a.resource === 'events');
  client.actions.splice(0, client.actions.length, ...client.actions.filter((a) => a.resource !== 'events'));
  return { client, controller, events };
}

test('ControllerRevision data is the template patch kubectl applies: keys sorted, $patch replace', () => {
  const sts = statefulSet();
  const data = templatePatch(sts) as any;
  assert.deepEqual(Object.keys(data), ['spec']);
  assert.deepEqual(Object.keys(data.spec.template), ['$patch', 'metadata', 'spec']);
  assert.equal(data.spec.template.$patch, 'replace');
  assert.deepEqual(data.spec.template.spec, template().spec);
  assert.match(revisionHash(data), /^[bcdfghjklmnpqrstvwxz2456789]+$/);
  assert.notEqual(revisionHash(data), revisionHash(data, 1));
});

test('StatefulSet OrderedReady: the first pass makes revision 1 and web-0 only, with its identity', async () => {
  const sts = statefulSet();
  const { client, events } = await run((c) => c.seed(statefulSetsRef, sts), (i, c) => new StatefulSetController(i, c), 'default/web');
  assert.deepEqual(events.map((e) => [e.body.reason, e.body.message, e.body.involvedObject.kind]), [['SuccessfulCreate', 'create Pod web-0 in StatefulSet web successful', 'StatefulSet']]);
  assert.deepEqual(client.summary(), [`create apps/controllerrevisions default/${revisionFor(sts, 'StatefulSet', 1).metadata.name}`, 'create pods default/web-0', 'patch apps/statefulsets default/web status']);
  const pod = client.actions[1].body;
  assert.equal(pod.spec.hostname, 'web-0');
  assert.equal(pod.spec.subdomain, 'web');
  assert.deepEqual(pod.metadata.labels, { app: 'web', 'statefulset.kubernetes.io/pod-name': 'web-0', 'apps.kubernetes.io/pod-index': '0', 'controller-revision-hash': revisionFor(sts, 'StatefulSet', 1).metadata.name });
});

test('StatefulSet OrderedReady: web-1 waits while web-0 is not Ready; then comes next', async () => {
  const sts = statefulSet();
  const rev = revisionFor(sts, 'StatefulSet', 1);
  const notReady = await run((c) => c.seed(statefulSetsRef, sts).seed(controllerRevisionsRef, rev).seed(refs.pods, stsPod(0, rev.metadata.name!, { ready: false })), (i, c) => new StatefulSetController(i, c), 'default/web');
  assert.deepEqual(notReady.client.summary(), ['patch apps/statefulsets default/web status']);
  const ready = await run((c) => c.seed(statefulSetsRef, sts).seed(controllerRevisionsRef, rev).seed(refs.pods, stsPod(0, rev.metadata.name!)), (i, c) => new StatefulSetController(i, c), 'default/web');
  assert.deepEqual(ready.client.summary(), ['create pods default/web-1', 'patch apps/statefulsets default/web status']);
});

test('StatefulSet scale-down deletes the highest ordinal only, after giving its claim to the pod when whenScaled is Delete', async () => {
  const sts = statefulSet({ replicas: 1, persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Delete' }, volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: {} }] });
  const rev = revisionFor(sts, 'StatefulSet', 1);
  const claims = [0, 1, 2].map((i) => ({ metadata: { name: `data-web-${i}`, namespace: 'default', uid: `pvc-${i}`, resourceVersion: '3' }, spec: {} }));
  const { client } = await run((c) => c.seed(statefulSetsRef, sts).seed(controllerRevisionsRef, rev).seed(claimsRef, ...claims).seed(refs.pods, ...[0, 1, 2].map((i) => stsPod(i, rev.metadata.name!))), (i, c) => new StatefulSetController(i, c), 'default/web');
  assert.deepEqual(client.summary(), ['patch persistentvolumeclaims default/data-web-2', 'delete pods default/web-2', 'patch apps/statefulsets default/web status']);
  assert.deepEqual(client.actions[0].body.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Pod', name: 'web-2', uid: 'uid-web-2', controller: true, blockOwnerDeletion: true }]);
});

test('StatefulSet RollingUpdate replaces the highest outdated ordinal above the partition; OnDelete replaces nothing', async () => {
  const old = statefulSet();
  const oldRev = revisionFor(old, 'StatefulSet', 1);
  const pods = [0, 1, 2].map((i) => stsPod(i, oldRev.metadata.name!));
  const status = { currentRevision: oldRev.metadata.name };
  const rolling = statefulSet({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } }, 'v2', status);
  const r = await run((c) => c.seed(statefulSetsRef, rolling).seed(controllerRevisionsRef, oldRev, revisionFor(rolling, 'StatefulSet', 2)).seed(refs.pods, ...pods), (i, c) => new StatefulSetController(i, c), 'default/web');
  assert.deepEqual(r.client.summary(), ['delete pods default/web-2', 'patch apps/statefulsets default/web status']);
  const onDelete = statefulSet({ updateStrategy: { type: 'OnDelete' } }, 'v2', status);
  const o = await run((c) => c.seed(statefulSetsRef, onDelete).seed(controllerRevisionsRef, oldRev, revisionFor(onDelete, 'StatefulSet', 2)).seed(refs.pods, ...pods), (i, c) => new StatefulSetController(i, c), 'default/web');
  assert.deepEqual(o.client.summary(), ['patch apps/statefulsets default/web status']);
});

test('StatefulSet RollingUpdate with maxUnavailable 2 replaces two pods at once, highest ordinals first', async () => {
  const oldRev = revisionFor(statefulSet(), 'StatefulSet', 1);
  const sts = statefulSet({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: 2 } } }, 'v2', { currentRevision: oldRev.metadata.name });
  const { client } = await run((c) => c.seed(statefulSetsRef, sts).seed(controllerRevisionsRef, oldRev, revisionFor(sts, 'StatefulSet', 2)).seed(refs.pods, ...[0, 1, 2].map((i) => stsPod(i, oldRev.metadata.name!))), (i, c) => new StatefulSetController(i, c), 'default/web');
  assert.deepEqual(client.summary(), ['delete pods default/web-2', 'delete pods default/web-1', 'patch apps/statefulsets default/web status']);
});

test('StatefulSet: an orphan pod named for the set is adopted; a claim still owned by a gone pod of that name holds the pod back', async () => {
  const sts = statefulSet({ replicas: 2, volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: {} }] });
  const rev = revisionFor(sts, 'StatefulSet', 1);
  const orphan = stsPod(0, rev.metadata.name!);
  orphan.metadata.ownerReferences = undefined;
  const stale = { metadata: { name: 'data-web-1', namespace: 'default', uid: 'pvc-1', resourceVersion: '3', ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'web-1', uid: 'gone', controller: true }] }, spec: {} };
  const fresh = { metadata: { name: 'data-web-0', namespace: 'default', uid: 'pvc-0', resourceVersion: '3' }, spec: {} };
  const { client } = await run((c) => c.seed(statefulSetsRef, sts).seed(controllerRevisionsRef, rev).seed(claimsRef, fresh, stale).seed(refs.pods, orphan), (i, c) => new StatefulSetController(i, c), 'default/web');
  assert.deepEqual(client.summary(), ['patch pods default/web-0', 'patch apps/statefulsets default/web status']);
  assert.deepEqual(client.actions[0].body.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'sts-uid', controller: true, blockOwnerDeletion: true }]);
});

test('StatefulSet rollback: a template equal to an old revision renumbers that revision instead of making a new one', async () => {
  const v1 = statefulSet();
  const rev1 = revisionFor(v1, 'StatefulSet', 1);
  const rev2 = revisionFor(statefulSet({}, 'v2'), 'StatefulSet', 2);
  const { client } = await run((c) => c.seed(statefulSetsRef, v1).seed(controllerRevisionsRef, rev1, rev2), (i, c) => new StatefulSetController(i, c), 'default/web');
  assert.equal(client.summary()[0], `patch apps/controllerrevisions default/${rev1.metadata.name}`);
  assert.equal(client.actions[0].body.revision, 3);
});

test('StatefulSet history is trimmed to revisionHistoryLimit, never dropping a revision a pod still runs', async () => {
  const versions = ['v1', 'v2', 'v3', 'v4'].map((v, i) => revisionFor(statefulSet({}, v), 'StatefulSet', i + 1));
  const sts = statefulSet({ replicas: 1, revisionHistoryLimit: 1 }, 'v4', { currentRevision: versions[3]!.metadata.name });
  const pod = stsPod(0, versions[1]!.metadata.name!);
  const { client } = await run((c) => c.seed(statefulSetsRef, sts).seed(controllerRevisionsRef, ...versions).seed(refs.pods, pod), (i, c) => new StatefulSetController(i, c), 'default/web');
  // v2 runs in web-0 and v4 is current: of v1 and v3 only the newest (v3) stays.
  assert.deepEqual(client.summary().filter((a) => a.includes('controllerrevisions')), [`delete apps/controllerrevisions default/${versions[0]!.metadata.name}`]);
});

function daemonSet(spec: Record<string, unknown> = {}, v = 'v1'): KubeObject {
  return { metadata: { name: 'agent', namespace: 'default', uid: 'ds-uid', generation: 1, resourceVersion: '10' }, spec: { selector: { matchLabels: labels }, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } }, template: template(v), ...spec }, status: {} };
}

function dsPod(name: string, node: string, hash: string): KubeObject {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}`, labels: { ...labels, 'controller-revision-hash': hash }, creationTimestamp: '2024-01-01T00:00:00Z', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: 'ds-uid', controller: true }] },
    spec: { nodeName: node, containers: [] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2024-01-01T00:00:10Z' }] },
  };
}

test('daemon node checks: untolerated NoSchedule keeps new pods off, NoExecute evicts, cordoned and not-ready nodes keep their daemons', () => {
  const ds = daemonSet();
  assert.deepEqual(nodeShouldRunDaemon(ds, nodeObject('a', { taints: [{ key: 'x', effect: 'NoSchedule' }] })), { shouldRun: false, shouldContinueRunning: true });
  assert.deepEqual(nodeShouldRunDaemon(ds, nodeObject('a', { taints: [{ key: 'x', effect: 'NoExecute' }] })), { shouldRun: false, shouldContinueRunning: false });
  assert.deepEqual(nodeShouldRunDaemon(ds, nodeObject('a', { unschedulable: true, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }] })), { shouldRun: true, shouldContinueRunning: true });
  const tolerant = daemonSet({ template: { ...template(), spec: { ...template().spec, tolerations: [{ key: 'x', operator: 'Exists' }] } } });
  assert.deepEqual(nodeShouldRunDaemon(tolerant, nodeObject('a', { taints: [{ key: 'x', effect: 'NoExecute' }] })), { shouldRun: true, shouldContinueRunning: true });
  const affine = daemonSet({ template: { ...template(), spec: { ...template().spec, affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] }] } } } } } });
  assert.equal(nodeShouldRunDaemon(affine, nodeObject('a')).shouldRun, false);
  assert.equal(nodeShouldRunDaemon(affine, nodeObject('a', { labels: { disk: 'ssd' } })).shouldRun, true);
});

test('DaemonSet: a pod for each eligible node, none on a tainted one, a NoExecute-tainted node loses its pod', async () => {
  const ds = daemonSet();
  const rev = revisionFor(ds, 'DaemonSet', 1);
  const hash = rev.metadata.labels!['controller-revision-hash']!;
  const nodes = [nodeObject('n1'), nodeObject('n2', { taints: [{ key: 'dedicated', effect: 'NoSchedule' }] }), nodeObject('n3', { taints: [{ key: 'gone', effect: 'NoExecute' }] })];
  const { client } = await run((c) => c.seed(daemonSetsRef, ds).seed(controllerRevisionsRef, rev).seed(refs.nodes, ...nodes).seed(refs.pods, dsPod('agent-old', 'n3', hash)), (i, c) => new DaemonSetController(i, c), 'default/agent');
  // (The generated name's serial depends on the Events written meanwhile.)
  assert.deepEqual(client.summary().map((a) => a.replace(/agent-\d+$/, 'agent-<generated>')), ['delete pods default/agent-old', 'create pods default/agent-<generated>', 'patch apps/daemonsets default/agent status']);
  const pod = client.actions[1].body;
  assert.deepEqual(pod.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution, { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }] });
  assert.equal(pod.metadata.labels['controller-revision-hash'], hash);
  assert.equal(pod.metadata.labels['pod-template-generation'], '1');
  assert.equal(client.actions[2].body.status.desiredNumberScheduled, 1);
});

test('DaemonSet updates: RollingUpdate deletes one old pod (maxUnavailable 1), OnDelete none', async () => {
  const v1 = daemonSet();
  const rev1 = revisionFor(v1, 'DaemonSet', 1);
  const oldHash = rev1.metadata.labels!['controller-revision-hash']!;
  const pods = [dsPod('a-1', 'n1', oldHash), dsPod('a-2', 'n2', oldHash)];
  const rolling = daemonSet({}, 'v2');
  const r = await run((c) => c.seed(daemonSetsRef, rolling).seed(controllerRevisionsRef, rev1, revisionFor(rolling, 'DaemonSet', 2)).seed(refs.nodes, nodeObject('n1'), nodeObject('n2')).seed(refs.pods, ...pods), (i, c) => new DaemonSetController(i, c), 'default/agent');
  assert.deepEqual(r.client.summary(), ['delete pods default/a-1', 'patch apps/daemonsets default/agent status']);
  const onDelete = daemonSet({ updateStrategy: { type: 'OnDelete' } }, 'v2');
  const o = await run((c) => c.seed(daemonSetsRef, onDelete).seed(controllerRevisionsRef, rev1, revisionFor(onDelete, 'DaemonSet', 2)).seed(refs.nodes, nodeObject('n1'), nodeObject('n2')).seed(refs.pods, ...pods), (i, c) => new DaemonSetController(i, c), 'default/agent');
  assert.deepEqual(o.client.summary(), ['patch apps/daemonsets default/agent status']);
});

test('DaemonSet: a failed daemon pod is replaced, the next failure on that node only after a back-off', async () => {
  const ds = daemonSet();
  const rev = revisionFor(ds, 'DaemonSet', 1);
  const hash = rev.metadata.labels!['controller-revision-hash']!;
  const failed = (name: string): KubeObject => ({ ...dsPod(name, 'n1', hash), status: { phase: 'Failed' } });
  const client = new FakeClient().seed(daemonSetsRef, ds).seed(controllerRevisionsRef, rev).seed(refs.nodes, nodeObject('n1')).seed(refs.pods, failed('a-1'));
  const informers = new SharedInformers(client);
  const controller = new DaemonSetController(informers, client);
  await informers.start();
  try {
    await controller.reconcile('default/agent');
    const first = client.summary().filter((a) => !a.includes(' events '));
    assert.deepEqual(first.map((a) => a.replace(/agent-\d+$/, 'agent-<generated>')), ['delete pods default/a-1', 'create pods default/agent-<generated>', 'patch apps/daemonsets default/agent status']);
    assert.ok(client.actions.some((a) => a.resource === 'events' && a.body.reason === 'FailedDaemonPod'));
    // The same node fails again at once (the informer still shows a failed pod): no second delete yet.
    client.actions.length = 0;
    (controller as unknown as { expectations: Map<string, unknown> }).expectations.clear();
    await controller.reconcile('default/agent');
    assert.deepEqual(client.summary().filter((a) => a.startsWith('delete') || a.startsWith('create pods')), []);
  } finally {
    informers.stop();
    controller.stop();
  }
});
