// Taking a node out on purpose, with kubectl: cordon (the scheduler places
// nothing there, the unschedulable taint appears), drain through the eviction
// API honouring a PodDisruptionBudget (drain waits until the budget allows),
// the disruption controller's status, two concurrent evictions against one
// allowed disruption, `kubectl delete node` (its pods go), and the two
// refusals at start: a second agent with a node name already taken, a second
// server with a bridge or pod range another tug node on this machine uses.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { leftovers, startAgentCluster, startAgentProcess, suffix, tugBin, uniqueNodeNet, type AgentCluster, type AgentProc } from '../cluster-agent/agent-cluster.js';
import { drawNodePortRange, lostNodePortDraw } from '../helpers/node-port-range.js';
import { deleteWorkloads, deployOnto, engineContainers, nodeJson, podsOf } from './node-tools.js';

let c: AgentCluster;
let second: AgentProc;
const secondName = `maint-${suffix()}`;
before(async () => {
  c = await startAgentCluster();
  second = await c.startAgent(secondName);
});
after(async () => {
  if (c) await deleteWorkloads(c);
  await c?.stop();
});

const pdbYaml = (name: string, app: string, budget: string) => `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: ${name}, labels: {test: cluster-nodes}}
spec: {${budget}, selector: {matchLabels: {app: ${app}}}}
`;

async function pdbStatus(name: string): Promise<any> {
  return JSON.parse((await c.kubectl(['get', 'pdb', name, '-o', 'json'])).stdout).status ?? {};
}

test('PodDisruptionBudget status: int and percent budgets over a Deployment, and two concurrent evictions spend one allowed disruption', async () => {
  const app = `pair-${suffix()}`;
  const pods = await deployOnto(c, c.nodeName, [secondName], app, 2);
  await c.kubectl(['apply', '-f', '-'], { input: pdbYaml(`${app}-int`, app, 'minAvailable: 1') });
  const st = await c.until('int budget status', async () => {
    const s = await pdbStatus(`${app}-int`);
    return s.currentHealthy === 2 && s.observedGeneration === 1 ? s : undefined;
  });
  assert.equal(st.desiredHealthy, 1);
  assert.equal(st.expectedPods, 2);
  assert.equal(st.disruptionsAllowed, 1);
  const cond = st.conditions.find((x: any) => x.type === 'DisruptionAllowed');
  assert.equal(cond.status, 'True');
  assert.equal(cond.reason, 'SufficientPods');
  // Percentages count against the Deployment's scale: 50% of 2 rounds up to 1 unavailable -> 1 desired.
  await c.kubectl(['delete', 'pdb', `${app}-int`]);
  await c.kubectl(['apply', '-f', '-'], { input: pdbYaml(`${app}-pct`, app, 'maxUnavailable: "50%"') });
  const pct = await c.until('percent budget status', async () => {
    const s = await pdbStatus(`${app}-pct`);
    return s.currentHealthy === 2 ? s : undefined;
  });
  assert.equal(pct.expectedPods, 2);
  assert.equal(pct.desiredHealthy, 1);
  assert.equal(pct.disruptionsAllowed, 1);

  const evict = (name: string) =>
    c.kubectl(['create', '--raw', `/api/v1/namespaces/default/pods/${name}/eviction`, '-f', '-'], { input: JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'default' } }), allowFailure: true });
  const results = await Promise.all(pods.map((p) => evict(p.name)));
  const ok = results.filter((r) => r.code === 0);
  const refused = results.filter((r) => r.code !== 0);
  assert.equal(ok.length, 1, `one eviction passes: ${results.map((r) => r.stderr).join(' | ')}`);
  assert.equal(refused.length, 1);
  assert.match(refused[0]!.stderr, /Cannot evict pod as it would violate the pod's disruption budget|TooManyRequests|429/);
  const after1 = await pdbStatus(`${app}-pct`);
  assert.ok(after1.disruptionsAllowed === 0, `no disruption left right after the eviction: ${JSON.stringify(after1)}`);
  await deleteWorkloads(c);
});

