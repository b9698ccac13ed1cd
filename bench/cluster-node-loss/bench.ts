// Machine loss (issue #14's benchmark): per trial, a fresh second node runs a
// Deployment of N busybox pods behind a Service; the node's agent and every
// container of its engine are SIGKILLed at t0 (a pulled plug); watches opened
// before t0 (timeline.ts) see (a) the Service's Endpoints holding none of the
// dead pods' addresses, (b) N new pods Ready. The dead node then comes back (its
// agent cleans up), the workload and node are deleted, and the next trial runs.
// Anchors: Kubernetes' defaults (40 s grace + 300 s toleration, about 5.7 min).
//
// --timeline prints, per trial, when each step (node Unknown, taint, eviction,
// replacements created, bound, Running, Ready) was first and last seen;
// --server-log FILE keeps the server's output (controllers, embedded agent).
//
// Usage: node dist/bench/cluster-node-loss/bench.js [--pods 30] [--trials 5] [--server-args "--flag v ..."] [--timeline] [--server-log FILE]
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KubeClient, type KubeObject } from '../../src/kube/client/kube-client.js';
import { startAgentCluster, suffix } from '../../test/cluster-agent/agent-cluster.js';
import { TrialTimeline } from './timeline.js';
import { deleteWorkloads, deployOnto, killMachine, readyStatus, nodeJson } from '../../test/cluster-nodes/node-tools.js';

const { values } = parseArgs({ options: { pods: { type: 'string', default: '30' }, trials: { type: 'string', default: '5' }, 'server-args': { type: 'string', default: '' }, timeline: { type: 'boolean', default: false }, 'server-log': { type: 'string' } } });
const podCount = Number(values.pods);
const trials = Number(values.trials);

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

// Ctrl-C ends the run after cleaning up (a killed run would leave pods, rules and bridges behind).
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => (stopping = true));

const c = await startAgentCluster({ serverArgs: values['server-args'].split(' ').filter(Boolean) });
const client = await KubeClient.fromKubeconfig(join(c.dataDir, 'kubeconfig'));
const podsRef = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
const epRef = { group: '', version: 'v1', resource: 'endpoints', namespace: 'default' };
const toEndpoints: number[] = [];
const toReady: number[] = [];
try {
  for (let t = 0; t < trials && !stopping; t++) {
    const nodeName = `bench-loss-${suffix()}`;
    const agent = await c.startAgent(nodeName);
    const app = `loss-${suffix()}`;
    const before = await deployOnto(c, nodeName, [c.nodeName], app, podCount);
    await c.until('endpoints hold every pod', async () => {
      const ep = await client.get<KubeObject>(epRef, app);
      return ((ep.subsets ?? []) as any[]).reduce((n: number, s: any) => n + (s.addresses ?? []).length, 0) === podCount || undefined;
    });
    const deadIps = new Set(before.flatMap((p) => (p.ip ? [p.ip] : [])));
    const deadUids = new Set(before.map((p) => p.uid));
    // Watches, not polling: the answers come as the API server sends the changes, and the
    // bench's own list requests do not compete with the replacements for the CPU.
    const timeline = new TrialTimeline(client, nodeName, app, { uids: deadUids, ips: deadIps, count: podCount });
    await timeline.start();
    const t0 = Date.now();
    timeline.lost(t0);
    await killMachine(agent);
    try {
      await timeline.done(600_000, () => stopping);
    } finally {
      await timeline.stop();
    }
    const epAt = t0 + timeline.endpointsClearAt!;
    const readyAt = t0 + timeline.allReadyAt!;
    toEndpoints.push(epAt - t0);
    toReady.push(readyAt - t0);
    console.log(`trial ${t + 1}/${trials}: ${podCount} pods; endpoints without the dead pods after ${((epAt - t0) / 1000).toFixed(2)} s, all replacements Ready after ${((readyAt - t0) / 1000).toFixed(2)} s`);
    if (values.timeline) console.log(`  (loss at epoch ms ${t0})\n${timeline.report()}`);
    // The machine comes back (its agent removes the dead pods' containers), then goes for good.
    const back = await c.startAgent(nodeName, { dataDir: agent.dataDir, net: agent.net });
    await c.until('node back', async () => (readyStatus(await nodeJson(c, nodeName)) === 'True' ? true : undefined));
    await c.kubectl(['delete', 'deployment,service', app, '--wait=true']);
    await c.until('pods gone', async () => (await client.list<KubeObject>(podsRef, { labelSelector: `app=${app}` })).items.length === 0 || undefined);
    await back.stop();
    await c.kubectl(['delete', 'node', nodeName]);
  }
  if (toEndpoints.length) console.log(
    `[machine loss, ${podCount} pods, ${toEndpoints.length} trials] loss -> endpoints without the dead pods: p50 ${(pct(toEndpoints, 50) / 1000).toFixed(2)} s, p99 ${(pct(toEndpoints, 99) / 1000).toFixed(2)} s; ` +
      `loss -> all replacements Ready: p50 ${(pct(toReady, 50) / 1000).toFixed(2)} s, p99 ${(pct(toReady, 99) / 1000).toFixed(2)} s ` +
      `(Kubernetes' defaults: 40 s grace + 300 s toleration, about 5.7 min)`,
  );
} finally {
  if (values['server-log']) await writeFile(values['server-log'], c.server.output());
  await deleteWorkloads(c);
  client.close();
  await c.stop();
}
