// An agent restart as the node lifecycle controller sees it: the restarted
// `tug agent` renews its node Lease, and says Ready again (the controller had
// marked its Node Unknown and tainted it while no process heartbeat), before
// its engine recovers the pods' containers (seconds with many pods on a loaded
// machine), and it renews the Lease until it exits. Its pods are not evicted
// and keep their containers. The order is read from the agent's TUG_TRACE
// steps, not from timings. The pods' tolerations are the server's, made long
// here: this test is about what the agent does, not about tug's defaults.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startAgentCluster, leftovers, suffix, type AgentCluster } from './agent-cluster.js';
import { engineContainers, nodeJson, readyStatus } from '../cluster-nodes/node-tools.js';

let c: AgentCluster | undefined;
after(async () => {
  await c?.stop();
});

/** The agent's start and stop steps (TUG_TRACE), in the order it did them. */
const stepsOf = (output: string): string[] => [...output.matchAll(/^trace \d+ agent (.*)$/gm)].map((m) => m[1]!);

test('a restarted agent renews its Lease and says Ready again before its engine recovers the pods; no eviction, the same containers', async () => {
  c = await startAgentCluster({ serverArgs: ['--default-unreachable-toleration-seconds', '600', '--default-not-ready-toleration-seconds', '600'] });
  const cl = c;
  // The agents started from here on say when each step was done.
  process.env.TUG_TRACE = '1';
  const nodeName = `hb-${suffix()}`;
  let agent = await cl.startAgent(nodeName);
  const pod = `kept-${suffix()}`;
  await cl.kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: pod }, spec: { nodeName, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] } }),
  });
  const podJson = async () => JSON.parse((await cl.kubectl(['get', 'pod', pod, '-o', 'json'])).stdout);
  const before = await cl.until('pod Running', async () => {
    const p = await podJson();
    return p.status?.containerStatuses?.[0]?.ready ? p : undefined;
  });
  const containersBefore = (await engineContainers(agent.dataDir)).map((x) => x.Id).sort();
  assert.equal(containersBefore.length, 1);
  const leaseOf = async () => JSON.parse((await cl.kubectl(['get', 'lease', '-n', 'kube-node-lease', nodeName, '-o', 'json'])).stdout);

  // The stopping agent renews its Lease until its very end: the Lease goes quiet only after the last stop step.
  await agent.proc.stop();
  const stopSteps = stepsOf(agent.proc.output()).filter((s) => s.startsWith('stop: '));
  assert.deepEqual(stopSteps.slice(-2), ['stop: closed', 'stop: exiting'], stopSteps.join(', '));
  const leaseAtStop = (await leaseOf()).spec.renewTime;

  // No process heartbeats: the controller marks the node Unknown and taints it (its pods tolerate that for long here).
  await cl.until('node Unknown and tainted unreachable', async () => {
    const n = await nodeJson(cl, nodeName);
    return readyStatus(n) === 'Unknown' && (n.spec.taints ?? []).some((t: any) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute') ? true : undefined;
  });

  agent = await cl.startAgent(nodeName, { dataDir: agent.dataDir, net: agent.net });
  const steps = stepsOf(agent.proc.output());
  const at = (s: string) => {
    const i = steps.indexOf(s);
    assert.ok(i >= 0, `the restarted agent traced "${s}": ${steps.join(', ')}`);
    return i;
  };
  assert.ok(at('lease renewed') < at('engine opened'), `Lease renewed before the engine opens: ${steps.join(', ')}`);
  assert.ok(at('node Ready again') < at('containers recovered'), `Ready again before the containers are recovered: ${steps.join(', ')}`);
  assert.ok(at('node name claimed (first API request)') < at('lease renewed'), 'the node name is claimed (node password) before the Lease is renewed');
  const lease = await leaseOf();
  assert.equal(lease.spec.holderIdentity, nodeName);
  assert.ok(Date.parse(lease.spec.renewTime) > Date.parse(leaseAtStop), 'the Lease was renewed after the restart');

  await cl.until('node Ready and untainted', async () => {
    const n = await nodeJson(cl, nodeName);
    return readyStatus(n) === 'True' && !(n.spec.taints ?? []).some((t: any) => t.key.startsWith('node.kubernetes.io/')) ? true : undefined;
  });
  // The same pod, not evicted, with the same container (adopted, not made again).
  const after = await cl.until('pod Ready again', async () => {
    const p = await podJson();
    return p.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True') ? p : undefined;
  });
  assert.equal(after.metadata.uid, before.metadata.uid);
  assert.equal(after.metadata.deletionTimestamp, undefined);
  assert.equal(after.status.containerStatuses[0].containerID, before.status.containerStatuses[0].containerID);
  assert.equal(after.status.containerStatuses[0].restartCount, before.status.containerStatuses[0].restartCount);
  assert.deepEqual((await engineContainers(agent.dataDir)).map((x) => x.Id).sort(), containersBefore);

  await cl.kubectl(['delete', 'pod', pod, '--wait=true']);
  await cl.until('no containers left on the agent', async () => (await engineContainers(agent.dataDir)).length === 0);
  await agent.proc.stop();
  assert.deepEqual(await leftovers(agent.dataDir, agent.net), []);
});