test('cordon keeps new pods off the node; drain evicts through the budget, waiting while it forbids; uncordon', async () => {
  const app = `guarded-${suffix()}`;
  const before = await deployOnto(c, secondName, [c.nodeName], app, 2);
  await c.kubectl(['apply', '-f', '-'], { input: pdbYaml(app, app, 'minAvailable: 1') });
  await c.until('budget allows 1', async () => ((await pdbStatus(app)).disruptionsAllowed === 1 ? true : undefined));

  await c.kubectl(['cordon', secondName]);
  const node = await c.until('unschedulable taint', async () => {
    const n = await nodeJson(c, secondName);
    return n.spec.unschedulable && (n.spec.taints ?? []).some((t: any) => t.key === 'node.kubernetes.io/unschedulable' && t.effect === 'NoSchedule') ? n : undefined;
  });
  assert.equal(node.spec.unschedulable, true);
  // One pod evicted at once, the other only after its replacement is Ready on the first node.
  const drain = await c.kubectl(['drain', secondName, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=120s']);
  assert.match(drain.stdout + drain.stderr, /Cannot evict pod as it would violate the pod's disruption budget/, 'drain had to wait for the budget');
  assert.match(drain.stdout, new RegExp(`node/${secondName} drained`));
  const live = (await podsOf(c, app)).filter((p) => !p.terminating);
  assert.equal(live.length, 2);
  assert.ok(live.every((p) => p.node === c.nodeName && !before.some((b) => b.uid === p.uid)), 'both pods replaced on the first node');

  // Cordoned: a pod that could go anywhere does not go there.
  await c.kubectl(['scale', 'deployment', app, '--replicas=4']);
  await c.until('4 on the first node', async () => {
    const ps = (await podsOf(c, app)).filter((p) => !p.terminating);
    return ps.length === 4 && ps.every((p) => p.node === c.nodeName) ? true : undefined;
  });
  await c.kubectl(['uncordon', secondName]);
  await c.until('unschedulable taint gone', async () => {
    const n = await nodeJson(c, secondName);
    return !n.spec.unschedulable && !(n.spec.taints ?? []).some((t: any) => t.key === 'node.kubernetes.io/unschedulable') ? true : undefined;
  });
  await deleteWorkloads(c);
});

test('a second agent with a node name already taken is refused, and registers nothing', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tug-agent-test-node-'));
  try {
    const before = (await nodeJson(c, secondName)).metadata.resourceVersion;
    const net = uniqueNodeNet();
    const err = await startAgentProcess({ url: c.url, token: c.token, caCertHash: c.caCertHash, nodeName: secondName, dataDir: dir, net }).then(
      async (a) => {
        await a.stop();
        return undefined;
      },
      (e: Error) => e.message,
    );
    assert.ok(err, 'the second agent did not start');
    assert.match(err, new RegExp(`node "${secondName}" is already registered by another agent`));
    assert.match(err, /--node-name/);
    assert.match(err, new RegExp(`kubectl delete node ${secondName}`));
    assert.equal((await nodeJson(c, secondName)).metadata.resourceVersion !== undefined, true);
    assert.ok(before, 'the node exists');
    // The first agent still holds its node: Ready.
    const n = await nodeJson(c, secondName);
    assert.equal(n.status.conditions.find((x: any) => x.type === 'Ready').status, 'True');
    // The refused agent had opened its engine (recovery sets up the node's chains): it removed them again.
    assert.deepEqual(await leftovers(dir, net), [], 'the refused agent leaves nothing on the host');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/**
 * Runs `tug server` expecting it to refuse at start; returns its stderr (kills it, and fails, if it keeps running).
 * It draws NodePorts of its own, so the refusal is for the bridge or range the test names; a drawn range that
 * another test's live cluster holds is refused first, and is drawn again.
 */
async function refusedServer(args: string[]): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const out = await refusedServerOnce([...drawNodePortRange().flags, ...args]);
    if (attempt >= 5 || !lostNodePortDraw(out)) return out;
  }
}

async function refusedServerOnce(args: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tug-agent-test-'));
  try {
    const child = spawn(process.execPath, [tugBin, 'server', '--data-dir', dir, '--port', '0', '--ui-addr', 'off', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    // Should it start after all, it is stopped at once (SIGTERM: it cleans up after itself).
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (/API listening/.test(out)) child.kill('SIGTERM');
    });
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.once('exit', (code) => {
        clearTimeout(t);
        resolve(code);
      });
    });
    assert.equal(code, 1, `tug server should refuse: ${out}`);
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a second server on this machine with a bridge or pod range a tug node already uses is refused, naming the owner and the flag', async () => {
  const serverPid = c.server.child.pid;
  const sameBridge = await refusedServer(['--node-bridge', c.net.bridge, '--pod-cidr', uniqueNodeNet().cidr]);
  assert.match(sameBridge, new RegExp(`the pod bridge ${c.net.bridge} is already used by another tug node on this machine \\(tug server, pid ${serverPid}, data dir ${c.dataDir}\\)`));
  assert.match(sameBridge, /--node-bridge/);
  const sameRange = await refusedServer(['--node-bridge', uniqueNodeNet().bridge, '--pod-cidr', second.net.cidr]);
  assert.match(sameRange, new RegExp(`the pod range ${second.net.cidr.replace(/\./g, '\\.')} .*overlaps .* of another tug node on this machine \\(tug agent, pid ${second.proc.child.pid}`));
  assert.match(sameRange, /--pod-cidr/);
});

test('kubectl delete node: the pods bound to it go, and its agent removes their containers', async () => {
  const name = `bare-${suffix()}`;
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { test: 'cluster-nodes' } }, spec: { nodeName: secondName, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] } };
  await c.kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod) });
  const uid = await c.until('pod Running on the node', async () => {
    const p = JSON.parse((await c.kubectl(['get', 'pod', name, '-o', 'json'])).stdout);
    return p.status?.phase === 'Running' ? (p.metadata.uid as string) : undefined;
  });
  await c.kubectl(['delete', 'node', secondName]);
  await c.until('pod gone', async () => ((await c.kubectl(['get', 'pod', name, '--ignore-not-found', '-o', 'name'])).stdout.trim() === '' ? true : undefined));
  await c.until('its containers gone from the node', async () => ((await engineContainers(second.dataDir)).every((x) => x.Labels['io.kubernetes.pod.uid'] !== uid) ? true : undefined));
  // The node's Lease and name claim went with it (owner references).
  await c.until('lease gone', async () => ((await c.kubectl(['-n', 'kube-node-lease', 'get', 'lease', secondName, '--ignore-not-found', '-o', 'name'])).stdout.trim() === '' ? true : undefined));
});
