// Deployments and ReplicaSets through kubectl against a real `tug server
// --no-agent` with fake nodes: scale, rolling updates within maxSurge and
// maxUnavailable at every step, rollout status/undo/pause/resume, Recreate,
// progress deadline, replacement of deleted pods and cascading deletion.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../cluster/test-server.js';
import { Informer } from '../../src/kube/client/informer.js';
import type { KubeObject } from '../../src/kube/client/kube-client.js';
import { FakeKubelet, nodeObject, waitFor } from './fake-kubelet.js';

let srv: TestServer;
let kubelet: FakeKubelet;
const ns = `deploy-${Math.random().toString(36).slice(2, 8)}`;

before(async () => {
  srv = await startTestServer();
  // Pods turn Ready a little after Running, so rollouts go in visible steps.
  kubelet = await FakeKubelet.start(srv.kubeconfig, 200);
  await kubelet.addNode(nodeObject('node-1', { cpu: '16', memory: '32Gi' }));
  await kubelet.addNode(nodeObject('node-2', { cpu: '16', memory: '32Gi' }));
  await srv.kubectl(['create', 'namespace', ns]);
});

after(async () => {
  kubelet?.stop();
  await srv?.stop();
});

function deployment(name: string, replicas: number, image: string, extra: { strategy?: unknown; progressDeadlineSeconds?: number; annotations?: Record<string, string> } = {}): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      ...(extra.strategy ? { strategy: extra.strategy } : {}),
      ...(extra.progressDeadlineSeconds ? { progressDeadlineSeconds: extra.progressDeadlineSeconds } : {}),
      template: { metadata: { labels: { app: name }, annotations: extra.annotations }, spec: { containers: [{ name: 'c', image }] } },
    },
  });
}

async function getJson(args: string[]): Promise<any> {
  return JSON.parse((await srv.kubectl(['get', '-n', ns, ...args, '-o', 'json'])).stdout);
}

const livePods = async (app: string): Promise<any[]> => (await getJson(['pods', '-l', `app=${app}`])).items.filter((p: any) => !p.metadata.deletionTimestamp);

async function rolloutStatus(name: string): Promise<void> {
  const r = await srv.kubectl(['rollout', 'status', '-n', ns, `deployment/${name}`, '--timeout=90s']);
  assert.match(r.stdout, /successfully rolled out/);
}

