// The node authorizer's graph (node-pod-graph.ts) against a real API server:
// it learns from its list and watch which node's pods use which Secrets,
// ConfigMaps, claims and ServiceAccount, follows a pod that is bound later,
// and forgets a pod that is deleted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, suffix, type TestServer } from './test-server.js';
import { KubeClient } from '../../src/kube/client/kube-client.js';
import { NodePodGraph } from '../../src/apiserver/node-pod-graph.js';
import { until } from '../helpers/until.js';

let srv: TestServer;
let client: KubeClient;
let graph: NodePodGraph;
const ns = `graph-${suffix()}`;
const node = `graph-node-${suffix()}`;

const podYaml = (name: string, nodeName?: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}}
spec:
  ${nodeName ? `nodeName: ${nodeName}` : 'schedulerName: nobody'}
  serviceAccountName: runner
  imagePullSecrets: [{name: pull-${name}}]
  containers:
  - name: c
    image: busybox
    env: [{name: A, valueFrom: {configMapKeyRef: {name: cm-${name}, key: k}}}]
    envFrom: [{secretRef: {name: env-${name}}}]
  volumes:
  - {name: data, persistentVolumeClaim: {claimName: claim-${name}}}
`;

before(async () => {
  srv = await startTestServer();
  await srv.kubectl(['create', 'namespace', ns]);
  await srv.kubectl(['-n', ns, 'create', 'serviceaccount', 'runner']);
  // One pod bound before the graph starts: it comes from the first list.
  await srv.kubectl(['apply', '-f', '-'], { input: podYaml('listed', node) });
  client = await KubeClient.fromKubeconfig(srv.kubeconfig);
  graph = new NodePodGraph(client);
  await graph.start();
});

after(async () => {
  graph?.stop();
  client?.close();
  await srv?.stop();
});

test('the first list gives each node its pods and what they name', () => {
  const refs = graph.podsOn(node, ns);
  assert.equal(refs?.length, 1);
  assert.deepEqual([...refs![0]!.secrets].sort(), ['env-listed', 'pull-listed']);
  // kube-root-ca.crt: the projected ServiceAccount token volume admission adds.
  assert.deepEqual([...refs![0]!.configMaps].sort(), ['cm-listed', 'kube-root-ca.crt']);
  assert.deepEqual([...refs![0]!.claims], ['claim-listed']);
  assert.equal(refs![0]!.serviceAccount, 'runner');
  assert.deepEqual(graph.podsOn(node, 'default'), [], 'another namespace of the same node');
  assert.deepEqual(graph.podsOn(`other-${node}`, ns), [], 'another node');
  assert.deepEqual(graph.claimsOn(node), [{ namespace: ns, claim: 'claim-listed' }]);
});

test('a pod created unbound joins its node when it is bound, and leaves when deleted', async () => {
  await srv.kubectl(['apply', '-f', '-'], { input: podYaml('later') });
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(graph.podsOn(node, ns)?.length, 1, 'an unbound pod belongs to no node');
  const binding = JSON.stringify({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'later' }, target: { kind: 'Node', name: node } });
  const bound = await srv.http('POST', `/api/v1/namespaces/${ns}/pods/later/binding`, { body: binding, headers: { 'content-type': 'application/json' } });
  assert.equal(bound.status, 201, bound.body);
  await until('the bound pod in the graph', async () => graph.podsOn(node, ns)?.some((r) => r.configMaps.has('cm-later')));
  await srv.kubectl(['-n', ns, 'delete', 'pod', 'listed', '--grace-period=0', '--force']);
  await until('the deleted pod gone from the graph', async () => !graph.podsOn(node, ns)?.some((r) => r.configMaps.has('cm-listed')));
  assert.deepEqual(graph.claimsOn(node), [{ namespace: ns, claim: 'claim-later' }]);
});
