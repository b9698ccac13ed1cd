// Dashboard benchmark: first load (compressed bytes, time to a usable page),
// the time from `docker run` to the container's row in an open page, and
// what an open page costs the daemon (CPU and memory, with N running
// containers streaming stats), in Debian's Chromium against a real tug daemon;
// then the same for a cluster with 1,000 pods (cluster-scale.ts).
// Goals from issue 16: < 300 KB compressed first load, < 1 s to a usable page,
// < 500 ms from event to screen. Numbers, not assertions: printed with the load average.
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startTestDaemon } from '../../test/helpers/tug-daemon.js';
import { launchBrowser, type TestBrowser } from '../../test/dashboard/browser.js';
import { sample } from './process-cost.js';
import { clusterScale } from './cluster-scale.js';

// Issue 16's scale: 100 containers, 1,000 pods.
const containers = Number(process.env.BENCH_CONTAINERS ?? 100);
const pods = Number(process.env.BENCH_PODS ?? 1000);
const runs = Number(process.env.BENCH_RUNS ?? 5);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// BENCH_PARTS=cluster runs only the 1,000-pod part (BENCH_PARTS=engine only the daemon's).
const parts = new Set((process.env.BENCH_PARTS ?? 'engine,cluster').split(','));

interface EngineResult {
  loads: { ms: number; bytes: number }[];
  fromStart: number[];
  fromReturn: number[];
  closed: { cpu: number; rssMb: number };
  open: { cpu: number; rssMb: number };
  load: number[];
}

async function enginePart(b: TestBrowser): Promise<EngineResult> {
  const d = await startTestDaemon();
  try {
    const url = (await readFile(join(d.root, 'dashboard', 'url'), 'utf8')).trim();
    const token = (await readFile(join(d.root, 'dashboard', 'token'), 'utf8')).trim();
    const docker = (...args: string[]): string => {
      const r = spawnSync('docker', args, { env: d.env });
      if (r.status !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
      return r.stdout.toString().trim();
    };
    const login = await b.page.request.post(`${url}/api/login`, { data: { token }, headers: { 'content-type': 'application/json' } });
    if (!login.ok()) throw new Error(`login: ${login.status()}`);

    // First load: a fresh page each run (the HTTP cache off), bytes as sent (gzip) and time to the containers table.
    const loads: { ms: number; bytes: number }[] = [];
    for (let i = 0; i < runs; i++) {
      const page = await b.context.newPage();
      const cdp = await b.context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
      let bytes = 0;
      cdp.on('Network.loadingFinished', (e: { encodedDataLength: number }) => (bytes += e.encodedDataLength));
      const t0 = Date.now();
      await page.goto(`${url}/#/engine/containers`);
      await page.locator('h2:has-text("Containers")').waitFor();
      loads.push({ ms: Date.now() - t0, bytes });
      await page.close();
    }

    // Event to screen: docker run, then the row appears in the open page.
    const page = b.page;
    await page.goto(`${url}/#/engine/containers`);
    await page.locator('h2:has-text("Containers")').waitFor();
    const fromStart: number[] = [];
    const fromReturn: number[] = [];
    for (let i = 0; i < runs; i++) {
      const name = `bench-${i}`;
      const row = page.locator(`tr[data-container="${name}"][data-state="running"]`);
      const t0 = Date.now();
      const seen = row.waitFor().then(() => Date.now());
      docker('run', '-d', '--name', name, 'busybox', 'sleep', '1d');
      const t1 = Date.now();
      const t2 = await seen;
      fromStart.push(t2 - t0);
      fromReturn.push(Math.max(0, t2 - t1));
    }
    for (let i = runs; i < containers; i++) docker('run', '-d', '--name', `bench-${i}`, 'busybox', 'sleep', '1d');

    // The daemon's cost with the page open (one stats stream per running container) and closed.
    await page.goto('about:blank');
    await new Promise((r) => setTimeout(r, 3000));
    const closed = await sample(d.pid, 20);
    await page.goto(`${url}/#/engine/containers`);
    // The last row's sparkline drawn (all rows share one stats stream), then time to settle.
    await page.locator(`tr[data-container="bench-${containers - 1}"] .spark svg`).first().waitFor({ timeout: 120_000 });
    await new Promise((r) => setTimeout(r, 5000));
    const open = await sample(d.pid, 20);
    await page.goto('about:blank');
    for (let i = 0; i < containers; i++) docker('rm', '-f', `bench-${i}`);
    return { loads, fromStart, fromReturn, closed, open, load: loadavg() };
  } finally {
    await d.stop();
  }
}

const b = await launchBrowser();
try {
  const engine = parts.has('engine') ? await enginePart(b) : undefined;
  const cluster = parts.has('cluster') && pods > 0 ? await clusterScale(b, pods, runs) : undefined;
  const [l1, l5] = loadavg();
  const after = engine ? `load average after the engine part ${engine.load[0]!.toFixed(2)} / ${engine.load[1]!.toFixed(2)}, ` : '';
  console.log(`\nDashboard benchmark, ${new Date().toISOString().slice(0, 10)}, ${after}at the end ${l1!.toFixed(2)} / ${l5!.toFixed(2)} (1 / 5 min), ${runs} runs, Chromium ${b.context.browser()?.version() ?? '(system)'}`);
  console.log('| measure | tug dashboard | goal (issue 16) |');
  console.log('| --- | --- | --- |');
  if (engine) {
    const { loads, fromStart, fromReturn, closed, open } = engine;
    console.log(`| first load, compressed bytes | ${(median(loads.map((l) => l.bytes)) / 1024).toFixed(1)} KB | < 300 KB |`);
    console.log(`| first load to a usable page (median) | ${median(loads.map((l) => l.ms))} ms | < 1000 ms |`);
    console.log(`| \`docker run -d\` start → row in the page (median) | ${median(fromStart)} ms | — |`);
    console.log(`| \`docker run -d\` returned → row in the page (median) | ${median(fromReturn)} ms | < 500 ms |`);
    console.log(`| daemon CPU, ${containers} running containers, page closed → open | ${closed.cpu.toFixed(1)}% → ${open.cpu.toFixed(1)}% of a core | — |`);
    console.log(`| daemon RSS, page closed → open | ${closed.rssMb.toFixed(0)} MB → ${open.rssMb.toFixed(0)} MB | — |`);
  }
  if (cluster) {
    console.log(`| ${cluster.pods} pods (on a hollow node, created in ${cluster.createSeconds.toFixed(1)} s): pods view opened → all listed (rows in view drawn) | ${cluster.listMs} ms | — |`);
    console.log(`| ${cluster.pods} pods: a jump to the end of the open view → its last row shown | ${cluster.endMs} ms | — |`);
    console.log(`| a pod created → its row in the open ${cluster.pods}-pod view (median) | ${cluster.eventMs} ms | < 500 ms |`);
    console.log(`| server CPU (API server + dashboard), ${cluster.pods} pods, pods view closed → open | ${cluster.closed.cpu.toFixed(1)}% → ${cluster.open.cpu.toFixed(1)}% of a core | — |`);
    console.log(`| server RSS, pods view closed → open | ${cluster.closed.rssMb.toFixed(0)} MB → ${cluster.open.rssMb.toFixed(0)} MB | — |`);
  }
} finally {
  await b.close();
}
