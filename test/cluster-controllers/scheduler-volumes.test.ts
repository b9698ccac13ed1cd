// The scheduler's volume binding inside a real `tug server --no-agent` against
// fake nodes: a bound volume's node affinity decides the node; a
// WaitForFirstConsumer claim is bound to a static volume on the node chosen
// (the scheduler pre-binds it, the PV controller completes it) before the pod
// is bound; local-path needs a node whose agent keeps local-path volumes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../cluster/test-server.js';
import { FakeKubelet, nodeObject, waitFor } from './fake-kubelet.js';

let srv: TestServer;
let kubelet: FakeKubelet;
const ns = `vols-${Math.random().toString(36).slice(2, 8)}`;

before(async () => {
  srv = await startTestServer();
  kubelet = await FakeKubelet.start(srv.kubeconfig);
  for (const n of ['vol-a', 'vol-b']) await kubelet.addNode(nodeObject(n));
  await srv.kubectl(['create', 'namespace', ns]);
});

after(async () => {
  kubelet?.stop();
  await srv?.stop();
});

const apply = (...objs: object[]) => srv.kubectl(['apply', '-n', ns, '-f', '-'], { input: objs.map((o) => JSON.stringify(o)).join('\n') });
const get = async (kind: string, name: string, inNs = true) => JSON.parse((await srv.kubectl(['get', kind, name, ...(inNs ? ['-n', ns] : []), '-o', 'json'])).stdout);
const onNode = (host: string) => ({ required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [host] }] }] } });
const pv = (name: string, cls: string, host: string, storage = '1Gi') => ({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name }, spec: { storageClassName: cls, capacity: { storage }, accessModes: ['ReadWriteOnce'], local: { path: '/mnt/disk' }, nodeAffinity: onNode(host) } });
const pvc = (name: string, cls: string) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name }, spec: { storageClassName: cls, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '500Mi' } } } });
const pod = (name: string, claim: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }], volumes: [{ name: 'd', persistentVolumeClaim: { claimName: claim } }] } });
const nodeOf = (name: string) => waitFor(`pod ${name} bound`, async () => (await get('pod', name)).spec.nodeName as string | undefined);

test('a WaitForFirstConsumer claim gets the static volume of the node chosen, and the pod goes where its volume is', async () => {
  const cls = `local-${ns}`;
  await srv.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: cls }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' }) });
  await srv.kubectl(['apply', '-f', '-'], { input: JSON.stringify(pv(`disk-b-${ns}`, cls, 'vol-b')) });
  await apply(pvc('wffc', cls));
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal((await get('pvc', 'wffc')).status.phase, 'Pending', 'not bound before a pod uses it');
  await apply(pod('first', 'wffc'));
  await new Promise((r) => setTimeout(r, 3000));
  console.log(JSON.stringify((await get('pod', 'first')).status), JSON.stringify(await get('pvc', 'wffc')), JSON.stringify(await get('pv', `disk-b-${ns}`, false)), (await srv.kubectl(['get', 'events', '-n', ns])).stdout);
  assert.equal(await nodeOf('first'), 'vol-b');
  const claim = await get('pvc', 'wffc');
  assert.equal(claim.status.phase, 'Bound', 'the claim was Bound before the pod was bound');
  assert.equal(claim.spec.volumeName, `disk-b-${ns}`);
  // A second pod with the bound claim goes to the same node (the volume's node affinity).
  await apply(pod('second', 'wffc'));
  assert.equal(await nodeOf('second'), 'vol-b');
});

test('no volume and no provisioner for the node: the pod stays Pending and says why', async () => {
  // local-path needs a tug agent's directory: fake nodes have none.
  await apply(pvc('nowhere', 'local-path'), pod('stuck', 'nowhere'));
  const msg = await waitFor('unschedulable', async () => {
    const c = ((await get('pod', 'stuck')).status?.conditions ?? []).find((x: any) => x.type === 'PodScheduled');
    return c?.status === 'False' ? (c.message as string) : undefined;
  });
  assert.equal(msg, "0/2 nodes are available: 2 node(s) didn't find available persistent volumes to bind.");
  assert.equal((await get('pvc', 'nowhere')).status.phase, 'Pending');
});

test('a volume bound to a claim pins its pods to the nodes of its affinity', async () => {
  await srv.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ ...pv(`pinned-${ns}`, 'manual', 'vol-gone'), spec: { ...pv(`pinned-${ns}`, 'manual', 'vol-gone').spec, claimRef: { namespace: ns, name: 'pinned' } } }) });
  await apply(pvc('pinned', 'manual'));
  await waitFor('pinned Bound', async () => (await get('pvc', 'pinned')).status.phase === 'Bound');
  await apply(pod('pinned-pod', 'pinned'));
  const msg = await waitFor('unschedulable', async () => {
    const c = ((await get('pod', 'pinned-pod')).status?.conditions ?? []).find((x: any) => x.type === 'PodScheduled');
    return c?.status === 'False' ? (c.message as string) : undefined;
  });
  assert.equal(msg, '0/2 nodes are available: 2 node(s) had volume node affinity conflict.');
});
