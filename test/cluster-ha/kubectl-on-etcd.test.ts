// CI coverage of the etcd backend: re-runs the main kubectl suite
// (test/cluster/kubectl-workloads.test.ts, which takes its store from
// TUG_TEST_STORE) in a child `node --test` against an etcd of its own.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEtcd, type EtcdCluster } from '../cluster-storage/etcd-harness.js';

const suite = join(dirname(fileURLToPath(import.meta.url)), '..', 'cluster', 'kubectl-workloads.test.js');
let etcd: EtcdCluster | undefined;

after(async () => {
  await etcd?.stop();
});

test('the kubectl workloads suite passes on etcd', async () => {
  etcd = await startEtcd(1);
  // Without NODE_TEST_CONTEXT, or the child thinks it is nested in this runner and runs nothing.
  const env: NodeJS.ProcessEnv = { ...process.env, TUG_TEST_STORE: 'etcd', TUG_TEST_ETCD_ENDPOINTS: etcd.endpoints[0] };
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, ['--test', '--test-reporter=tap', suite], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  assert.equal(code, 0, out.slice(-6000));
  const passed = Number(out.match(/^# pass (\d+)/m)?.[1] ?? 0);
  assert.ok(passed > 0, `no tests ran:\n${out.slice(-2000)}`);
  assert.match(out, /^# fail 0$/m);
});
