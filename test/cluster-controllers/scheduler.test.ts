// The scheduler inside a real `tug server --no-agent`, against fake nodes:
// each filter is honoured, an unschedulable pod says why per filter (condition
// and Event), and it is scheduled once a node that fits appears.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../cluster/test-server.js';
import { FakeKubelet, nodeObject, waitFor } from './fake-kubelet.js';

let srv: TestServer;
let kubelet: FakeKubelet;
const ns = `sched-${Math.random().toString(36).slice(2, 8)}`;
const gpuToleration = [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }];

before(async () => {
  srv = await startTestServer();
  kubelet = await FakeKubelet.start(srv.kubeconfig);
  await kubelet.addNode(nodeObject('node-a', { cpu: '2', labels: { zone: 'a' } }));
  await kubelet.addNode(nodeObject('node-b', { cpu: '2', labels: { zone: 'b' }, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }));
  await kubelet.addNode(nodeObject('node-c', { cpu: '2', labels: { zone: 'c' }, unschedulable: true }));
  await srv.kubectl(['create', 'namespace', ns]);
});

after(async () => {
  kubelet?.stop();
  await srv?.stop();
});

async function createPod(name: string, spec: Record<string, unknown>, labels: Record<string, string> = {}): Promise<void> {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec } };
  await srv.kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod) });
}

async function pod(name: string): Promise<any> {
  return JSON.parse((await srv.kubectl(['get', 'pod', '-n', ns, name, '-o', 'json'])).stdout);
}

const nodeOf = (name: string) => waitFor(`pod ${name} bound`, async () => (await pod(name)).spec.nodeName as string | undefined);

async function unschedulableMessage(name: string): Promise<string> {
  return waitFor(`pod ${name} marked unschedulable`, async () => {
    const c = ((await pod(name)).status?.conditions ?? []).find((x: any) => x.type === 'PodScheduled');
    return c?.status === 'False' && c.reason === 'Unschedulable' ? (c.message as string) : undefined;
  });
}

test('a pod that fits nowhere stays Pending with the reason of each node, as a condition and an Event', async () => {
  await createPod('big', { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '3' } } }] });
  const msg = await unschedulableMessage('big');
  assert.equal(msg, '0/3 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) were unschedulable.');
  const events = await waitFor('FailedScheduling event', async () => {
    const out = (await srv.kubectl(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=big', '-o', 'json'])).stdout;
    const items = JSON.parse(out).items.filter((e: any) => e.reason === 'FailedScheduling');
    return items.length ? items : undefined;
  });
  assert.equal(events[0].type, 'Warning');
  assert.equal(events[0].message, msg);
  assert.equal((await pod('big')).status.phase ?? 'Pending', 'Pending');
});

test('nodeSelector and tolerations: a tolerating pod goes to the tainted node, one without the toleration does not', async () => {
  await createPod('tolerant', { nodeSelector: { zone: 'b' }, tolerations: gpuToleration });
  assert.equal(await nodeOf('tolerant'), 'node-b');
  await createPod('intolerant', { nodeSelector: { zone: 'b' } });
  assert.equal(await unschedulableMessage('intolerant'), "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) were unschedulable.");
});

test('node affinity: required terms filter, preferred terms win the score', async () => {
  const notA = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }] } } };
  await createPod('not-a', { affinity: notA, tolerations: gpuToleration });
  assert.equal(await nodeOf('not-a'), 'node-b');
  const preferA = { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } }] } };
  await createPod('prefer-a', { affinity: preferA, tolerations: gpuToleration });
  assert.equal(await nodeOf('prefer-a'), 'node-a');
});

test('pod anti-affinity spreads pods over hostnames and refuses a third; pod affinity follows a pod into its zone', async () => {
  const anti = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'anti' } }, topologyKey: 'kubernetes.io/hostname' }] } };
  await createPod('anti-1', { affinity: anti, tolerations: gpuToleration }, { app: 'anti' });
  const first = await nodeOf('anti-1');
  await createPod('anti-2', { affinity: anti, tolerations: gpuToleration }, { app: 'anti' });
  const second = await nodeOf('anti-2');
  assert.notEqual(first, second);
  assert.deepEqual([first, second].sort(), ['node-a', 'node-b']);
  await createPod('anti-3', { affinity: anti, tolerations: gpuToleration }, { app: 'anti' });
  assert.match(await unschedulableMessage('anti-3'), /2 node\(s\) didn't match pod anti-affinity rules/);
  const follow = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'anti' } }, topologyKey: 'zone' }] } };
  // Only node-a can take it: node-b is tainted for it, and a pod it selects runs on node-a.
  await createPod('follower', { affinity: follow }, { app: 'follower' });
  assert.equal(await nodeOf('follower'), 'node-a');
  await srv.kubectl(['delete', 'pod', '-n', ns, 'anti-3', '--wait=false']);
});

test('topology spread constraints keep zones within maxSkew', async () => {
  const zonesAB = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }] } } };
  const spread = [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'spread' } } }];
  const placed: string[] = [];
  for (let i = 0; i < 4; i++) {
    await createPod(`spread-${i}`, { affinity: zonesAB, tolerations: gpuToleration, topologySpreadConstraints: spread }, { app: 'spread' });
    placed.push(await nodeOf(`spread-${i}`));
    const a = placed.filter((n) => n === 'node-a').length;
    assert.ok(Math.abs(a - (placed.length - a)) <= 1, `skew over 1 after ${placed.length} pods: ${placed.join(',')}`);
  }
  assert.equal(placed.filter((n) => n === 'node-a').length, 2);
});

test('a pending pod is scheduled once a node that fits joins', async () => {
  await kubelet.addNode(nodeObject('node-d', { cpu: '4', labels: { zone: 'd' } }));
  assert.equal(await nodeOf('big'), 'node-d');
  const cond = ((await pod('big')).status?.conditions ?? []).find((x: any) => x.type === 'PodScheduled');
  assert.equal(cond?.status, 'True');
});
