// Endpoints and EndpointSlices follow pod readiness; every namespace gets the
// kube-root-ca.crt ConfigMap and the default ServiceAccount.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../cluster/test-server.js';
import { FakeKubelet, nodeObject, waitFor } from './fake-kubelet.js';

let srv: TestServer;
let kubelet: FakeKubelet;
const ns = `ep-${Math.random().toString(36).slice(2, 8)}`;

before(async () => {
  srv = await startTestServer();
  kubelet = await FakeKubelet.start(srv.kubeconfig);
  await kubelet.addNode(nodeObject('node-1'));
  await srv.kubectl(['create', 'namespace', ns]);
});

after(async () => {
  kubelet?.stop();
  await srv?.stop();
});

async function getJson(args: string[]): Promise<any> {
  return JSON.parse((await srv.kubectl(['get', '-n', ns, ...args, '-o', 'json'])).stdout);
}

function pod(name: string, ready: boolean): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { app: 'api' }, annotations: { 'fake-kubelet/ready': String(ready) } },
    spec: { containers: [{ name: 'c', image: 'busybox', ports: [{ name: 'http', containerPort: 8080 }] }] },
  });
}

test('Endpoints and EndpointSlices list ready pods as addresses and the others as not ready, with named target ports', async () => {
  const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: ns }, spec: { selector: { app: 'api' }, ports: [{ name: 'web', port: 80, targetPort: 'http' }, { name: 'raw', port: 9000, targetPort: 9001 }] } };
  await srv.kubectl(['apply', '-f', '-'], { input: JSON.stringify(svc) });
  await srv.kubectl(['apply', '-f', '-'], { input: pod('api-ready', true) });
  await srv.kubectl(['apply', '-f', '-'], { input: pod('api-waiting', false) });
  const ep = await waitFor('endpoints with one ready and one not ready', async () => {
    const e = await getJson(['endpoints', 'api']);
    const s = e.subsets?.[0];
    return s?.addresses?.length === 1 && s?.notReadyAddresses?.length === 1 ? e : undefined;
  });
  const s = ep.subsets[0];
  assert.equal(s.addresses[0].targetRef.name, 'api-ready');
  assert.equal(s.notReadyAddresses[0].targetRef.name, 'api-waiting');
  assert.equal(s.addresses[0].nodeName, 'node-1');
  assert.deepEqual(
    s.ports.map((p: any) => `${p.name}:${p.port}`).sort(),
    ['raw:9001', 'web:8080'],
  );
  const slices = await waitFor('one EndpointSlice with both pods', async () => {
    const l = (await getJson(['endpointslices', '-l', 'kubernetes.io/service-name=api'])).items;
    return l.length === 1 && l[0].endpoints?.length === 2 ? l : undefined;
  });
  const byPod = new Map(slices[0].endpoints.map((e: any) => [e.targetRef.name, e.conditions]));
  assert.deepEqual(byPod.get('api-ready'), { ready: true, serving: true, terminating: false });
  assert.deepEqual(byPod.get('api-waiting'), { ready: false, serving: false, terminating: false });
  assert.equal(slices[0].addressType, 'IPv4');
  assert.equal(slices[0].metadata.ownerReferences[0].kind, 'Service');

  // Readiness flips: the waiting pod becomes ready, the ready one is deleted.
  await srv.kubectl(['annotate', 'pod', '-n', ns, 'api-waiting', 'fake-kubelet/ready=true', '--overwrite']);
  await srv.kubectl(['delete', 'pod', '-n', ns, 'api-ready', '--wait=false']);
  await waitFor('endpoints follow readiness', async () => {
    const e = await getJson(['endpoints', 'api']);
    const sub = e.subsets?.[0];
    return sub?.addresses?.length === 1 && sub.addresses[0].targetRef.name === 'api-waiting' && !sub.notReadyAddresses ? e : undefined;
  });
  await waitFor('slice follows readiness', async () => {
    const l = (await getJson(['endpointslices', '-l', 'kubernetes.io/service-name=api'])).items;
    return l.length === 1 && l[0].endpoints?.length === 1 && l[0].endpoints[0].conditions.ready === true;
  });
  // The Service goes: so does its EndpointSlice (ownerReference).
  await srv.kubectl(['delete', 'service', '-n', ns, 'api']);
  await waitFor('slice collected', async () => (await getJson(['endpointslices', '-l', 'kubernetes.io/service-name=api'])).items.length === 0);
  await waitFor('endpoints removed', async () => (await srv.kubectl(['get', '-n', ns, 'endpoints', 'api'], { allowFailure: true })).code !== 0);
});

test('every namespace gets the kube-root-ca.crt ConfigMap with the cluster CA, restored if deleted', async () => {
  const ca = await readFile(join(srv.dataDir, 'pki', 'ca.crt'), 'utf8');
  const cm = await waitFor('kube-root-ca.crt', async () => getJson(['configmap', 'kube-root-ca.crt']));
  assert.equal(cm.data['ca.crt'], ca);
  await srv.kubectl(['delete', 'configmap', '-n', ns, 'kube-root-ca.crt']);
  const again = await waitFor('kube-root-ca.crt restored', async () => getJson(['configmap', 'kube-root-ca.crt']));
  assert.notEqual(again.metadata.uid, cm.metadata.uid);
  const sa = await waitFor('default ServiceAccount', async () => getJson(['serviceaccount', 'default']));
  assert.equal(sa.metadata.name, 'default');
});