/** Watches an app's pods and ReplicaSets and records the extremes a rollout passes through. */
async function observe(app: string): Promise<{ maxPods: number; minReady: number; maxSpecSum: number; images: Set<string>; mixed: boolean; stop(): void }> {
  const pods = new Informer(kubelet.client, { group: '', version: 'v1', resource: 'pods', namespace: ns }, { labelSelector: `app=${app}` });
  const rss = new Informer(kubelet.client, { group: 'apps', version: 'v1', resource: 'replicasets', namespace: ns }, { labelSelector: `app=${app}` });
  const seen = { maxPods: 0, minReady: Infinity, maxSpecSum: 0, images: new Set<string>(), mixed: false, stop: () => (pods.stop(), rss.stop()) };
  // Only after both caches are filled: a half-listed cache would look like missing pods.
  let recording = false;
  const check = () => {
    if (!recording) return;
    const live = pods.list().filter((p: KubeObject) => !p.metadata.deletionTimestamp);
    seen.maxPods = Math.max(seen.maxPods, live.length);
    const ready = live.filter((p) => (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True')).length;
    seen.minReady = Math.min(seen.minReady, ready);
    const hashes = new Set(live.map((p) => p.metadata.labels?.['pod-template-hash']));
    if (hashes.size > 1) seen.mixed = true;
    for (const p of live) seen.images.add(p.spec.containers[0].image);
    seen.maxSpecSum = Math.max(seen.maxSpecSum, rss.list().reduce((s, r) => s + (r.spec?.replicas ?? 0), 0));
  };
  pods.addHandlers({ onAdd: check, onUpdate: check, onDelete: check });
  rss.addHandlers({ onAdd: check, onUpdate: check, onDelete: check });
  await Promise.all([pods.start(), rss.start()]);
  recording = true;
  check();
  return seen;
}

test('kubectl scale changes the pod count and rollout status returns; status fields are filled', async () => {
  await srv.kubectl(['apply', '-f', '-'], { input: deployment('web', 3, 'busybox:1') });
  await rolloutStatus('web');
  assert.equal((await livePods('web')).length, 3);
  await srv.kubectl(['scale', '-n', ns, 'deployment/web', '--replicas=5']);
  await rolloutStatus('web');
  await waitFor('5 pods', async () => (await livePods('web')).length === 5);
  const d = await getJson(['deployment', 'web']);
  assert.equal(d.status.observedGeneration, d.metadata.generation);
  assert.equal(d.status.replicas, 5);
  assert.equal(d.status.updatedReplicas, 5);
  assert.equal(d.status.readyReplicas, 5);
  assert.equal(d.status.availableReplicas, 5);
  assert.equal(d.metadata.annotations['deployment.kubernetes.io/revision'], '1');
  const avail = d.status.conditions.find((c: any) => c.type === 'Available');
  assert.equal(avail.status, 'True');
  assert.equal(d.status.conditions.find((c: any) => c.type === 'Progressing').reason, 'NewReplicaSetAvailable');
  const rs = (await getJson(['replicasets', '-l', 'app=web'])).items;
  assert.equal(rs.length, 1);
  assert.equal(rs[0].status.fullyLabeledReplicas, 5);
  assert.ok(rs[0].metadata.ownerReferences[0].controller);
  // Scale-down order: a not-ready pod goes before ready ones, then the highest deletion cost stays.
  const [notReady, precious] = (await livePods('web')).map((p) => p.metadata.name);
  await srv.kubectl(['annotate', 'pod', '-n', ns, notReady, 'fake-kubelet/ready=false']);
  await srv.kubectl(['annotate', 'pod', '-n', ns, precious, 'controller.kubernetes.io/pod-deletion-cost=1000']);
  await waitFor('pod reported not ready', async () => (await getJson(['pod', notReady])).status.conditions.some((c: any) => c.type === 'Ready' && c.status === 'False'));
  await srv.kubectl(['scale', '-n', ns, 'deployment/web', '--replicas=2']);
  const left = await waitFor('2 pods', async () => {
    const pods = await livePods('web');
    return pods.length === 2 ? pods.map((p) => p.metadata.name) : undefined;
  });
  assert.ok(!left.includes(notReady), 'the not-ready pod was deleted first');
  assert.ok(left.includes(precious), 'the pod with the highest deletion cost was kept');
});

test('a deleted pod of a ReplicaSet is replaced', async () => {
  const before = (await livePods('web')).map((p) => p.metadata.name);
  await srv.kubectl(['delete', 'pod', '-n', ns, before[0], '--wait=false']);
  const after = await waitFor('a replacement pod', async () => {
    const names = (await livePods('web')).map((p) => p.metadata.name);
    return names.length === 2 && !names.includes(before[0]) ? names : undefined;
  });
  assert.ok(after.includes(before[1]));
});

test('a rolling update keeps within maxSurge and maxUnavailable at every step; undo goes back to the old ReplicaSet', async () => {
  const strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } };
  await srv.kubectl(['apply', '-f', '-'], { input: deployment('roll', 4, 'busybox:1', { strategy }) });
  await rolloutStatus('roll');
  const firstRs = (await getJson(['replicasets', '-l', 'app=roll'])).items[0].metadata.name;
  const seen = await observe('roll');
  try {
    await srv.kubectl(['set', 'image', '-n', ns, 'deployment/roll', 'c=busybox:2']);
    await rolloutStatus('roll');
  } finally {
    seen.stop();
  }
  assert.equal(seen.maxSpecSum, 5, `ReplicaSets asked for at most ${seen.maxSpecSum} pods; replicas+maxSurge is 5 and the surge should be used`);
  assert.ok(seen.maxPods <= 5, `${seen.maxPods} pods at once, over replicas+maxSurge=5`);
  assert.ok(seen.minReady >= 3, `only ${seen.minReady} ready pods at one point, under replicas-maxUnavailable=3`);
  assert.ok(seen.images.has('busybox:2'));
  const pods = await livePods('roll');
  assert.equal(pods.length, 4);
  assert.ok(pods.every((p) => p.spec.containers[0].image === 'busybox:2'));
  assert.equal((await getJson(['deployment', 'roll'])).metadata.annotations['deployment.kubernetes.io/revision'], '2');

  await srv.kubectl(['rollout', 'undo', '-n', ns, 'deployment/roll']);
  await waitFor('undo applied', async () => (await getJson(['deployment', 'roll'])).metadata.annotations['deployment.kubernetes.io/revision'] === '3');
  await rolloutStatus('roll');
  const back = await livePods('roll');
  assert.equal(back.length, 4);
  assert.ok(back.every((p) => p.spec.containers[0].image === 'busybox:1'));
  const rsNow = (await getJson(['replicasets', '-l', 'app=roll'])).items;
  const first = rsNow.find((r: any) => r.metadata.name === firstRs);
  assert.equal(first?.spec.replicas, 4, 'undo reuses the first ReplicaSet');
  assert.equal(first.metadata.annotations['deployment.kubernetes.io/revision'], '3');
  const history = await srv.kubectl(['rollout', 'history', '-n', ns, 'deployment/roll']);
  assert.match(history.stdout, /^2\s/m);
  assert.match(history.stdout, /^3\s/m);
});

