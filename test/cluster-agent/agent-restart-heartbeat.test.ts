// An agent restart as the node lifecycle controller sees it: the restarted
// `tug agent` renews its node Lease, and says Ready again (the controller had
// marked its Node Unknown and tainted it while no process heartbeat), first
// thing, before bin/tug loads the CLI and the agent's modules (the early
// renewal, node/agent/early-lease.ts), so before its engine recovers the pods'
// containers too (seconds with many pods on a loaded machine), and it renews
// the Lease until it exits. Its pods are not evicted and keep their
// containers. A first start (no credentials yet) and a start against a wrong
// server or CA go as they did before the early renewal: it gives up quietly.
// The order is read from the agent's TUG_TRACE steps, not from timings (the
// early renewal gets all the time it needs here). The pods' tolerations are
// the server's, made long here: this test is about what the agent does, not
// about tug's defaults.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { startAgentCluster, startAgentProcess, leftovers, suffix, type AgentCluster, type AgentProc } from './agent-cluster.js';
import { engineContainers, nodeJson, readyStatus, watchLeaseVersions } from '../cluster-nodes/node-tools.js';

let c: AgentCluster | undefined;
let leaseWatch: Awaited<ReturnType<typeof watchLeaseVersions>> | undefined;
after(async () => {
  await leaseWatch?.stop();
  await c?.stop();
});
/** The restarted agent of the first test, stopped, for the starts that must fail. */
let stopped: AgentProc | undefined;

/** The agent's start and stop steps (TUG_TRACE), in the order it did them. */
const stepsOf = (output: string): string[] => [...output.matchAll(/^trace \d+ agent (.*)$/gm)].map((m) => m[1]!);

test('a restarted agent renews its Lease and says Ready again first thing, before its modules load (so before its engine recovers the pods); no eviction, the same containers', async () => {
  c = await startAgentCluster({ serverArgs: ['--default-unreachable-toleration-seconds', '600', '--default-not-ready-toleration-seconds', '600'] });
  const cl = c;
  // The agents started from here on say when each step was done.
  process.env.TUG_TRACE = '1';
  process.env.TUG_EARLY_LEASE_BUDGET_MS = '60000';
  const nodeName = `hb-${suffix()}`;
  // No hold on a clean stop (--restart-hold-seconds 0): this test is about what the next agent does when the node was marked Unknown.
  let agent = await cl.startAgent(nodeName, undefined, ['--restart-hold-seconds', '0']);
  // A first start: nothing in the data dir, so the early renewal gives up at once, asking no one, and the agent joins as always.
  const firstSteps = stepsOf(agent.proc.output());
  assert.deepEqual(firstSteps.slice(0, 2), [`early: skipped: no ${join(agent.dataDir, 'node-password')}: a first start`, 'early: done'], firstSteps.join(', '));
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

  // Every version of the Lease from here on, as the API server stored it.
  const watched = await watchLeaseVersions(cl, nodeName);
  leaseWatch = watched;

  agent = await cl.startAgent(nodeName, { dataDir: agent.dataDir, net: agent.net });
  const steps = stepsOf(agent.proc.output());
  const at = (s: string | RegExp) => {
    const i = steps.findIndex((x) => (typeof s === 'string' ? x === s : s.test(x)));
    assert.ok(i >= 0, `the restarted agent traced "${s}": ${steps.join(', ')}`);
    return i;
  };
  // First thing: the early renewal, before the CLI bundle and the agent's modules load (bin/tug requires them only after it).
  const early = at(/^early: lease renewed \(resourceVersion \d+\)$/);
  assert.equal(early, 0, `the early renewal is the first step: ${steps.join(', ')}`);
  assert.ok(early < at('process started') && early < at('modules loaded'), `the Lease is renewed before the agent's modules load: ${steps.join(', ')}`);
  assert.ok(at('early: node Ready again') < at('modules loaded'), `Ready again before the agent's modules load: ${steps.join(', ')}`);
  assert.ok(at('early: done') < at('modules loaded'));
  // The renewal the early step made is one the API server stored: this node's, renewed after the old agent stopped.
  const earlyVersion = /resourceVersion (\d+)/.exec(steps[early]!)![1]!;
  await cl.until('the early renewal seen by the watch', async () => watched.versions.has(earlyVersion));
  leaseWatch = undefined;
  await watched.stop();
  const renewed = watched.versions.get(earlyVersion)!;
  assert.equal(renewed.spec.holderIdentity, nodeName);
  assert.ok(Date.parse(renewed.spec.renewTime) > Date.parse(leaseAtStop), 'the early renewal is newer than the stopped agent\'s last one');
  // The early step's thread renews until the agent's own Lease renewals take over, then stops.
  assert.ok(at('lease renewed') < at('early renewals stopped (the agent renews now)'), steps.join(', '));
  // The agent's own steps follow as before (the Node was Ready again already, so it has nothing to post there).
  assert.ok(at('node name claimed (first API request)') < at('lease renewed'), 'the node name is claimed (node password) before the Lease is renewed');
  assert.ok(at('lease renewed') < at('engine opened'), `Lease renewed before the engine opens: ${steps.join(', ')}`);
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
  stopped = agent;
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

test('a restart against a server that is down, or a CA the kept certificate does not match, fails as before: the early renewal gave up, the agent says why', async () => {
  const cl = c!;
  const agent = stopped!;
  const restart = (o: { url?: string; trustFlags?: string[] }) =>
    startAgentProcess({ url: o.url ?? cl.url, token: cl.joinToken, caCertHash: cl.caCertHash, trustFlags: o.trustFlags, nodeName: agent.nodeName, dataDir: agent.dataDir, net: agent.net, nodePortFlags: cl.nodePortFlags });
  const failure = async (start: Promise<AgentProc>): Promise<string> => {
    const err = await start.then(
      () => assert.fail('the agent started'),
      (e: Error) => e,
    );
    assert.match(err.message, /exited with 1/);
    return err.message;
  };

  const port = await closedPort();
  const down = await failure(restart({ url: `https://127.0.0.1:${port}` }));
  assert.match(down, new RegExp(`trace \\d+ agent early: skipped: .*ECONNREFUSED 127\\.0\\.0\\.1:${port}`), down);
  assert.doesNotMatch(down, /early: lease renewed/);
  assert.match(down, new RegExp(`^tug agent: .*https://127\\.0\\.0\\.1:${port}.*ECONNREFUSED`, 'm'), down);

  // Another cluster's pin: the kept certificate's CA does not match it, so the agent would join again, and refuses this server.
  const otherPin = `sha256:${'0'.repeat(64)}`;
  const wrongCa = await failure(restart({ trustFlags: ['--discovery-token-ca-cert-hash', otherPin] }));
  assert.match(wrongCa, /early: skipped: no usable node certificate in /, wrongCa);
  assert.doesNotMatch(wrongCa, /early: lease renewed/);
  assert.match(wrongCa, new RegExp(`^tug agent: refusing to join .*does not match --discovery-token-ca-cert-hash ${otherPin}`, 'm'), wrongCa);
  assert.deepEqual(await leftovers(agent.dataDir, agent.net), []);
});
