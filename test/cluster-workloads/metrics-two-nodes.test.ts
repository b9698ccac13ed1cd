// The metrics pipeline across nodes: a second `tug agent` (own data dir,
// bridge and pod range) is scraped like the embedded one, so `kubectl top
// nodes` lists both and `kubectl top pods` shows a pod running on the second
// node; the agents answer /metrics/resource only to callers allowed
// nodes/metrics (the API server's kubelet-client identity here).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAgentCluster, leftovers, suffix, type AgentCluster, type AgentProc } from '../cluster-agent/agent-cluster.js';

let c: AgentCluster | undefined;
let agent: AgentProc | undefined;
let podName: string | undefined;
after(async () => {
  let left: string[] = [];
  try {
    // The pod goes first (a stopped agent leaves its pods running, as a kubelet does).
    if (c && podName) await c.kubectl(['delete', 'pod', podName, '--wait=true', '--timeout=60s'], { allowFailure: true });
    if (agent) {
      await agent.proc.stop();
      left = await leftovers(agent.dataDir, agent.net);
    }
  } finally {
    await c?.stop();
  }
  assert.deepEqual(left, []);
});

const rows = (out: string): string[][] => out.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));

/** GET on an agent's endpoint (HTTPS at its node's InternalIP, verified against the cluster CA) with a bearer token. */
function agentGet({ host, port }: { host: string; port: number }, path: string, token: string): Promise<{ status: number; body: string }> {
  const ca = readFileSync(join(c!.dataDir, 'pki', 'ca.crt'), 'utf8');
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('kubectl top nodes and pods cover the second node; its agent serves /stats/summary and /metrics/resource to users allowed nodes/stats and nodes/metrics, and only to them', async () => {
  c = await startAgentCluster();
  const second = `second-${suffix()}`;
  agent = await c.startAgent(second);
  const name = `on-second-${suffix()}`;
  podName = name;
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'second' } }, spec: { nodeName: second, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', "x=$(head -c 3000000 /dev/zero | tr '\\0' a); while true; do sleep 3600; done"] }] } };
  await c.kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod) });

  const nodes = await c.until('kubectl top nodes listing both nodes', async () => {
    const r = await c!.kubectl(['top', 'nodes'], { allowFailure: true });
    const rs = r.code === 0 ? rows(r.stdout) : [];
    // A node shows <unknown> until two scrapes of its agent give a rate (a new node's first second or so).
    return rs.length === 2 && rs.every((x) => x[3] !== '<unknown>') && rs;
  });
  assert.deepEqual(nodes.map((r) => r[0]).sort(), [c.nodeName, second].sort());
  for (const r of nodes) assert.match(r[3]!, /^[1-9]\d*Mi$/, `memory of ${r[0]}: ${r[3]}`);

  // The pod's ~3 MB string is in its working set once the shell has built it.
  await c.until('kubectl top pod on the second node, with its memory', async () => {
    const r = await c!.kubectl(['top', 'pods', '-l', 'app=second'], { allowFailure: true });
    const row = r.code === 0 && rows(r.stdout).find((x) => x[0] === name);
    return row && /^[1-9]\d*Mi$/.test(row[2]!);
  });
  const pm = JSON.parse((await c.kubectl(['get', '--raw', `/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/${name}`])).stdout);
  assert.deepEqual(pm.containers.map((x: { name: string }) => x.name), ['c']);
  assert.deepEqual(pm.metadata.labels, { app: 'second' });

  const node = JSON.parse((await c.kubectl(['get', 'node', second, '-o', 'json'])).stdout);
  // Agents listen on their node's address.
  const port = { host: node.status.addresses.find((a: { type: string }) => a.type === 'InternalIP').address as string, port: node.status.daemonEndpoints.kubeletEndpoint.Port as number };
  // A ServiceAccount allowed nodes/stats and nodes/metrics (as metrics-server's role is) reads both.
  await c.kubectl(['create', 'serviceaccount', 'scraper']);
  await c.kubectl(['create', 'clusterrole', 'node-stats-reader', '--verb=get', '--resource=nodes/stats,nodes/metrics']);
  await c.kubectl(['create', 'clusterrolebinding', 'node-stats-reader', '--clusterrole=node-stats-reader', '--serviceaccount=default:scraper']);
  const reader = (await c.kubectl(['create', 'token', 'scraper'])).stdout.trim();
  const summary = await agentGet(port, '/stats/summary', reader);
  assert.equal(summary.status, 200, summary.body);
  const s = JSON.parse(summary.body);
  assert.equal(s.node.nodeName, second);
  assert.ok(s.node.memory.workingSetBytes > 0 && s.node.cpu.usageCoreNanoSeconds > 0);
  const sp = s.pods.find((p: { podRef: { name: string } }) => p.podRef.name === name);
  assert.ok(sp.containers[0].memory.workingSetBytes > 2_000_000, JSON.stringify(sp));
  const metrics = await agentGet(port, '/metrics/resource', reader);
  assert.equal(metrics.status, 200);
  assert.match(metrics.body, new RegExp(`^container_memory_working_set_bytes\\{container="c",namespace="default",pod="${name}"\\} \\d+ \\d+$`, 'm'));
  // The default ServiceAccount is authenticated by the agent but not allowed either.
  const token = (await c.kubectl(['create', 'token', 'default'])).stdout.trim();
  assert.equal((await agentGet(port, '/metrics/resource', token)).status, 403);
  assert.equal((await agentGet(port, '/stats/summary', token)).status, 403);
});
