// Pod start-up latency on one node: a real `tug server` with its embedded agent,
// the image already present; N pods created in batches (as fast as the API takes
// them), each measured from its create request to the moment a watch shows
// it Ready. Reports p50/p90/p99/max against Kubernetes' SLO (p99 <= 5 s) and
// the goal (p99 <= 1 s).
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { KubeClient, type KubeObject } from '../../src/kube/client/kube-client.js';
import { Informer } from '../../src/kube/client/informer.js';
import { runTool } from '../../src/util/exec-file.js';
import { startE2eCluster, hex } from '../../test/cluster-e2e/e2e-cluster.js';

const { values } = parseArgs({ options: { pods: { type: 'string', default: '100' }, batch: { type: 'string', default: '10' }, paced: { type: 'boolean', default: false } } });
const total = Number(values.pods);
const batch = Number(values.batch);
/** --paced: the next batch is created only once the previous one is Ready (latency without the burst's queue). */
const paced = values.paced!;

interface Pod extends KubeObject {
  status?: { conditions?: Array<{ type: string; status: string }> };
}

const podBody = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { bench: 'startup' } },
  spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] },
});

const isReady = (p: Pod): boolean => Boolean(p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));

const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');

/**
 * CPU seconds of the server process and its children (the spawn helper),
 * each with what it reaped (the tools and conmon parents it spawned): the
 * node's own cost, without the containers and conmon's monitors.
 */
async function serverCpu(pid: number): Promise<number> {
  const ticks = async (p: number): Promise<number> => {
    const stat = await readFile(`/proc/${p}/stat`, 'utf8').catch(() => '');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return f.length > 14 ? Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) : 0;
  };
  const children = new Set<number>();
  for (const t of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    for (const c of (await readFile(`/proc/${pid}/task/${t}/children`, 'utf8').catch(() => '')).split(' ').filter(Boolean)) children.add(Number(c));
  }
  let sum = await ticks(pid);
  for (const c of children) sum += await ticks(c);
  return sum / 100;
}

/** CPU seconds of the server process alone and of its spawn helper alone (their own threads, nothing they reaped). */
async function serverOwnCpu(pid: number): Promise<{ server: number; helper: number }> {
  const own = async (p: number): Promise<number> => {
    const stat = await readFile(`/proc/${p}/stat`, 'utf8').catch(() => '');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return f.length > 12 ? (Number(f[11]) + Number(f[12])) / 100 : 0;
  };
  let helper = 0;
  for (const t of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    for (const c of (await readFile(`/proc/${pid}/task/${t}/children`, 'utf8').catch(() => '')).split(' ').filter(Boolean)) helper += await own(Number(c));
  }
  return { server: await own(pid), helper };
}

/**
 * Nanoseconds of CPU in a cgroup v1 cpuacct group (its descendants included);
 * undefined when there is no such group (cgroup v2 reads cpu.stat's usage_usec).
 */
async function cgroupCpuNs(path: string): Promise<number | undefined> {
  const v1 = await readFile(`/sys/fs/cgroup/cpuacct${path}/cpuacct.usage`, 'utf8').catch(() => undefined);
  if (v1 !== undefined) return Number(v1.trim());
  const v2 = await readFile(`/sys/fs/cgroup${path}/cpu.stat`, 'utf8').catch(() => undefined);
  const m = v2?.match(/^usage_usec (\d+)/m);
  return m ? Number(m[1]) * 1000 : undefined;
}

/** A process's cgroup for CPU accounting (the cpuacct line on v1, the unified one on v2). */
async function cpuCgroupOf(pid: number | 'self'): Promise<string | undefined> {
  const lines = (await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '')).split('\n');
  const v1 = lines.find((l) => /^\d+:[^:]*\bcpuacct\b[^:]*:/.test(l));
  const line = v1 ?? lines.find((l) => l.startsWith('0::'));
  return line?.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
}

