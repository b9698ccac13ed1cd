// API server latency with a realistic object count, through the real HTTPS API:
// a `tug server --no-agent` (SQLite, or a private etcd on loopback), the
// kubeconfig's admin client cert over a keep-alive agent. Loads N pods
// (~1.5 KB each) with 16 concurrent writers (→ writes/s), then, with them
// stored, samples create/get/patch latency with a few workers, paginated lists
// (limit=500), and watch delivery delay (a send timestamp in an annotation vs
// the event's arrival on a watch). Ends with the server's CPU time per create
// during the load (steadier than latency on a shared machine) and peak RSS (VmHWM).
// --node-watchers N keeps N watches open during the load, each as a node agent's
// (pods with fieldSelector spec.nodeName=<its node>): every create is an event to all of them.
// Usage: node dist/bench/cluster-api/bench.js [--store sqlite|etcd] [--pods 10000] [--writers 16] [--workers 4] [--samples 1000] [--node-watchers 0]
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:https';
import type { ClientRequest } from 'node:http';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { parse } from 'yaml';
import { startEtcd, type EtcdCluster } from '../../test/cluster-storage/etcd-harness.js';
import { cpuBreakdown, cpuSnapshot } from '../cpu-breakdown.js';

const { values } = parseArgs({
  options: {
    store: { type: 'string', default: 'sqlite' },
    pods: { type: 'string', default: '10000' },
    writers: { type: 'string', default: '16' },
    workers: { type: 'string', default: '4' },
    samples: { type: 'string', default: '1000' },
    'node-watchers': { type: 'string', default: '0' },
  },
});
const podCount = Number(values.pods);
const writers = Number(values.writers);
const workers = Number(values.workers);
const samples = Number(values.samples);
const nodeWatchers = Number(values['node-watchers']);
// TUG_BENCH_SERVER_TREE runs another checkout's built server (e.g. main's, for before/after runs in this harness).
const mainJs = join(process.env.TUG_BENCH_SERVER_TREE || resolve(dirname(fileURLToPath(import.meta.url)), '../../..'), 'dist', 'src', 'cluster', 'main.js');
/** Wall-clock ms with sub-ms precision, comparable across processes' reads of the same clock. */
const nowMs = () => performance.timeOrigin + performance.now();

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
}

/** A process's CPU time so far (user + sys, all its threads), from /proc/PID/stat. */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

async function pool(count: number, n: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < count) await fn(next++);
  }));
}

/** A pod shaped like a real Deployment's pod: labels, owner ref, env, resources, probes, volumes (~1.5 KB JSON). */
function pod(name: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      labels: { app: 'bench-web', tier: 'frontend', 'pod-template-hash': '7d9c8b6f5', release: 'stable' },
      annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090', 'kubectl.kubernetes.io/restartedAt': '2026-11-21T10:00:00Z' },
    },
    spec: {
      containers: [
        {
          name: 'web',
          image: 'registry.example.internal/team/web-frontend:v1.42.7',
          ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }, { name: 'metrics', containerPort: 9090, protocol: 'TCP' }],
          env: [
            { name: 'LOG_LEVEL', value: 'info' },
            { name: 'UPSTREAM_URL', value: 'http://backend.default.svc.cluster.local:8080' },
            { name: 'FEATURE_FLAGS', value: 'checkout-v2,new-search,dark-mode' },
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          ],
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
          readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 5, failureThreshold: 3 },
          livenessProbe: { httpGet: { path: '/livez', port: 8080 }, initialDelaySeconds: 10, periodSeconds: 10 },
          volumeMounts: [{ name: 'config', mountPath: '/etc/web' }, { name: 'cache', mountPath: '/var/cache/web' }],
        },
      ],
      volumes: [{ name: 'config', configMap: { name: 'web-config' } }, { name: 'cache', emptyDir: { sizeLimit: '1Gi' } }],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
    },
  };
}

const dataDir = await mkdtemp(join(tmpdir(), 'tug-api-bench-'));
let etcd: EtcdCluster | undefined;
let server: ChildProcess | undefined;
const cleanup = async () => {
  for (const p of [server]) {
    if (p && p.exitCode === null && p.signalCode === null) {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
  }
  await etcd?.stop();
  await rm(dataDir, { recursive: true, force: true });
};
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    server?.kill('SIGKILL');
    void Promise.allSettled([etcd?.stop(), rm(dataDir, { recursive: true, force: true })]).finally(() => process.exit(130));
  });
}

