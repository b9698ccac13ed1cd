// Agent restart (issue #14: the restart a node's toleration must ride out): per
// trial, a node runs a Deployment of N busybox pods; its `tug agent` gets
// SIGTERM at t0 (SIGKILL with --kill: a crash, which gets no clean-stop hold)
// and is started again on the same data dir (TUG_TRACE on, so it
// says when each step of its stop and start was done). A watch on the node's
// Lease, opened before t0 and stamped on arrival, measures the heartbeat gap
// the node lifecycle controller sees: the last renewal before the stop to the
// first one of the new process. Also said: whether the node turned Unknown or
// was tainted, whether any pod was evicted, and whether the pods' containers
// are the same ones after the restart (adopted, not made again).
//
// Usage: node dist/bench/cluster-agent-restart/bench.js [--pods 30] [--trials 5] [--server-args "--flag v ..."] [--steps] [--agent-log FILE] [--kill]
import { appendFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KubeClient, type KubeObject, type ResourceRef } from '../../src/kube/client/kube-client.js';
import { startAgentCluster, suffix } from '../../test/cluster-agent/agent-cluster.js';
import { deleteWorkloads, deployOnto, engineContainers, nodeJson, podsOf, readyStatus } from '../../test/cluster-nodes/node-tools.js';

const { values } = parseArgs({ options: { pods: { type: 'string', default: '30' }, trials: { type: 'string', default: '5' }, 'server-args': { type: 'string', default: '' }, steps: { type: 'boolean', default: false }, 'agent-log': { type: 'string' }, kill: { type: 'boolean', default: false } } });
const signal = values.kill ? 'SIGKILL' : 'SIGTERM';
const podCount = Number(values.pods);
const trials = Number(values.trials);
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const sec = (ms: number) => (ms / 1000).toFixed(2);

let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => (stopping = true));