/**
 * Where every process of a pod start runs: the bench's own cgroup (the server, its
 * spawn helper, conmon, runc create, the CNI plugins and tools all stay in it when
 * the bench is started in a cgroup of its own, e.g. by run.sh) and the engine's
 * cgroup parent (runc's init and the containers, moved there by runc). Their sum
 * over the burst is the whole CPU cost of starting the pods, kernel included.
 */
async function allCpuGroups(cluster: { engineSocket: string }, podName: string): Promise<string[]> {
  const groups: string[] = [];
  const own = await cpuCgroupOf('self');
  if (own && own !== '/') groups.push(own);
  const ids = (await runTool('docker', ['-H', `unix://${cluster.engineSocket}`, 'ps', '-q', '--filter', `label=io.kubernetes.pod.name=${podName}`])).stdout.trim().split('\n').filter(Boolean);
  for (const id of ids) {
    const pid = Number((await runTool('docker', ['-H', `unix://${cluster.engineSocket}`, 'inspect', '-f', '{{.State.Pid}}', id])).stdout.trim());
    const g = pid > 0 ? await cpuCgroupOf(pid) : undefined;
    if (g && g !== '/') {
      groups.push(g.slice(0, g.lastIndexOf('/')) || '/');
      break;
    }
  }
  return groups;
}

const sumCpu = async (groups: string[]): Promise<number> => (await Promise.all(groups.map(cgroupCpuNs))).reduce<number>((a, b) => a + (b ?? 0), 0) / 1e9;

