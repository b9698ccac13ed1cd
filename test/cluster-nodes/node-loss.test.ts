// Node loss with tug's defaults (2 s grace, 3 s toleration): a second node
// whose machine dies (agent and containers SIGKILLed) drops out of the
// Service's endpoints, turns Unknown with the unreachable taint, and its pods
// are replaced on the first node; when it comes back it is Ready again,
// untainted, and holds nothing of the pods it lost. An agent restart is ridden
// out (a clean stop holds the node): no pod is evicted; a clean stop with no
// pod left holds nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { runTool } from '../../src/util/exec-file.js';
import { startAgentCluster, suffix, type AgentCluster, type AgentProc } from '../cluster-agent/agent-cluster.js';
import { deleteWorkloads, deployOnto, endpointIps, engineContainers, killMachine, nodeJson, podsOf, readyStatus, watchLeaseVersions, type PodView } from './node-tools.js';

let c: AgentCluster;
let second: AgentProc;
const secondName = `lost-${suffix()}`;
// Longer than tug's 10 s default, so that a loaded machine's slow restart cannot outlast it in the first test.
const HOLD_SECONDS = 60;
const holdArgs = ['--restart-hold-seconds', String(HOLD_SECONDS)];
const leaseSpec = async (node: string) => JSON.parse((await c.kubectl(['get', 'lease', '-n', 'kube-node-lease', node, '-o', 'json'])).stdout).spec;
before(async () => {
  c = await startAgentCluster();
  second = await c.startAgent(secondName, undefined, holdArgs);
});
after(async () => {
  if (c) await deleteWorkloads(c);
  await c?.stop();
});

