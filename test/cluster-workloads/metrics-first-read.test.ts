// The first read of the metrics API after an idle spell (rounds every 10 s
// while nobody reads) already has a pod started during that spell: the read
// waits for the round it wakes, and a container that started since the
// node's previous scrape is rated from its start, as metrics-server rates a
// fresh container. Found by the Kubernetes Python client's
// test_metrics_utilities_integration, which lists pod metrics once, 10 s
// after its pod runs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { leftovers } from '../cluster-agent/agent-cluster.js';
import { startE2eCluster, hex, type E2eCluster } from '../cluster-e2e/e2e-cluster.js';

let c: E2eCluster | undefined;
const ns = `mfirst-${hex(3)}`;

before(async () => {
  c = await startE2eCluster();
  await c.kubectl(['create', 'namespace', ns]);
});

after(async () => {
  if (!c) return;
  await c.kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=120s'], { allowFailure: true });
  const { dataDir, net } = c;
  await c.stop();
  assert.deepEqual(await leftovers(dataDir, net), []);
});

test('the first pod-metrics list after an idle spell includes a pod that started during it', async () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'fresh' }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'busybox', command: ['sleep', '3600'] }] } };
  await c!.kubectl(['-n', ns, 'apply', '-f', '-'], { input: JSON.stringify(pod) });
  await c!.until('pod fresh running', async () => (await c!.kubectl(['-n', ns, 'get', 'pod', 'fresh', '-o', 'jsonpath={.status.phase}'])).stdout === 'Running');
  // A start point needs the container to be one resolution (1 s) old.
  await new Promise((r) => setTimeout(r, 2000));
  // Nothing has read metrics yet: this is the first read, and it is asserted as it comes.
  const list = JSON.parse((await c!.kubectl(['get', '--raw', `/apis/metrics.k8s.io/v1beta1/namespaces/${ns}/pods`])).stdout);
  assert.deepEqual(list.items.map((i: any) => i.metadata.name), ['fresh']);
  const [m] = list.items;
  assert.deepEqual(m.containers.map((x: any) => x.name), ['app']);
  assert.match(m.containers[0].usage.cpu, /^\d+n$/);
  assert.match(m.containers[0].usage.memory, /^[1-9]\d*(Ki)?$/);
  const top = await c!.kubectl(['-n', ns, 'top', 'pod', 'fresh', '--no-headers']);
  assert.match(top.stdout.trim(), /^fresh\s+\d+m\s+\d+Mi$/);
});