const c = await startAgentCluster({ serverArgs: values['server-args'].split(' ').filter(Boolean) });
// Only the agents started from here on trace their steps (the server's output stays as it is).
process.env.TUG_TRACE = '1';
const client = await KubeClient.fromKubeconfig(join(c.dataDir, 'kubeconfig'));
const leasesRef: ResourceRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease' };
const nodesRef: ResourceRef = { group: '', version: 'v1', resource: 'nodes' };
const results = { exit: [] as number[], gap: [] as number[], leaseAfterT0: [] as number[], registered: [] as number[], adopted: [] as number[] };
const nodeName = `bench-restart-${suffix()}`;
let agent = await c.startAgent(nodeName);
let app = '';
try {
  for (let t = 0; t < trials && !stopping; t++) {
    // The pods of the last trial, unless it lost some (evicted: their replacements run elsewhere); then a new Deployment.
    let before = app ? (await podsOf(c, app)).filter((p) => p.node === nodeName && !p.terminating && p.ready) : [];
    if (before.length !== podCount) {
      if (app) await c.kubectl(['delete', 'deployment', app, '--wait=true']);
      app = `restart-${suffix()}`;
      before = await deployOnto(c, nodeName, [c.nodeName], app, podCount);
    }
    const loads = loadavg().map((l) => l.toFixed(1)).join(' ');
    const containersBefore = (await engineContainers(agent.dataDir)).map((x) => x.Id).sort();
    const abort = new AbortController();
    const leaseSeen: number[] = [];
    const nodeEvents: string[] = [];
    const watch = async (ref: ResourceRef, name: string, on: (o: KubeObject) => void) => {
      const list = await client.list(ref, { fieldSelector: `metadata.name=${name}` });
      // Wrapped: awaiting watch() must not wait for the watch to end.
      const done = (async () => {
        try {
          for await (const ev of client.watch(ref, { fieldSelector: `metadata.name=${name}`, resourceVersion: list.metadata?.resourceVersion, signal: abort.signal, timeoutSeconds: 600 })) if (ev.type !== 'BOOKMARK') on(ev.object);
        } catch {
          // aborted
        }
      })();
      return { done };
    };
    const watches = [
      await watch(leasesRef, nodeName, () => leaseSeen.push(Date.now())),
      await watch(nodesRef, nodeName, (n) => {
        const taints = ((n.spec?.taints ?? []) as { key: string }[]).map((x) => x.key).filter((k) => k.startsWith('node.kubernetes.io/'));
        nodeEvents.push(`Ready=${readyStatus(n)}${taints.length ? ` taints=${taints.join(',')}` : ''}`);
      }),
    ];
    await new Promise((r) => setTimeout(r, 1000));
    const t0 = Date.now();
    const exited = new Promise<number>((r) => agent.proc.child.once('exit', () => r(Date.now())));
    agent.proc.child.kill(signal);
    const tExit = await exited;
    const oldOutput = agent.proc.output();
    agent = await c.startAgent(nodeName, { dataDir: agent.dataDir, net: agent.net });
    const tRegistered = Date.now();
    await c.until('node Ready', async () => (readyStatus(await nodeJson(c, nodeName)) === 'True' ? true : undefined));
    await c.until('pods Ready', async () => ((await podsOf(c, app)).every((p) => p.ready) ? true : undefined));
    // Past grace + toleration from the stop: an eviction would have shown by now.
    await new Promise((r) => setTimeout(r, Math.max(0, 8000 - (Date.now() - t0))));
    abort.abort();
    await Promise.allSettled(watches.map((w) => w.done));
    const pods = await podsOf(c, app);
    const evicted = before.filter((b) => !pods.some((p) => p.uid === b.uid && !p.terminating)).length;
    const containersAfter = (await engineContainers(agent.dataDir)).map((x) => x.Id).sort();
    const kept = JSON.stringify(containersAfter) === JSON.stringify(containersBefore);

    // The stopping agent renews its Lease until it exits.
    const lastBefore = Math.max(...leaseSeen.filter((x) => x <= tExit));
    const firstAfter = leaseSeen.find((x) => x > tExit);
    const newSteps = [...agent.proc.output().matchAll(/^trace (\d+) agent (.*)$/gm)].map((m) => [Number(m[1]) - t0, m[2]!] as const);
    const oldSteps = [...oldOutput.matchAll(/^trace (\d+) agent (stop: .*)$/gm)].map((m) => [Number(m[1]) - t0, m[2]!] as const);
    const syncEnds = [...agent.proc.output().matchAll(/^trace (\d+) pod \S+ sync end$/gm)].map((m) => Number(m[1]) - t0);
    const adopted = syncEnds.length ? Math.max(...syncEnds) : NaN;
    results.exit.push(tExit - t0);
    if (firstAfter) {
      results.gap.push(firstAfter - lastBefore);
      results.leaseAfterT0.push(firstAfter - t0);
    }
    results.registered.push(tRegistered - t0);
    results.adopted.push(adopted);
    const unknown = nodeEvents.some((e) => !e.startsWith('Ready=True'));
    console.log(
      `trial ${t + 1}/${trials} (load ${loads}): exit ${sec(tExit - t0)} s, lease renewed ${firstAfter ? sec(firstAfter - t0) : '-'} s (gap since the last renewal ${firstAfter ? sec(firstAfter - lastBefore) : '-'} s), ` +
        `registered ${sec(tRegistered - t0)} s, ${syncEnds.length} pod syncs done by ${sec(adopted)} s; node ${unknown ? `went ${nodeEvents.filter((e) => !e.startsWith('Ready=True')).join(' / ')}` : 'stayed Ready'}; ${evicted} pods evicted; containers ${kept ? 'kept' : 'CHANGED'}`,
    );
    if (values['agent-log']) await appendFile(values['agent-log'], `--- trial ${t + 1}: stopped agent\n${oldOutput}\n--- restarted agent\n${agent.proc.output()}\n`);
    if (values.steps) for (const [at, what] of [...oldSteps, ...newSteps]) console.log(`  ${sec(at).padStart(6)} s  ${what}`);
  }
  const line = (name: string, xs: number[]) => `${name} p50 ${sec(pct(xs, 50))} s, max ${sec(Math.max(...xs))} s`;
  if (results.exit.length)
    console.log(
      `[agent restart, ${podCount} pods, ${results.exit.length} trials, load ${loadavg()[0]!.toFixed(1)}] ${line(`${signal} -> exit`, results.exit)}; ${line(`${signal} -> lease renewed`, results.leaseAfterT0)}; ` +
        `${line('heartbeat gap', results.gap)}; ${line(`${signal} -> registered`, results.registered)}; ${line(`${signal} -> pods synced`, results.adopted)}`,
    );
} finally {
  await deleteWorkloads(c);
  client.close();
  await c.stop();
}