test('a clean agent stop with pods running holds the node (its Lease lasts --restart-hold-seconds): no Unknown, no taint, no eviction while it is down past grace plus toleration; the next agent puts the usual Lease back', async () => {
  const app = `steady-${suffix()}`;
  // tug's default tolerations (3 s): only the hold keeps these pods.
  const before = await deployOnto(c, secondName, [c.nodeName], app, 2);
  await second.proc.stop();
  const lease = await leaseSpec(secondName);
  assert.equal(lease.leaseDurationSeconds, HOLD_SECONDS, 'the stopping agent\'s last renewal holds the node');
  // Down past grace 2 s + default toleration 3 s (and then some): without the hold, the node would be Unknown and tainted and these pods evicted.
  const seen = new Set<string>();
  const t0 = Date.now();
  while (Date.now() - t0 < 6_500) {
    const n = await nodeJson(c, secondName);
    seen.add(`Ready=${readyStatus(n)}`);
    for (const t of n.spec.taints ?? []) seen.add(`taint ${t.key}:${t.effect}`);
    for (const p of await podsOf(c, app)) if (p.terminating || !before.some((b) => b.uid === p.uid)) seen.add(`pod ${p.name} terminating=${p.terminating}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.deepEqual([...seen], ['Ready=True'], 'Ready all along, untainted, the same pods');
  // The restart's early renewals (before the agent's modules load) keep the hold: every version of the Lease from here on.
  const leaseWatch = await watchLeaseVersions(c, secondName);
  process.env.TUG_TRACE = '1';
  process.env.TUG_EARLY_LEASE_BUDGET_MS = '60000';
  try {
    second = await c.startAgent(secondName, { dataDir: second.dataDir, net: second.net }, holdArgs);
  } finally {
    delete process.env.TUG_TRACE;
    delete process.env.TUG_EARLY_LEASE_BUDGET_MS;
  }
  const earlyVersion = /^trace \d+ agent early: lease renewed \(resourceVersion (\d+)\)$/m.exec(second.proc.output())?.[1];
  assert.ok(earlyVersion, `the restarted agent renewed early: ${second.proc.output().slice(0, 2000)}`);
  await c.until('the early renewal seen by the watch', async () => leaseWatch.versions.has(earlyVersion));
  await leaseWatch.stop();
  assert.equal(leaseWatch.versions.get(earlyVersion)!.spec.leaseDurationSeconds, HOLD_SECONDS, 'the early renewal keeps the hold');
  assert.equal((await leaseSpec(secondName)).leaseDurationSeconds, 2, 'the running agent renews its 2 s Lease again');
  const after = await c.until('all Ready again', async () => {
    const ps = await podsOf(c, app);
    return ps.length === before.length && ps.every((p) => p.ready) ? ps : undefined;
  });
  assert.deepEqual(after.map((p) => p.uid).sort(), before.map((p) => p.uid).sort(), 'the same pods');
  await deleteWorkloads(c);
});

test('a dead node: its pods leave the endpoints, the node turns Unknown and tainted, replacements run on the other node', async () => {
  const app = `web-${suffix()}`;
  const before = await deployOnto(c, secondName, [c.nodeName], app, 3);
  assert.deepEqual(await c.until('endpoints list the 3 pods', async () => ((await endpointIps(c, app)).length === 3 ? true : undefined)), true);

  await killMachine(second);
  const lost = new Set(before.map((p) => p.ip));
  await c.until('endpoints without the dead node pods', async () => {
    const ips = await endpointIps(c, app);
    return ips.every((ip) => !lost.has(ip)) || undefined;
  });
  const node = await c.until('node Unknown and tainted unreachable', async () => {
    const n = await nodeJson(c, secondName);
    const taints = (n.spec.taints ?? []).map((t: any) => `${t.key}:${t.effect}`);
    return readyStatus(n) === 'Unknown' && taints.includes('node.kubernetes.io/unreachable:NoExecute') ? n : undefined;
  });
  const ready = node.status.conditions.find((x: any) => x.type === 'Ready');
  assert.equal(ready.reason, 'NodeStatusUnknown');
  assert.equal(ready.message, 'Kubelet stopped posting node status.');
  assert.ok((node.spec.taints ?? []).some((t: any) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoSchedule'), 'the NoSchedule variant too');
  // The pods carried DefaultTolerationSeconds' tolerations, so they were evicted when those ran out.
  const spec = JSON.parse((await c.kubectl(['get', 'pod', before[0]!.name, '-o', 'json', '--ignore-not-found'])).stdout || '{}');
  if (spec.spec) assert.ok(spec.spec.tolerations.some((t: any) => t.key === 'node.kubernetes.io/unreachable' && t.tolerationSeconds === 3));
  const replacements = await c.until('3 replacements Ready on the first node', async () => {
    const live = (await podsOf(c, app)).filter((p) => !p.terminating && !before.some((b) => b.uid === p.uid));
    return live.length === 3 && live.every((p) => p.ready && p.node === c.nodeName) ? live : undefined;
  });
  await c.until('endpoints are the replacements', async () => {
    const ips = await endpointIps(c, app);
    return JSON.stringify(ips) === JSON.stringify(replacements.map((p) => p.ip).sort()) || undefined;
  });
  // Terminating pods on an unreachable node are force-deleted by the pod GC once their grace period ran out.
  await c.until('the dead pods are gone from the API', async () => {
    const names = (await podsOf(c, app)).map((p) => p.uid);
    return before.every((b) => !names.includes(b.uid)) || undefined;
  });
  (globalThis as any).lostPods = before;
});

test('the node comes back: Ready, untainted, and nothing left of the pods it lost', async () => {
  const before = (globalThis as any).lostPods as PodView[];
  assert.ok(before, 'the previous test ran');
  second = await c.startAgent(secondName, { dataDir: second.dataDir, net: second.net }, holdArgs);
  await c.until('node Ready and untainted', async () => {
    const n = await nodeJson(c, secondName);
    const ours = (n.spec.taints ?? []).filter((t: any) => t.key.startsWith('node.kubernetes.io/'));
    return readyStatus(n) === 'True' && ours.length === 0 ? true : undefined;
  });
  const uids = new Set(before.map((p) => p.uid));
  await c.until('no container of the lost pods in the node engine', async () => {
    const cs = await engineContainers(second.dataDir);
    return cs.every((x) => !uids.has(x.Labels['io.kubernetes.pod.uid'] ?? '')) || undefined;
  });
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((m) => [...uids].some((u) => m.includes(u)));
  assert.deepEqual(mounts, [], 'no volume mount of the lost pods');
  const rules = (await runTool('iptables-save', [])).stdout.split('\n').filter((l) => before.some((p) => p.ip && new RegExp(`\\b${p.ip.replace(/\./g, '\\.')}\\b`).test(l)));
  assert.deepEqual(rules, [], 'no iptables rule names a lost pod address');
  const netns = (await runTool('ip', ['netns', 'list'], { allowFailure: true })).stdout;
  for (const u of uids) assert.ok(!netns.includes(u), `no netns of pod ${u}`);
  await deleteWorkloads(c);
});

test('a clean stop with no pod left holds nothing: the node is unreachable after the grace period, as a dead one', async () => {
  await c.until('no pod on the node', async () => ((await c.kubectl(['get', 'pods', '-A', '--field-selector', `spec.nodeName=${secondName}`, '-o', 'name'])).stdout.trim() === '' ? true : undefined));
  await c.until('no container in its engine', async () => ((await engineContainers(second.dataDir)).length === 0 ? true : undefined));
  await second.proc.stop();
  assert.equal((await leaseSpec(secondName)).leaseDurationSeconds, 2, 'the last renewal is a plain one');
  await c.until('node Unknown', async () => (readyStatus(await nodeJson(c, secondName)) === 'Unknown' ? true : undefined));
});