try {
  let storeArgs = ['--store', 'sqlite'];
  if (values.store === 'etcd') {
    etcd = await startEtcd(1, { quotaBackendBytes: 4 * 2 ** 30 });
    storeArgs = ['--store', 'etcd', '--etcd-endpoints', etcd.endpoints[0]];
  }
  // TUG_BENCH_NODE_ARGS passes flags to the server's node (e.g. --cpu-prof --cpu-prof-dir=DIR to profile it).
  server = spawn(process.execPath, [...(process.env.TUG_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), '--input-type=module', '-e', `import(${JSON.stringify(mainJs)}).then((m) => m.runServerCommand(process.argv.slice(1)))`, '--', '--data-dir', join(dataDir, 'server'), '--port', '0', '--no-agent', '--ui-addr', 'off', ...storeArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
  const srv = server;
  const baseUrl = await new Promise<string>((res, rej) => {
    let out = '';
    srv.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = out.match(/API listening on (https:\/\/\S+)/);
      if (m && out.includes('kubeconfig written')) res(m[1]);
    });
    srv.once('exit', (code) => rej(new Error(`tug server exited with ${code}`)));
  });
  srv.stdout!.resume();

  const kc = parse(await readFile(join(dataDir, 'server', 'kubeconfig'), 'utf8')) as { users: { user: Record<string, string> }[]; clusters: { cluster: Record<string, string> }[] };
  const b64 = (s: string) => Buffer.from(s, 'base64');
  const agent = new Agent({ keepAlive: true, maxSockets: 64, ca: b64(kc.clusters[0].cluster['certificate-authority-data']), cert: b64(kc.users[0].user['client-certificate-data']), key: b64(kc.users[0].user['client-key-data']) });
  const u = new URL(baseUrl);
  const call = (method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; body: string; ms: number }> =>
    new Promise((res, rej) => {
      const t0 = performance.now();
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = request({ agent, method, hostname: u.hostname, port: u.port, path, headers: data ? { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(data) } : {} }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => res({ status: r.statusCode ?? 0, body: Buffer.concat(chunks).toString(), ms: performance.now() - t0 }));
      });
      req.on('error', rej);
      req.end(data);
    });
  const must = async (method: string, path: string, body?: unknown, ct?: string) => {
    const r = await call(method, path, body, ct);
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.body.slice(0, 300)}`);
    return r;
  };

  const ns = 'bench';
  await must('POST', '/api/v1/namespaces', { metadata: { name: ns } });
  const podsPath = `/api/v1/namespaces/${ns}/pods`;
  const podBytes = JSON.stringify(pod('web-7d9c8b6f5-00000')).length;
  const log = (s: string) => process.stderr.write(`[${values.store}] ${s}\n`);

  // 1. Load: N creates with `writers` concurrent clients.
  log(`creating ${podCount} pods (${podBytes} B each) with ${writers} writers`);
  const loadLat: number[] = [];
  // Their own agent: each watch holds a connection, as each node agent does.
  const watchAgent = new Agent({ ca: agent.options.ca, cert: agent.options.cert, key: agent.options.key });
  const nodeWatches = await Promise.all(
    Array.from({ length: nodeWatchers }, (_, i) =>
      new Promise<ClientRequest>((res, rej) => {
        const req = request({ agent: watchAgent, method: 'GET', hostname: u.hostname, port: u.port, path: `/api/v1/pods?watch=1&fieldSelector=${encodeURIComponent(`spec.nodeName=bench-node-${i}`)}` }, (r) => {
          r.resume();
          res(req);
        });
        req.on('error', rej);
        req.end();
      }),
    ),
  );
  if (nodeWatchers) log(`${nodeWatchers} node watches open`);
  const procs = { 'tug server': srv.pid, etcd: etcd?.pids[0], 'bench client': process.pid };
  const cpuBefore = await cpuSnapshot(procs);
  const cpuAtStart = await cpuMs(srv.pid!);
  const loadAvg = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
  const loadStart = performance.now();
  await pool(podCount, writers, async (i) => {
    loadLat.push((await must('POST', podsPath, pod(`web-7d9c8b6f5-${String(i).padStart(5, '0')}`))).ms);
  });
  const loadSecs = (performance.now() - loadStart) / 1000;
  // CPU is less at the mercy of other processes on a shared machine than latency is.
  const loadCpuMs = (await cpuMs(srv.pid!)) - cpuAtStart;
  const cpuAfter = await cpuSnapshot(procs);
  const loadAvgEnd = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
  for (const w of nodeWatches) w.destroy();
  watchAgent.destroy();
  const writesPerSec = podCount / loadSecs;

  // 2. With N stored: single-object calls with a few workers.
  log('sampling get/create/patch/list');
  const getLat: number[] = [];
  await pool(samples, workers, async (i) => {
    getLat.push((await must('GET', `${podsPath}/web-7d9c8b6f5-${String((i * 7919) % podCount).padStart(5, '0')}`)).ms);
  });
  const createLat: number[] = [];
  await pool(samples, workers, async (i) => {
    createLat.push((await must('POST', podsPath, pod(`extra-${String(i).padStart(5, '0')}`))).ms);
  });
  // Paginated lists of everything (limit=500), per page and per full list.
  const pageLat: number[] = [];
  const fullListMs: number[] = [];
  let listed = 0;
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    let cont = '';
    listed = 0;
    do {
      const r = await must('GET', `${podsPath}?limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
      pageLat.push(r.ms);
      const l = JSON.parse(r.body) as { items: unknown[]; metadata: { continue?: string } };
      listed += l.items.length;
      cont = l.metadata.continue ?? '';
    } while (cont);
    fullListMs.push(performance.now() - t0);
  }
  if (listed !== podCount + samples) throw new Error(`list returned ${listed} pods, expected ${podCount + samples}`);

  // 3. Patch (strategic merge) with a send timestamp; a watch measures delivery delay.
  const rv = (JSON.parse((await must('GET', `${podsPath}?limit=1`)).body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  const watchDelay: number[] = [];
  let watchBuf = '';
  let watchOpen: () => void = () => undefined;
  // Patches start only once the watch's response headers arrived (the server flushes them at once), so no event is a replay.
  const watchOpened = new Promise<void>((r) => (watchOpen = r));
  const watchDone = new Promise<void>((res, rej) => {
    const req = request({ agent: new Agent({ ca: agent.options.ca, cert: agent.options.cert, key: agent.options.key }), method: 'GET', hostname: u.hostname, port: u.port, path: `${podsPath}?watch=1&resourceVersion=${rv}&allowWatchBookmarks=false` }, (r) => {
      watchOpen();
      r.on('data', (c: Buffer) => {
        const at = nowMs();
        watchBuf += c.toString();
        let nl: number;
        while ((nl = watchBuf.indexOf('\n')) >= 0) {
          const line = watchBuf.slice(0, nl);
          watchBuf = watchBuf.slice(nl + 1);
          if (!line.trim()) continue;
          const ev = JSON.parse(line) as { type: string; object: { metadata: { annotations?: Record<string, string> } } };
          const sent = Number(ev.object.metadata.annotations?.['bench.tug.dev/sent-ms']);
          if (ev.type === 'MODIFIED' && sent) watchDelay.push(at - sent);
          if (watchDelay.length >= samples) {
            req.destroy();
            res();
          }
        }
      });
      r.on('error', () => undefined);
    });
    req.on('error', (e) => (watchDelay.length >= samples ? res() : rej(e)));
    req.end();
    setTimeout(() => rej(new Error(`watch saw ${watchDelay.length}/${samples} patches`)), 120_000).unref();
  });
  await watchOpened;
  const patchLat: number[] = [];
  await pool(samples, workers, async (i) => {
    const name = `web-7d9c8b6f5-${String((i * 104729) % podCount).padStart(5, '0')}`;
    patchLat.push((await must('PATCH', `${podsPath}/${name}`, { metadata: { annotations: { 'bench.tug.dev/sent-ms': nowMs().toFixed(3), 'bench.tug.dev/i': String(i) } } }, 'application/strategic-merge-patch+json')).ms);
  });
  await watchDone;

  const status = await readFile(`/proc/${srv.pid}/status`, 'utf8');
  const memMb = (field: string) => Math.round(Number(status.match(new RegExp(`${field}:\\s+(\\d+)`))?.[1] ?? 0) / 1024);
  const ms = (x: number) => x.toFixed(1);
  const row = (what: string, xs: number[]) => `| ${values.store} | ${what} | ${xs.length} | ${ms(pct(xs, 50))} | ${ms(pct(xs, 99))} |`;
  console.log(`\n### tug API server on ${values.store}: ${podCount} pods stored (${podBytes} B JSON each), ${workers} sampling workers\n`);
  console.log('| store | operation | samples | p50 ms | p99 ms |');
  console.log('|---|---|---|---|---|');
  console.log(row(`create (load, ${writers} writers)`, loadLat));
  console.log(row('create', createLat));
  console.log(row('get', getLat));
  console.log(row('list page (limit=500)', pageLat));
  console.log(row(`full list (${listed} pods, paginated)`, fullListMs));
  console.log(row('patch (strategic merge)', patchLat));
  console.log(row('watch delivery delay', watchDelay));
  console.log(`\n- writes/s (${writers} concurrent writers, ${podCount} creates): **${writesPerSec.toFixed(0)}** (${loadSecs.toFixed(1)} s)`);
  console.log(`- server CPU (user+sys, all threads) during the creates${nodeWatchers ? ` (${nodeWatchers} node watches open)` : ''}: ${(loadCpuMs / 1000).toFixed(1)} s, **${(loadCpuMs / podCount).toFixed(2)} ms per create**`);
  console.log(`\nCPU per create during the ${podCount} creates, by process and thread (load average ${loadAvg} at the start, ${loadAvgEnd} at the end):\n`);
  console.log(cpuBreakdown(cpuBefore, cpuAfter, podCount, ['tug server', 'bench client']));
  console.log(`- server memory: VmHWM ${memMb('VmHWM')} MiB, VmRSS ${memMb('VmRSS')} MiB`);
  agent.destroy();
} finally {
  await cleanup();
}