test('a paused Deployment does not roll out until resumed', async () => {
  await srv.kubectl(['rollout', 'pause', '-n', ns, 'deployment/roll']);
  await srv.kubectl(['set', 'image', '-n', ns, 'deployment/roll', 'c=busybox:3']);
  const d = await waitFor('paused condition', async () => {
    const x = await getJson(['deployment', 'roll']);
    return x.status.observedGeneration === x.metadata.generation && x.status.conditions.find((c: any) => c.type === 'Progressing')?.reason === 'DeploymentPaused' ? x : undefined;
  });
  assert.equal(d.spec.paused, true);
  assert.equal((await getJson(['replicasets', '-l', 'app=roll'])).items.length, 2, 'no new ReplicaSet while paused');
  assert.ok((await livePods('roll')).every((p) => p.spec.containers[0].image === 'busybox:1'));
  await srv.kubectl(['rollout', 'resume', '-n', ns, 'deployment/roll']);
  await rolloutStatus('roll');
  await waitFor('busybox:3 everywhere', async () => {
    const pods = await livePods('roll');
    return pods.length === 4 && pods.every((p) => p.spec.containers[0].image === 'busybox:3');
  });
});

test('Recreate stops every old pod before starting new ones', async () => {
  await srv.kubectl(['apply', '-f', '-'], { input: deployment('rec', 3, 'busybox:1', { strategy: { type: 'Recreate' } }) });
  await rolloutStatus('rec');
  const seen = await observe('rec');
  try {
    await srv.kubectl(['set', 'image', '-n', ns, 'deployment/rec', 'c=busybox:2']);
    await rolloutStatus('rec');
  } finally {
    seen.stop();
  }
  assert.equal(seen.mixed, false, 'old and new pods were live at the same time');
  const pods = await livePods('rec');
  assert.equal(pods.length, 3);
  assert.ok(pods.every((p) => p.spec.containers[0].image === 'busybox:2'));
});

test('progressDeadlineSeconds: a rollout that cannot become ready is reported as ProgressDeadlineExceeded', async () => {
  await srv.kubectl(['apply', '-f', '-'], { input: deployment('stuck', 2, 'busybox:1', { progressDeadlineSeconds: 2, annotations: { 'fake-kubelet/ready': 'false' } }) });
  const r = await srv.kubectl(['rollout', 'status', '-n', ns, 'deployment/stuck', '--timeout=60s'], { allowFailure: true });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /exceeded its progress deadline/);
  const d = await getJson(['deployment', 'stuck']);
  const p = d.status.conditions.find((c: any) => c.type === 'Progressing');
  assert.equal(p.status, 'False');
  assert.equal(p.reason, 'ProgressDeadlineExceeded');
  assert.equal(d.status.conditions.find((c: any) => c.type === 'Available').status, 'False');
  assert.equal(d.status.unavailableReplicas, 2);
});

test('deleting a Deployment cascades to its ReplicaSets and pods; --cascade=orphan keeps them', async () => {
  await srv.kubectl(['delete', '-n', ns, 'deployment/web']);
  await waitFor('web ReplicaSets and pods gone', async () => (await getJson(['replicasets', '-l', 'app=web'])).items.length === 0 && (await getJson(['pods', '-l', 'app=web'])).items.length === 0);

  // Foreground: the Deployment stays (with its finalizer) until its ReplicaSets and their pods are gone.
  await srv.kubectl(['delete', '-n', ns, 'deployment/roll', '--cascade=foreground']);
  await waitFor('roll and its dependents gone', async () => (await srv.kubectl(['get', '-n', ns, 'deployment/roll'], { allowFailure: true })).code !== 0);
  assert.equal((await getJson(['replicasets', '-l', 'app=roll'])).items.length, 0);
  assert.equal((await getJson(['pods', '-l', 'app=roll'])).items.length, 0);

  await srv.kubectl(['delete', '-n', ns, 'deployment/rec', '--cascade=orphan']);
  await waitFor('rec deployment gone', async () => (await srv.kubectl(['get', '-n', ns, 'deployment/rec'], { allowFailure: true })).code !== 0);
  const rs = await waitFor('orphaned ReplicaSet', async () => {
    const items = (await getJson(['replicasets', '-l', 'app=rec'])).items.filter((r: any) => r.spec.replicas > 0);
    return items.length === 1 && !items[0].metadata.ownerReferences?.length ? items : undefined;
  });
  assert.equal(rs[0].spec.replicas, 3);
  assert.equal((await livePods('rec')).length, 3);
});
