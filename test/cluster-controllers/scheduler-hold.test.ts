// `tug server --scheduler-hold`: pods queue while the scheduler is held (as
// kube-scheduler's scheduler_perf creates them first), and SIGUSR2 releases it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../cluster/test-server.js';
import { runTool } from '../../src/util/exec-file.js';
import { FakeKubelet, nodeObject, waitFor } from './fake-kubelet.js';
import { workerFlags } from '../../src/controllers/controller-manager.js';

test('tug server --help documents --scheduler-hold', async () => {
  const main = new URL('../../src/cluster/main.js', import.meta.url).pathname;
  const r = await runTool(process.execPath, ['--input-type=module', '-e', `import(${JSON.stringify(main)}).then((m) => m.runServerCommand(['--help']))`]);
  assert.match(r.stdout, /--scheduler-hold +the scheduler binds no pod until the process gets SIGUSR2/);
});

test('a held scheduler binds nothing until SIGUSR2, then binds every queued pod', async () => {
  const srv = await startTestServer({ extraArgs: ['--scheduler-hold'] });
  const kubelet = await FakeKubelet.start(srv.kubeconfig);
  try {
    await kubelet.addNode(nodeObject('held-node', { cpu: '8' }));
    const names = ['q-0', 'q-1', 'q-2', 'q-3', 'q-4'];
    for (const name of names) {
      await srv.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } }) });
    }
    const nodesOf = async (): Promise<(string | undefined)[]> => JSON.parse((await srv.kubectl(['get', 'pods', '-n', 'default', '-o', 'json'])).stdout).items.map((p: any) => p.spec.nodeName);
    // An unheld scheduler binds these within milliseconds; held, it must not within a few seconds.
    await new Promise((r) => setTimeout(r, 3000));
    assert.deepEqual(await nodesOf(), [undefined, undefined, undefined, undefined, undefined], 'nothing is bound while held');
    process.kill(srv.pid, 'SIGUSR2');
    const bound = await waitFor('all queued pods bound', async () => {
      const nodes = await nodesOf();
      return nodes.every((n) => n === 'held-node') ? nodes : undefined;
    });
    assert.equal(bound.length, names.length);
    // A second SIGUSR2 is harmless (the server keeps running and serving).
    process.kill(srv.pid, 'SIGUSR2');
    assert.equal((await srv.kubectl(['get', 'pods', '-n', 'default', '-o', 'name'])).stdout.trim().split('\n').length, names.length);
  } finally {
    kubelet.stop();
    await srv.stop();
  }
});

test('the controllers worker gets the server\'s profiling flags and heap size, not its entry-point flags', () => {
  assert.deepEqual(workerFlags(['--max-old-space-size=4096', '--cpu-prof', '--cpu-prof-dir=/tmp/p', '--input-type=module', '-e', 'import("x")']), {
    execArgv: ['--cpu-prof', '--cpu-prof-dir=/tmp/p'],
    resourceLimits: { maxOldGenerationSizeMb: 4096 },
  });
  assert.deepEqual(workerFlags([]), { execArgv: [] });
});
