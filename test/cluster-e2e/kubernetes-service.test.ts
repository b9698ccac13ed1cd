// Pods reach the API server through the `kubernetes` Service (ClusterIP:443),
// whose Endpoints and EndpointSlice the API server writes for itself.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startAgentCluster, leftovers, suffix, type AgentCluster } from '../cluster-agent/agent-cluster.js';

let c: AgentCluster | undefined;
after(async () => {
  await c?.stop();
});

test('the kubernetes Service has Endpoints naming the API server, and a pod connects to its ClusterIP:443', async () => {
  c = await startAgentCluster();
  const apiPort = Number(new URL(c.url).port);
  const ep = JSON.parse((await c.kubectl(['get', 'endpoints', 'kubernetes', '-o', 'json'])).stdout);
  assert.deepEqual(ep.subsets[0].ports.map((p: { port: number }) => p.port), [apiPort]);
  assert.equal(ep.subsets[0].addresses[0].ip, '127.0.0.1');
  const slices = JSON.parse((await c.kubectl(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=kubernetes', '-o', 'json'])).stdout).items;
  assert.equal(slices.length, 1);
  assert.deepEqual(slices[0].ports.map((p: { port: number }) => p.port), [apiPort]);

  const clusterIp = JSON.parse((await c.kubectl(['get', 'service', 'kubernetes', '-o', 'json'])).stdout).spec.clusterIP;
  const name = `api-probe-${suffix()}`;
  // busybox nc exits 0 only when the TCP connection was made (-e true then closes it).
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', `nc -w 5 ${clusterIp} 443 -e true && echo connected`] }] },
  };
  await c.kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod) });
  const done = await c.until('probe pod finished', async () => {
    const p = JSON.parse((await c!.kubectl(['get', 'pod', name, '-o', 'json'])).stdout);
    return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' ? p : undefined;
  });
  const logs = (await c.kubectl(['logs', name])).stdout;
  assert.equal(done.status.phase, 'Succeeded', `pod could not connect to ${clusterIp}:443: ${logs}`);
  assert.equal(logs, 'connected\n');
  await c.kubectl(['delete', 'pod', name, '--wait=true']);
  const { dataDir, net } = c;
  await c.stop();
  c = undefined;
  assert.deepEqual(await leftovers(dataDir, net), []);
});
