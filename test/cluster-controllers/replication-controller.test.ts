// ReplicationController (v1) and apiregistration.k8s.io/v1 APIService, which
// the Kubernetes Python client's e2e suite creates, against a real `tug
// server` through kubectl: the RC's selector and labels default from its
// template, its controller keeps spec.replicas pods owned by it and follows
// `kubectl scale`; a local APIService is stored and reads back Available.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../cluster/test-server.js';
import { until } from '../helpers/until.js';

let srv: TestServer;

before(async () => {
  srv = await startTestServer();
});
after(async () => {
  await srv?.stop();
});

/** Polls fn (bounded by count, not by a timing threshold on success). */

const ownedPods = async (rcUid: string): Promise<any[]> => {
  const pods = JSON.parse((await srv.kubectl(['get', 'pods', '-o', 'json'])).stdout).items as any[];
  return pods.filter((p) => !p.metadata.deletionTimestamp && p.metadata.ownerReferences?.some((r: any) => r.uid === rcUid && r.kind === 'ReplicationController' && r.apiVersion === 'v1' && r.controller));
};

test('a ReplicationController defaults its selector, keeps its replicas and follows kubectl scale', async () => {
  const rc = {
    apiVersion: 'v1',
    kind: 'ReplicationController',
    metadata: { name: 'frontend' },
    spec: { replicas: 2, template: { metadata: { labels: { app: 'frontend' } }, spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] } } },
  };
  await srv.kubectl(['apply', '-f', '-'], { input: JSON.stringify(rc) });
  const got = JSON.parse((await srv.kubectl(['get', 'rc', 'frontend', '-o', 'json'])).stdout);
  assert.deepEqual(got.spec.selector, { app: 'frontend' });
  assert.deepEqual(got.metadata.labels, { app: 'frontend' });
  await until('two pods owned by the RC', async () => (await ownedPods(got.metadata.uid)).length === 2);
  await until('status.replicas 2', async () => JSON.parse((await srv.kubectl(['get', 'rc', 'frontend', '-o', 'json'])).stdout).status?.replicas === 2);
  await srv.kubectl(['scale', 'rc', 'frontend', '--replicas=1']);
  await until('one pod owned by the RC', async () => (await ownedPods(got.metadata.uid)).length === 1);
  const table = (await srv.kubectl(['get', 'replicationcontrollers'])).stdout;
  assert.match(table, /^NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE\n/);
  assert.match(table, /\nfrontend\s+1\s+/);
  const bad = await srv.kubectl(['create', '-f', '-'], { input: JSON.stringify({ ...rc, metadata: { name: 'bad' }, spec: { ...rc.spec, selector: { app: 'other' } } }), allowFailure: true });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /`selector` does not match template `labels`/);
  // The garbage collector follows the v1 ownerReference: deleting the RC takes its pod.
  await srv.kubectl(['delete', 'rc', 'frontend']);
  await until('the RC\'s pods to go', async () => (await ownedPods(got.metadata.uid)).length === 0);
});

test('a local APIService is stored and reads back Available; a misnamed one is refused', async () => {
  const svc = { apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: 'v1alpha1.example.tug.dev' }, spec: { group: 'example.tug.dev', version: 'v1alpha1', groupPriorityMinimum: 1000, versionPriority: 15 } };
  await srv.kubectl(['apply', '-f', '-'], { input: JSON.stringify(svc) });
  const got = JSON.parse((await srv.kubectl(['get', 'apiservice', 'v1alpha1.example.tug.dev', '-o', 'json'])).stdout);
  assert.equal(got.status.conditions[0].type, 'Available');
  assert.equal(got.status.conditions[0].status, 'True');
  assert.match((await srv.kubectl(['get', 'apiservices'])).stdout, /v1alpha1\.example\.tug\.dev\s+Local\s+True/);
  const bad = await srv.kubectl(['create', '-f', '-'], { input: JSON.stringify({ ...svc, metadata: { name: 'wrong' } }), allowFailure: true });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /must be `spec.version\+"."\+spec.group`/);
  await srv.kubectl(['delete', 'apiservice', 'v1alpha1.example.tug.dev']);
});
