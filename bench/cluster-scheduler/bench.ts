// Scheduler throughput, kubemark-style: a real `tug server --no-agent` (its
// scheduler in a worker thread of the server process), N Node objects that hold Leases and heartbeat but run
// nothing, then M pods created through the API. Reports pods/s scheduled end
// to end (first create → last bind seen through a watch) and the p50/p99 of
// each pod's latency from its create request to the watch event with its node.
// With --hold the server runs with --scheduler-hold: all pods are created
// first while nothing schedules them, then SIGUSR2 releases the scheduler and
// the bench reports the scheduler's own rate (release → last bind), as
// kube-scheduler's scheduler_perf measures it.
// Usage: node dist/bench/cluster-scheduler/bench.js [--nodes 1000] [--pods 30000] [--concurrency 64] [--store sqlite|etcd] [--hold]
// (--store etcd starts a private etcd on loopback ports for the run.)
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { KubeClient, type KubeObject } from '../../src/kube/client/kube-client.js';
import { startEtcd, type EtcdCluster } from '../../test/cluster-storage/etcd-harness.js';
import { cpuBreakdown, cpuSnapshot } from '../cpu-breakdown.js';

const { values } = parseArgs({ options: { nodes: { type: 'string', default: '1000' }, pods: { type: 'string', default: '30000' }, concurrency: { type: 'string', default: '64' }, store: { type: 'string', default: 'sqlite' }, hold: { type: 'boolean', default: false } } });
const hold = values.hold!;
const nodeCount = Number(values.nodes);
const podCount = Number(values.pods);
const concurrency = Number(values.concurrency);
// TUG_BENCH_SERVER_TREE runs another checkout's built server (e.g. main's, for before/after runs in this harness).
const mainJs = join(process.env.TUG_BENCH_SERVER_TREE || resolve(dirname(fileURLToPath(import.meta.url)), '../../..'), 'dist', 'src', 'cluster', 'main.js');

