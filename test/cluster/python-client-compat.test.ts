// What the Kubernetes Python client's e2e suite found, against a real `tug server`:
// boolean query parameters spelled as Python spells them (watch=True), Status
// bodies byte for byte as kube-apiserver writes them, a DaemonSet's counters,
// a replace that sends creationTimestamp back in another time format, and the
// order a strategic merge patch gives new list items (through kubectl patch).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './test-server.js';

let srv: TestServer;

before(async () => {
  srv = await startTestServer();
});
after(async () => {
  await srv?.stop();
});

const json = (body: string): any => JSON.parse(body);

test('watch=True (as the Python client sends it) opens a watch, and watch=False lists', async () => {
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'watched' }, data: { a: '1' } };
  assert.equal((await srv.http('POST', '/api/v1/namespaces/default/configmaps', { body: JSON.stringify(cm), headers: { 'content-type': 'application/json' } })).status, 201);
  for (const spelling of ['True', 'TRUE', 't', '1']) {
    const r = await srv.http('GET', `/api/v1/namespaces/default/configmaps?watch=${spelling}&allowWatchBookmarks=True&timeoutSeconds=1`);
    assert.equal(r.status, 200, r.body);
    const events = r.body.trim().split('\n').map(json);
    assert.ok(events.some((e) => e.type === 'ADDED' && e.object.metadata.name === 'watched'), `watch=${spelling}: ${r.body}`);
  }
  for (const spelling of ['False', 'false', '0']) {
    const r = await srv.http('GET', `/api/v1/namespaces/default/configmaps?watch=${spelling}`);
    assert.equal(json(r.body).kind, 'ConfigMapList', `watch=${spelling}`);
  }
});

test('error Status bodies have kube-apiserver field order and end with a newline', async () => {
  const r = await srv.http('GET', '/api/v1/namespaces/default/configmaps/nope');
  assert.equal(r.status, 404);
  assert.equal(r.body, '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"configmaps \\"nope\\" not found","reason":"NotFound","details":{"name":"nope","kind":"configmaps"},"code":404}\n');
  const ok = await srv.http('GET', '/api/v1/namespaces/default');
  assert.ok(ok.body.endsWith('}\n'), 'objects end with a newline too');
});

test('a new DaemonSet reads back with its four status counters at 0', async () => {
  const ds = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'ds' },
    spec: { selector: { matchLabels: { app: 'ds' } }, template: { metadata: { labels: { app: 'ds' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
  };
  const r = await srv.http('POST', '/apis/apps/v1/namespaces/default/daemonsets', { body: JSON.stringify(ds), headers: { 'content-type': 'application/json' } });
  assert.equal(r.status, 201, r.body);
  assert.deepEqual(json(r.body).status, { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 });
});

test('replace and patch ignore a creationTimestamp sent back in another time format', async () => {
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'stamped' }, data: { a: '1' } };
  const created = json((await srv.http('POST', '/api/v1/namespaces/default/configmaps', { body: JSON.stringify(cm), headers: { 'content-type': 'application/json' } })).body);
  const ts: string = created.metadata.creationTimestamp;
  // Python's datetime.isoformat(): "+00:00" where Kubernetes wrote "Z".
  const pyTs = ts.replace('Z', '+00:00');
  const put = await srv.http('PUT', '/api/v1/namespaces/default/configmaps/stamped', {
    body: JSON.stringify({ ...created, metadata: { ...created.metadata, creationTimestamp: pyTs }, data: { a: '2' } }),
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(put.status, 200, put.body);
  assert.equal(json(put.body).metadata.creationTimestamp, ts);
  const patch = await srv.http('PATCH', '/api/v1/namespaces/default/configmaps/stamped', {
    body: JSON.stringify({ metadata: { creationTimestamp: '2001-01-01T00:00:00+00:00' }, data: { a: '3' } }),
    headers: { 'content-type': 'application/strategic-merge-patch+json' },
  });
  assert.equal(patch.status, 200, patch.body);
  assert.equal(json(patch.body).metadata.creationTimestamp, ts);
  assert.equal(json(patch.body).data.a, '3');
});

test('kubectl patch puts a new env entry before the existing ones, as Kubernetes does', async () => {
  const dep = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'envy' },
    spec: { replicas: 0, selector: { matchLabels: { app: 'envy' } }, template: { metadata: { labels: { app: 'envy' } }, spec: { containers: [{ name: 'c', image: 'busybox', env: [{ name: 'TOKEN', value: 't' }] }] } } },
  };
  await srv.kubectl(['apply', '-f', '-'], { input: JSON.stringify(dep) });
  await srv.kubectl(['patch', 'deployment', 'envy', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"c","env":[{"name":"X","value":"x"}]}]}}}}']);
  const r = await srv.kubectl(['get', 'deployment', 'envy', '-o', 'jsonpath={.spec.template.spec.containers[0].env[*].name}']);
  assert.equal(r.stdout.trim(), 'X TOKEN');
});
