// Node loss with tug's defaults (2 s grace, 4 s toleration): a second node
// whose machine dies (agent and containers SIGKILLed) drops out of the
// Service's endpoints, turns Unknown with the unreachable taint, and its pods
// are replaced on the first node; when it comes back it is Ready again,
// untainted, and holds nothing of the pods it lost. An agent restart is ridden
// out: no pod is evicted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { runTool } from '../../src/util/exec-file.js';
import { startAgentCluster, suffix, type AgentCluster, type AgentProc } from '../cluster-agent/agent-cluster.js';
import { deleteWorkloads, deployOnto, endpointIps, engineContainers, killMachine, nodeJson, podsOf, readyStatus, type PodView } from './node-tools.js';

let c: AgentCluster;
let second: AgentProc;
const secondName = `lost-${suffix()}`;
before(async () => {
  c = await startAgentCluster();
  second = await c.startAgent(secondName);
});
after(async () => {
  if (c) await deleteWorkloads(c);
  await c?.stop();
});

test('an agent restart (a few seconds) evicts nothing', async () => {
  const app = `steady-${suffix()}`;
  // Tolerations of their own, longer than tug's 4 s: a restart on a loaded machine can take about as long as grace
  // plus default toleration (README, "Why 2 s + 4 s"); this test is about the pods being kept, not about that margin
  // (test/cluster-agent/agent-restart-heartbeat.test.ts checks that the restarted agent heartbeats before it recovers).
  const tolerate = (key: string) => `{key: node.kubernetes.io/${key}, operator: Exists, effect: NoExecute, tolerationSeconds: 60}`;
  const before = await deployOnto(c, secondName, [c.nodeName], app, 2, `\n      tolerations: [${tolerate('unreachable')}, ${tolerate('not-ready')}]`);
  const t0 = Date.now();
  await second.proc.stop();
  second = await c.startAgent(secondName, { dataDir: second.dataDir, net: second.net });
  const gap = Date.now() - t0;
  console.log(`agent restart: ${gap} ms from SIGTERM to the restarted agent's registration`);
  // Past grace 2 s + tug's default toleration 4 s from the stop: a pod without its own tolerations would be gone by now.
  await c.until('node Ready', async () => (readyStatus(await nodeJson(c, secondName)) === 'True' ? true : undefined));
  await new Promise((r) => setTimeout(r, 7000 - Math.min(7000, Date.now() - t0)));
  const after = await podsOf(c, app);
  assert.deepEqual(
    after.map((p) => `${p.uid}:${p.terminating}`).sort(),
    before.map((p) => `${p.uid}:false`).sort(),
    'the same pods, none terminating',
  );
  await c.until('all Ready again', async () => ((await podsOf(c, app)).every((p) => p.ready) ? true : undefined));
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
  if (spec.spec) assert.ok(spec.spec.tolerations.some((t: any) => t.key === 'node.kubernetes.io/unreachable' && t.tolerationSeconds === 4));
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
  second = await c.startAgent(secondName, { dataDir: second.dataDir, net: second.net });
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

