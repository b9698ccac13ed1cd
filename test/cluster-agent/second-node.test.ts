// A second `tug agent` on the same machine (own data dir, bridge and pod
// range, token auth) registers a second Node and runs the pods bound to it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startAgentCluster, leftovers, suffix, type AgentCluster } from './agent-cluster.js';

let c: AgentCluster | undefined;
after(async () => {
  await c?.stop();
});

test('a second agent registers its own Node with a Lease and runs a pod bound to it', async () => {
  c = await startAgentCluster();
  const second = `second-${suffix()}`;
  const agent = await c.startAgent(second);
  const nodes = JSON.parse((await c.kubectl(['get', 'nodes', '-o', 'json'])).stdout).items.map((n: { metadata: { name: string } }) => n.metadata.name).sort();
  assert.deepEqual(nodes, [c.nodeName, second].sort());
  const node = JSON.parse((await c.kubectl(['get', 'node', second, '-o', 'json'])).stdout);
  assert.equal(node.status.conditions.find((x: { type: string }) => x.type === 'Ready').status, 'True');
  assert.ok(node.status.daemonEndpoints.kubeletEndpoint.Port > 0);
  const lease = JSON.parse((await c.kubectl(['-n', 'kube-node-lease', 'get', 'lease', second, '-o', 'json'])).stdout);
  assert.equal(lease.spec.holderIdentity, second);

  const name = `on-second-${suffix()}`;
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: second, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'echo on-second; sleep 3600'] }] } };
  await c.kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod) });
  const running = await c.until('pod on the second node Running', async () => {
    const p = JSON.parse((await c!.kubectl(['get', 'pod', name, '-o', 'json'])).stdout);
    return p.status?.phase === 'Running' ? p : undefined;
  });
  const prefix = agent.net.cidr.split('.').slice(0, 3).join('.') + '.';
  assert.ok(running.status.podIP.startsWith(prefix), `pod IP ${running.status.podIP} from the second node's range ${agent.net.cidr}`);
  // Logs come through the API server from the second agent's endpoint.
  await c.until('log line', async () => (await c!.kubectl(['logs', name])).stdout === 'on-second\n');
  await c.kubectl(['delete', 'pod', name, '--wait=true']);
  const dir = agent.dataDir;
  const net = agent.net;
  await agent.proc.stop();
  assert.deepEqual(await leftovers(dir, net), []);
});
