// Machine loss (issue #14's benchmark): per trial, a fresh second node runs a
// Deployment of N busybox pods behind a Service; the node's agent and every
// container of its engine are SIGKILLed at t0 (a pulled plug); the API is
// polled every 50 ms for (a) the Service's Endpoints holding none of the dead
// pods' addresses, (b) N new pods Ready. The dead node then comes back (its
// agent cleans up), the workload and node are deleted, and the next trial runs.
// Anchors: Kubernetes' defaults (40 s grace + 300 s toleration, about 5.7 min).
//
// Usage: node dist/bench/cluster-node-loss/bench.js [--pods 30] [--trials 5] [--server-args "--flag v ..."]
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KubeClient, type KubeObject } from '../../src/kube/client/kube-client.js';
import { startAgentCluster, suffix } from '../../test/cluster-agent/agent-cluster.js';
import { deleteWorkloads, deployOnto, killMachine, readyStatus, nodeJson } from '../../test/cluster-nodes/node-tools.js';

const { values } = parseArgs({ options: { pods: { type: 'string', default: '30' }, trials: { type: 'string', default: '5' }, 'server-args': { type: 'string', default: '' } } });
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
    const deadIps = new Set(before.map((p) => p.ip));
    const deadUids = new Set(before.map((p) => p.uid));
    const t0 = Date.now();
    await killMachine(agent);
    let epAt = 0;
    let readyAt = 0;
    while (!epAt || !readyAt) {
      if (!epAt) {
        const ep = await client.get<KubeObject>(epRef, app);
        const ips = ((ep.subsets ?? []) as any[]).flatMap((s: any) => (s.addresses ?? []).map((a: any) => a.ip));
        if (!ips.some((ip: string) => deadIps.has(ip))) epAt = Date.now();
      }
      if (!readyAt) {
        const pods = (await client.list<KubeObject>(podsRef, { labelSelector: `app=${app}` })).items;
        const fresh = pods.filter((p) => !deadUids.has(p.metadata.uid!) && !p.metadata.deletionTimestamp);
        if (fresh.length === podCount && fresh.every((p) => (p.status?.conditions ?? []).some((x: any) => x.type === 'Ready' && x.status === 'True'))) readyAt = Date.now();
      }
      if (Date.now() - t0 > 600_000 || stopping) throw new Error(stopping ? 'interrupted' : 'trial did not finish in 10 minutes');
      await new Promise((r) => setTimeout(r, 50));
    }
    toEndpoints.push(epAt - t0);
    toReady.push(readyAt - t0);
    console.log(`trial ${t + 1}/${trials}: ${podCount} pods; endpoints without the dead pods after ${((epAt - t0) / 1000).toFixed(2)} s, all replacements Ready after ${((readyAt - t0) / 1000).toFixed(2)} s`);
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
  await deleteWorkloads(c);
  client.close();
  await c.stop();
}
