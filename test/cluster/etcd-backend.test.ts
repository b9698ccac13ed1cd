// The same API server on the etcd backend: a real etcd (Debian etcd-server) on
// loopback ports of its own, `tug server --store etcd`, kubectl on top.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { request } from 'node:http';
import { startTestServer, suffix, type TestServer } from './test-server.js';

let etcd: ChildProcess | undefined;
let etcdDir = '';
let srv: TestServer | undefined;

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

async function etcdHealthy(url: string): Promise<boolean> {
  return new Promise((res) => {
    const req = request(`${url}/health`, (r) => {
      let body = '';
      r.on('data', (b: Buffer) => (body += b.toString()));
      r.on('end', () => res(r.statusCode === 200 && body.includes('true')));
    });
    req.on('error', () => res(false));
    req.end();
  });
}

before(async () => {
  etcdDir = await mkdtemp(join(tmpdir(), 'tug-etcd-test-'));
  const [client, peer] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${client}`;
  etcd = spawn('etcd', ['--name', 'default', '--data-dir', join(etcdDir, 'data'), '--listen-client-urls', url, '--advertise-client-urls', url, '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`, '--initial-cluster', `default=http://127.0.0.1:${peer}`], { stdio: 'ignore' });
  // Wait (bounded) for etcd to answer its health endpoint.
  let healthy = false;
  for (let i = 0; i < 300 && !(healthy = await etcdHealthy(url)); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(healthy, 'etcd did not become healthy');
  srv = await startTestServer({ store: ['--store', 'etcd', '--etcd-endpoints', url, '--etcd-prefix', `/tug-${suffix()}`] });
});

after(async () => {
  await srv?.stop();
  if (etcd && etcd.exitCode === null) {
    const exited = new Promise((r) => etcd!.once('exit', r));
    etcd.kill('SIGTERM');
    await exited;
  }
  await rm(etcdDir, { recursive: true, force: true });
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
