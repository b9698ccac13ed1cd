// HA: two `tug server --no-agent` processes, each with its own data dir, on one
// 3-member etcd cluster. Clients of either server share credentials (one CA,
// one admin cert/token); writes, watches and conflicts are cluster-wide; and
// the second server keeps serving after the first stops.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startEtcd, type EtcdCluster } from '../cluster-storage/etcd-harness.js';
import { startTestServer, suffix, type TestServer } from '../cluster/test-server.js';

let etcd: EtcdCluster | undefined;
let a: TestServer | undefined;
let b: TestServer | undefined;

before(async () => {
  etcd = await startEtcd(3);
  const store = ['--store', 'etcd', '--etcd-endpoints', etcd.endpoints.join(','), '--etcd-prefix', `/tug-ha-${suffix()}`];
  a = await startTestServer({ store });
  b = await startTestServer({ store });
});

after(async () => {
  await a?.stop();
  await b?.stop();
  await etcd?.stop();
});

test('both servers share one cluster CA and admin credentials', async () => {
  const [caA, caB] = await Promise.all([readFile(join(a!.dataDir, 'pki', 'ca.crt'), 'utf8'), readFile(join(b!.dataDir, 'pki', 'ca.crt'), 'utf8')]);
  assert.equal(caA, caB);
  // A's kubeconfig (A's admin cert) works against B's URL.
  const r = await b!.kubectl(['--kubeconfig', a!.kubeconfig, '--server', b!.url, 'get', 'ns', 'default', '-o', 'name']);
  assert.equal(r.stdout.trim(), 'namespace/default');
  // A's bearer token works on B.
  assert.equal((await b!.http('GET', '/api/v1/namespaces/default')).status, 200);
  const tokA = (await readFile(join(a!.dataDir, 'tokens.csv'), 'utf8')).split(',')[0];
  const tokB = (await readFile(join(b!.dataDir, 'tokens.csv'), 'utf8')).split(',')[0];
  assert.equal(tokA, tokB);
});

test('apply through A is visible through B; a watch on B sees a write through A', async () => {
  const ns = `ha-${suffix()}`;
  await a!.kubectl(['create', 'namespace', ns]);
  await a!.kubectl(['apply', '-f', '-'], { input: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: one, namespace: ${ns}}\ndata: {k: v1}\n` });
  const got = JSON.parse((await b!.kubectl(['-n', ns, 'get', 'cm', 'one', '-o', 'json'])).stdout);
  assert.equal(got.data.k, 'v1');

  const watcher = spawn('kubectl', ['-n', ns, 'get', 'cm', '-w', '--output-watch-events', '-o', 'custom-columns=EVENT:.type,NAME:.object.metadata.name,K:.object.data.k', '--no-headers'], { env: b!.kubectlEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let seen = '';
  const sawWrite = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`watch on B never saw the write through A; got: ${seen}`)), 60_000);
    watcher.stdout!.on('data', (d: Buffer) => {
      seen += d.toString();
      if (/MODIFIED\s+one\s+v2/.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  try {
    // Wait until the watch has delivered its initial ADDED, so the patch is a later event.
    for (let i = 0; i < 300 && !/ADDED\s+one/.test(seen); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(seen, /ADDED\s+one\s+v1/);
    await a!.kubectl(['-n', ns, 'patch', 'cm', 'one', '-p', '{"data":{"k":"v2"}}']);
    await sawWrite;
  } finally {
    const exited = new Promise((r) => watcher.once('exit', r));
    if (watcher.exitCode === null) watcher.kill('SIGTERM');
    await exited;
  }
  await a!.kubectl(['delete', 'namespace', ns, '--wait=false']);
});

test('an update through B with a stale resourceVersion read through A gets 409', async () => {
  const ns = 'default';
  const name = `stale-${suffix()}`;
  await a!.kubectl(['-n', ns, 'create', 'configmap', name, '--from-literal=k=1']);
  const stale = JSON.parse((await a!.http('GET', `/api/v1/namespaces/${ns}/configmaps/${name}`)).body);
  const fresh = await b!.http('PATCH', `/api/v1/namespaces/${ns}/configmaps/${name}`, { body: '{"data":{"k":"2"}}', headers: { 'Content-Type': 'application/merge-patch+json' } });
  assert.equal(fresh.status, 200);
  stale.data.k = '3';
  const put = await b!.http('PUT', `/api/v1/namespaces/${ns}/configmaps/${name}`, { body: JSON.stringify(stale), headers: { 'Content-Type': 'application/json' } });
  assert.equal(put.status, 409, put.body);
  assert.equal(JSON.parse(put.body).reason, 'Conflict');
  await b!.kubectl(['-n', ns, 'delete', 'cm', name]);
});

test('after A stops, B keeps serving reads and writes', async () => {
  await a!.stop();
  const name = `after-${suffix()}`;
  await b!.kubectl(['-n', 'default', 'create', 'configmap', name, '--from-literal=k=x']);
  const got = JSON.parse((await b!.kubectl(['-n', 'default', 'get', 'cm', name, '-o', 'json'])).stdout);
  assert.equal(got.data.k, 'x');
  await b!.kubectl(['-n', 'default', 'delete', 'cm', name]);
});
