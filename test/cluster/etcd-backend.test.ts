// The same API server on the etcd backend: a real etcd (Debian etcd-server) on
// loopback ports of its own, `tug server --store etcd`, kubectl on top.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type EtcdCluster } from '../cluster-storage/etcd-harness.js';
import { startTestServer, suffix, type TestServer } from './test-server.js';

let etcd: EtcdCluster | undefined;
let srv: TestServer | undefined;

before(async () => {
  etcd = await startEtcd();
  srv = await startTestServer({ store: ['--store', 'etcd', '--etcd-endpoints', etcd.endpoints[0], '--etcd-prefix', `/tug-${suffix()}`] });
});

after(async () => {
  await srv?.stop();
  await etcd?.stop();
});

test('on etcd: apply, get, patch, scale, watch-backed wait and cascading delete work as on SQLite', async () => {
  const s = srv!;
  const ns = `etcd-${suffix()}`;
  await s.kubectl(['create', 'namespace', ns]);
  const yaml = `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: ${ns}}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: c, image: nginx:1.25}]\n`;
  assert.match((await s.kubectl(['apply', '-f', '-'], { input: yaml })).stdout, /deployment.apps\/web created/);
  await s.kubectl(['-n', ns, 'scale', 'deploy', 'web', '--replicas=3']);
  await s.kubectl(['-n', ns, 'patch', 'deploy', 'web', '--type', 'merge', '-p', '{"metadata":{"labels":{"x":"y"}}}']);
  const d = JSON.parse((await s.kubectl(['-n', ns, 'get', 'deploy', 'web', '-o', 'json'])).stdout);
  assert.equal(d.spec.replicas, 3);
  assert.equal(d.metadata.labels.x, 'y');
  assert.match((await s.kubectl(['-n', ns, 'get', 'deploy'])).stdout, /^web\s+0\/3\s+\d+\s+0\s+/m);
  await s.kubectl(['delete', 'namespace', ns, '--timeout=60s']);
  assert.match((await s.kubectl(['get', 'namespace', ns], { allowFailure: true })).stderr, /NotFound/);
});