async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) await fn(items[i++]);
  }));
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const dataDir = await mkdtemp(join(tmpdir(), 'tug-sched-bench-'));
let etcd: EtcdCluster | undefined;
let storeArgs = ['--store', 'sqlite'];
if (values.store === 'etcd') {
  etcd = await startEtcd(1, { quotaBackendBytes: 8 * 2 ** 30 });
  storeArgs = ['--store', 'etcd', '--etcd-endpoints', etcd.endpoints[0]];
}
// The default cluster CIDR (a /16 in /24s) has room for 256 nodes' podCIDRs; the node IPAM
// controller must find one for each hollow node, so the range grows with the node count (a
// server without an agent routes and claims nothing on this machine). No dashboard: the
// default address may be another server's.
const clusterCidr = `10.64.0.0/${Math.max(10, Math.min(16, 24 - Math.ceil(Math.log2(Math.max(nodeCount, 256)))))}`;
// TUG_BENCH_SERVER_ARGS adds `tug server` flags (e.g. --leader-elect=false, to see the scheduler without Lease losses).
const child = spawn(process.execPath, [...(process.env.TUG_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), '--max-old-space-size=4096', '--input-type=module', '-e', `import(${JSON.stringify(mainJs)}).then((m) => m.runServerCommand(process.argv.slice(1)))`, '--', '--data-dir', dataDir, '--port', '0', '--no-agent', '--ui-addr', 'off', '--cluster-cidr', clusterCidr, ...storeArgs, ...(hold ? ['--scheduler-hold'] : []), ...(process.env.TUG_BENCH_SERVER_ARGS ?? '').split(' ').filter(Boolean)], { stdio: ['ignore', 'pipe', 'inherit'] });
const heartbeats: NodeJS.Timeout[] = [];
// Interrupted (Ctrl-C, timeout): stop the server and etcd we started, by their PIDs, and remove the temp dir.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    child.kill('SIGKILL');
    void Promise.allSettled([etcd?.stop(), rm(dataDir, { recursive: true, force: true })]).finally(() => process.exit(130));
  });
}
try {
  await new Promise<void>((res, rej) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('kubeconfig written')) res();
    });
    child.once('exit', (c) => rej(new Error(`tug server exited with ${c}`)));
  });
  // As many connections as requests in flight (a KubeClient keeps 16 by default, which would cap --concurrency).
  const client = new KubeClient({ ...(await KubeClient.readKubeconfig(join(dataDir, 'kubeconfig'))), maxRequestSockets: concurrency });
  const nodesRef = { group: '', version: 'v1', resource: 'nodes' };
  const leasesRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease' };
  const podsRef = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
  const names = Array.from({ length: nodeCount }, (_, i) => `hollow-${String(i).padStart(5, '0')}`);
  const res = { cpu: '32', memory: '64Gi', pods: '110' };
  let t = Date.now();
  await pool(names, 32, async (name) => {
    const now = new Date().toISOString();
    await client.create(nodesRef, {
      metadata: { name, labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': `zone-${name.slice(-1)}` } },
      status: { capacity: res, allocatable: res, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'hollow node', lastHeartbeatTime: now, lastTransitionTime: now }] },
    });
    await client.create(leasesRef, { metadata: { name }, spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: now.replace('Z', '000Z').replace(/\.(\d{6})\d*Z$/, '.$1Z') } });
  });
  console.log(`registered ${nodeCount} hollow nodes (+ Leases) in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  // Heartbeats: every node renews its Lease every 10 s, spread over the interval, as kubelets do.
  names.forEach((name, i) => {
    const first = setTimeout(() => {
      const beat = () => void client.patch(leasesRef, name, { spec: { renewTime: new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z') } }).catch(() => undefined);
      beat();
      heartbeats.push(setInterval(beat, 10_000));
    }, (i * 10_000) / nodeCount);
    heartbeats.push(first);
  });

  const createdAt = new Map<string, number>();
  const latencies: number[] = [];
  let lastBound = 0;
  let allBound!: () => void;
  const done = new Promise<void>((r) => (allBound = r));
  const bound = new Set<string>();
  const abort = new AbortController();
  const list = await client.list(podsRef);
  void (async () => {
    for await (const ev of client.watch<KubeObject>(podsRef, { resourceVersion: list.metadata.resourceVersion, signal: abort.signal, timeoutSeconds: 3600 })) {
      const p = ev.object;
      if (ev.type === 'BOOKMARK' || !p.spec?.nodeName || bound.has(p.metadata.name!)) continue;
      const c = createdAt.get(p.metadata.name!);
      if (c === undefined) continue;
      bound.add(p.metadata.name!);
      lastBound = Date.now();
      latencies.push(lastBound - c);
      if (bound.size === podCount) allBound();
    }
  })();
  const procs = { 'tug server': child.pid, etcd: etcd?.pids[0], 'bench client': process.pid };
  const loadAvg = async () => (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
  // What the hollow nodes' heartbeats alone cost (a second's worth), to set beside the per-pod numbers.
  const idleFrom = await cpuSnapshot(procs);
  await new Promise((r) => setTimeout(r, 10_000));
  const idleTo = await cpuSnapshot(procs);
  const pods = Array.from({ length: podCount }, (_, i) => `pause-${i}`);
  const loadAtStart = await loadAvg();
  const cpuFrom = await cpuSnapshot(procs);
  t = Date.now();
  const start = t;
  let createdDone = 0;
  await pool(pods, concurrency, async (name) => {
    createdAt.set(name, Date.now());
    await client.create(podsRef, { metadata: { name, labels: { app: 'bench' } }, spec: { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.9', resources: { requests: { cpu: '100m', memory: '128Mi' } } }] } });
    createdDone++;
  });
  const createSecs = (Date.now() - start) / 1000;
  let releasedAt = 0;
  if (hold) {
    // Nothing may be bound yet; then let the scheduler go and time it alone.
    if (bound.size > 0) throw new Error(`${bound.size} pods were bound while the scheduler was held`);
    releasedAt = Date.now();
    child.kill('SIGUSR2');
  }
  const progress = setInterval(() => console.log(`  ${bound.size}/${podCount} bound`), 5000);
  await done;
  clearInterval(progress);
  const cpuTo = await cpuSnapshot(procs);
  const loadAtEnd = await loadAvg();
  abort.abort();
  const secs = (lastBound - start) / 1000;
  console.log(`created ${createdDone} pods in ${createSecs.toFixed(1)} s (${(createdDone / createSecs).toFixed(0)} pods/s through the API, concurrency ${concurrency})`);
  if (!hold) console.log(`[store ${values.store}] scheduled ${podCount} pods on ${nodeCount} nodes in ${secs.toFixed(1)} s: ${(podCount / secs).toFixed(0)} pods/s end to end (first create → last bind)`);
  if (hold) {
    const schedSecs = (lastBound - releasedAt) / 1000;
    console.log(`[store ${values.store}] scheduler alone (pods created first, scheduler released → last bind seen): ${podCount} pods in ${schedSecs.toFixed(1)} s: ${(podCount / schedSecs).toFixed(0)} pods/s`);
  } else {
    console.log(`scheduling latency (create request → bound seen by watch): p50 ${pct(latencies, 50)} ms, p99 ${pct(latencies, 99)} ms, max ${Math.max(...latencies)} ms`);
  }
  console.log(`\nCPU per pod, first create → last bind, by process and thread (load average ${loadAtStart} at the start, ${loadAtEnd} at the end; ${nodeCount} nodes' heartbeats included):\n`);
  console.log(cpuBreakdown(cpuFrom, cpuTo, podCount, ['tug server', 'bench client']));
  console.log(`\nCPU per second of the ${nodeCount} nodes' heartbeats alone (10 s before the creates):\n`);
  console.log(cpuBreakdown(idleFrom, idleTo, 10, ['tug server', 'bench client']).split('\n\n')[0]);
  client.close();
} finally {
  for (const h of heartbeats) clearTimeout(h);
  // A server that already exited (failed start) has no 'exit' left to wait for.
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  await etcd?.stop();
  await rm(dataDir, { recursive: true, force: true });
}