/** apiserver_request_total summed per verb and resource ("subresource" after a slash). */
async function apiRequests(cluster: { kubectl(args: string[], opts?: { allowFailure?: boolean }): Promise<{ stdout: string }> }): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const text = (await cluster.kubectl(['get', '--raw', '/metrics'], { allowFailure: true })).stdout;
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const label = (k: string) => line.match(new RegExp(`[{,]${k}="([^"]*)"`))?.[1] ?? '';
    const key = `${label('verb')} ${label('resource')}${label('subresource') ? `/${label('subresource')}` : ''}`;
    out.set(key, (out.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
  const cluster = await startE2eCluster();
  const ns = `bench-${hex(3)}`;
  let informer: Informer<Pod> | undefined;
  try {
    const client = await KubeClient.fromKubeconfig(join(cluster.dataDir, 'kubeconfig'));
    await cluster.kubectl(['create', 'namespace', ns]);
    const ref = { group: '', version: 'v1', resource: 'pods', namespace: ns };
    const sent = new Map<string, number>();
    const readyAt = new Map<string, number>();
    let allReady!: () => void;
    const done = new Promise<void>((r) => (allReady = r));
    informer = new Informer<Pod>(client, ref);
    const seen = (p: Pod) => {
      const name = p.metadata.name!;
      if (!readyAt.has(name) && isReady(p)) {
        readyAt.set(name, performance.now());
        if (name.startsWith('p-') && [...readyAt.keys()].filter((n) => n.startsWith('p-')).length === total) allReady();
      }
    };
    informer.addHandlers({ onAdd: seen, onUpdate: seen });
    await informer.start();

    // Warm-up: the image is present and the node's network exists before measuring.
    await client.create(ref, podBody('warmup'));
    await cluster.until('warm-up pod Ready', async () => readyAt.has('warmup'), 600);

    const groups = await allCpuGroups(cluster, 'warmup');
    const requests0 = await apiRequests(cluster);
    const loadBefore = load();
    const cpu0 = await serverCpu(cluster.pid);
    const own0 = await serverOwnCpu(cluster.pid);
    const all0 = await sumCpu(groups);
    const containers0 = groups.length === 2 ? ((await cgroupCpuNs(groups[1])) ?? 0) / 1e9 : 0;
    const epoch0 = Date.now();
    const t0 = performance.now();
    for (let i = 0; i < total; i += batch) {
      const names = Array.from({ length: Math.min(batch, total - i) }, (_, j) => `p-${String(i + j).padStart(4, '0')}`);
      await Promise.all(names.map(async (n) => {
        sent.set(n, performance.now());
        await client.create(ref, podBody(n));
      }));
      if (paced) await cluster.until(`batch ${i / batch} Ready`, async () => names.every((n) => readyAt.has(n)), 1200).catch(() => undefined);
    }
    const createdIn = performance.now() - t0;
    const timeout = setTimeout(() => allReady(), 600_000);
    await done;
    clearTimeout(timeout);
    const cpu = (await serverCpu(cluster.pid)) - cpu0;
    const own1 = await serverOwnCpu(cluster.pid);
    const own = { server: own1.server - own0.server, helper: own1.helper - own0.helper };
    const all = (await sumCpu(groups)) - all0;
    const containersSide = groups.length === 2 ? ((await cgroupCpuNs(groups[1])) ?? 0) / 1e9 - containers0 : 0;
    const epoch1 = Date.now();
    const lat = [...sent.entries()].filter(([n]) => readyAt.has(n)).map(([n, t]) => readyAt.get(n)! - t).sort((a, b) => a - b);
    const s = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
    console.log(`pod start-up latency, create -> Ready (watch), ${total} pods in ${paced ? 'paced ' : ''}batches of ${batch}, one node, image present (load average ${loadBefore} -> ${load()})`);
    console.log(`  create loop took ${s(createdIn)}; Ready: ${lat.length}/${total}; all Ready after ${s(Math.max(...readyAt.values()) - t0)}; server + spawn helper CPU ${cpu.toFixed(1)} s (${((cpu / total) * 1000).toFixed(0)} ms a pod; the server process alone ${((own.server / total) * 1000).toFixed(0)} ms, the spawn helper alone ${((own.helper / total) * 1000).toFixed(0)} ms)`);
    // Needs the bench in a cgroup of its own (run.sh puts it in one); else only the containers' side is counted.
    if (groups.length === 2) console.log(`  all processes (server, spawn helper, conmon, runc, CNI, containers; kernel time included) CPU ${all.toFixed(1)} s (${((all / total) * 1000).toFixed(0)} ms a pod; ${((containersSide / total) * 1000).toFixed(0)} ms of it in the containers' cgroups: runc's init and the containers); cgroups ${groups.join(' + ')}`);
    // What the burst asked of the API server (the node agent's requests among them), per pod.
    const requests1 = await apiRequests(cluster);
    const asked = [...requests1].map(([k, n]) => [k, n - (requests0.get(k) ?? 0)] as const).filter(([, n]) => n >= total / 2).sort((a, b) => b[1] - a[1]);
    console.log(`  API requests a pod: ${asked.map(([k, n]) => `${k} ${(n / total).toFixed(1)}`).join(', ')}`);
    // Wall-clock bounds of the burst, to match against process accounting or a system-wide profile.
    console.log(`  burst window (epoch ms) ${epoch0} .. ${epoch1}`);
    if (lat.length) {
      const p99 = pct(lat, 99);
      console.log(`  p50 ${s(pct(lat, 50))}  p90 ${s(pct(lat, 90))}  p99 ${s(p99)}  max ${s(lat[lat.length - 1])}`);
      console.log(`  Kubernetes SLO p99 <= 5 s: ${p99 <= 5000 ? 'met' : 'NOT met'};  goal p99 <= 1 s: ${p99 <= 1000 ? 'met' : 'NOT met'}`);
    }
    if (lat.length < total) process.exitCode = 1;
  } finally {
    informer?.stop();
    // TUG_BENCH_SERVER_LOG=FILE keeps the server's output (with TUG_TRACE=1: the engine's start phases) for profiling.
    if (process.env.TUG_BENCH_SERVER_LOG) await writeFile(process.env.TUG_BENCH_SERVER_LOG, cluster.output());
    const del = await cluster.kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=300s'], { allowFailure: true });
    if (del.code !== 0) console.error(`delete namespace ${ns}: ${del.stderr}`);
    // The node removes the pods' containers after the API objects are gone: wait for an empty engine.
    await cluster
      .until('node engine empty', async () => (await runTool('docker', ['-H', `unix://${cluster.engineSocket}`, 'ps', '-aq'])).stdout.trim() === '', 600)
      .catch((err) => console.error(String(err)));
    await cluster.stop();
  }
}

await main();
