// The parts of the orchestrator issue that scheduler.test.ts and
// deployment.test.ts do not reach, on a real `tug server --no-agent` with fake
// nodes: scoring (least allocated, balanced allocation), binding through the
// pods/binding subresource, and a Deployment's revision history trimmed to
// revisionHistoryLimit, with `kubectl rollout history/undo --to-revision`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../cluster/test-server.js';
import { FakeKubelet, nodeObject, waitFor } from './fake-kubelet.js';

let srv: TestServer;
let kubelet: FakeKubelet;
const ns = `score-${Math.random().toString(36).slice(2, 8)}`;

before(async () => {
  srv = await startTestServer();
  kubelet = await FakeKubelet.start(srv.kubeconfig);
  for (const [name, pool] of [
    ['least-1', 'least'],
    ['least-2', 'least'],
    ['bal-1', 'balanced'],
    ['bal-2', 'balanced'],
    ['deploy-1', 'deploy'],
  ]) {
    await kubelet.addNode(nodeObject(name, { cpu: '4', memory: '8Gi', labels: { pool } }));
  }
  await srv.kubectl(['create', 'namespace', ns]);
});

after(async () => {
  kubelet?.stop();
  await srv?.stop();
});

async function getJson(args: string[]): Promise<any> {
  return JSON.parse((await srv.kubectl(['get', '-n', ns, ...args, '-o', 'json'])).stdout);
}

function podManifest(name: string, requests: { cpu: string; memory: string }, place: { nodeName?: string; pool?: string; schedulerName?: string }): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: {
      nodeName: place.nodeName,
      schedulerName: place.schedulerName,
      nodeSelector: place.pool ? { pool: place.pool } : undefined,
      containers: [{ name: 'c', image: 'busybox', resources: { requests } }],
    },
  });
}

/** Places a pod directly on a node (no scheduler) and waits until the fake kubelet runs it, so every cache has seen it. */
async function preload(name: string, nodeName: string, requests: { cpu: string; memory: string }): Promise<void> {
  await srv.kubectl(['apply', '-f', '-'], { input: podManifest(name, requests, { nodeName }) });
  await waitFor(`${name} running`, async () => (await getJson(['pod', name])).status?.phase === 'Running');
}

const nodeOf = (name: string): Promise<string> => waitFor(`pod ${name} bound`, async () => (await getJson(['pod', name])).spec.nodeName as string | undefined);

test('scoring, least allocated: a pod goes to the emptier of two fitting nodes', async () => {
  await preload('load-least', 'least-1', { cpu: '2', memory: '4Gi' });
  for (let i = 0; i < 3; i++) {
    await srv.kubectl(['apply', '-f', '-'], { input: podManifest(`small-${i}`, { cpu: '200m', memory: '256Mi' }, { pool: 'least' }) });
    assert.equal(await nodeOf(`small-${i}`), 'least-2', `small-${i}: least-1 is half full, least-2 nearly empty`);
  }
});

test('scoring, balanced allocation: with least-allocated nearly even, the node whose CPU and memory use stay balanced wins', async () => {
  // After placing 1 CPU + 2Gi: bal-1 would be at 72.5% CPU / 25% memory, bal-2 at 50% / 50%.
  // Least-allocated alone slightly prefers bal-1 (51.2 vs 50); balanced allocation prefers bal-2 (52.5 vs 100).
  await preload('load-bal-1', 'bal-1', { cpu: '1900m', memory: '1Mi' });
  await preload('load-bal-2', 'bal-2', { cpu: '1', memory: '2Gi' });
  await srv.kubectl(['apply', '-f', '-'], { input: podManifest('balanced', { cpu: '1', memory: '2Gi' }, { pool: 'balanced' }) });
  assert.equal(await nodeOf('balanced'), 'bal-2');
});

test('binding subresource: a pod for another scheduler stays unbound until a Binding names its node', async () => {
  await srv.kubectl(['apply', '-f', '-'], { input: podManifest('manual', { cpu: '100m', memory: '64Mi' }, { schedulerName: 'my-scheduler' }) });
  // A pod created after it is scheduled by the default scheduler; by then 'manual' would have been too.
  await srv.kubectl(['apply', '-f', '-'], { input: podManifest('marker', { cpu: '100m', memory: '64Mi' }, { pool: 'deploy' }) });
  assert.equal(await nodeOf('marker'), 'deploy-1');
  const p = await getJson(['pod', 'manual']);
  assert.equal(p.spec.nodeName, undefined, 'the default scheduler leaves other schedulers\u2019 pods alone');
  const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'manual' }, target: { apiVersion: 'v1', kind: 'Node', name: 'deploy-1' } };
  await srv.kubectl(['create', '--raw', `/api/v1/namespaces/${ns}/pods/manual/binding`, '-f', '-'], { input: JSON.stringify(binding) });
  const bound = await getJson(['pod', 'manual']);
  assert.equal(bound.spec.nodeName, 'deploy-1');
  assert.equal(bound.status.conditions.find((c: any) => c.type === 'PodScheduled')?.status, 'True');
  // A second Binding of a bound pod is a conflict, as in Kubernetes.
  const again = await srv.kubectl(['create', '--raw', `/api/v1/namespaces/${ns}/pods/manual/binding`, '-f', '-'], { input: JSON.stringify({ ...binding, target: { ...binding.target, name: 'bal-1' } }), allowFailure: true });
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /already|Conflict|conflict/);
  assert.equal((await getJson(['pod', 'manual'])).spec.nodeName, 'deploy-1');
});

test('revision history: old ReplicaSets are trimmed to revisionHistoryLimit; rollout history lists what is kept and undo --to-revision goes back to it', async () => {
  const deploy = (image: string) =>
    JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'hist', namespace: ns },
      spec: {
        replicas: 1,
        revisionHistoryLimit: 1,
        selector: { matchLabels: { app: 'hist' } },
        template: { metadata: { labels: { app: 'hist' } }, spec: { nodeSelector: { pool: 'deploy' }, containers: [{ name: 'c', image, resources: { requests: { cpu: '10m', memory: '8Mi' } } }] } },
      },
    });
  for (const tag of ['1', '2', '3', '4']) {
    await srv.kubectl(['apply', '-f', '-'], { input: deploy(`busybox:${tag}`) });
    const r = await srv.kubectl(['rollout', 'status', '-n', ns, 'deployment/hist', '--timeout=90s']);
    assert.match(r.stdout, /successfully rolled out/);
  }
  const kept = await waitFor('history trimmed to 1 old ReplicaSet', async () => {
    const items = (await getJson(['replicasets', '-l', 'app=hist'])).items;
    return items.length === 2 ? items : undefined;
  });
  const revs = kept.map((r: any) => r.metadata.annotations['deployment.kubernetes.io/revision']).sort();
  assert.deepEqual(revs, ['3', '4']);
  const history = (await srv.kubectl(['rollout', 'history', '-n', ns, 'deployment/hist'])).stdout;
  assert.match(history, /^3\s/m);
  assert.match(history, /^4\s/m);
  assert.doesNotMatch(history, /^[12]\s/m);

  await srv.kubectl(['rollout', 'undo', '-n', ns, 'deployment/hist', '--to-revision=3']);
  await waitFor('undo to revision 3 rolled out', async () => {
    const d = await getJson(['deployment', 'hist']);
    return d.spec.template.spec.containers[0].image === 'busybox:3' && d.status.updatedReplicas === 1 && d.status.availableReplicas === 1 && d.status.replicas === 1;
  });
  const pods = (await getJson(['pods', '-l', 'app=hist'])).items.filter((p: any) => !p.metadata.deletionTimestamp);
  assert.deepEqual(
    pods.map((p: any) => p.spec.containers[0].image),
    ['busybox:3'],
  );
});

test('garbage collector: any kind owned by a pod goes with it; a dependent whose owner never existed is collected; orphan keeps dependents and drops the reference', async () => {
  await srv.kubectl(['apply', '-f', '-'], { input: podManifest('owner', { cpu: '10m', memory: '8Mi' }, { pool: 'deploy' }) });
  const owner = await getJson(['pod', 'owner']);
  const ownedBy = (name: string, uid: string, ownerName = 'owner') =>
    JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: ownerName, uid }] }, data: { k: 'v' } });
  await srv.kubectl(['apply', '-f', '-'], { input: ownedBy('dep-of-owner', owner.metadata.uid) });
  await srv.kubectl(['apply', '-f', '-'], { input: ownedBy('dep-of-nobody', '00000000-0000-0000-0000-000000000000', 'ghost') });
  await waitFor('dependent of a missing owner collected', async () => (await srv.kubectl(['-n', ns, 'get', 'configmap', 'dep-of-nobody'], { allowFailure: true })).code !== 0);
  assert.equal((await getJson(['configmap', 'dep-of-owner'])).data.k, 'v', 'a dependent of a live owner stays');
  await srv.kubectl(['-n', ns, 'delete', 'pod', 'owner', '--wait=true']);
  await waitFor('dependent collected after its owner', async () => (await srv.kubectl(['-n', ns, 'get', 'configmap', 'dep-of-owner'], { allowFailure: true })).code !== 0);

  await srv.kubectl(['apply', '-f', '-'], { input: podManifest('owner2', { cpu: '10m', memory: '8Mi' }, { pool: 'deploy' }) });
  const owner2 = await getJson(['pod', 'owner2']);
  await srv.kubectl(['apply', '-f', '-'], { input: ownedBy('kept', owner2.metadata.uid, 'owner2') });
  await srv.kubectl(['-n', ns, 'delete', 'pod', 'owner2', '--cascade=orphan', '--wait=true']);
  const kept = await waitFor('orphaned dependent without the owner reference', async () => {
    const cm = await getJson(['configmap', 'kept']);
    return (cm.metadata.ownerReferences ?? []).length === 0 ? cm : undefined;
  });
  assert.equal(kept.data.k, 'v');
});
