// Push then pull a 5-layer image of ~600 MB of random bytes with skopeo, to
// tug's registry and to CNCF Distribution (Debian's docker-registry), side by
// side; print MB/s, the server's CPU seconds for each, and its peak RSS (VmHWM), with the load average.
// BENCH_BEFORE=<dir of another built tug tree> adds that tree's registry to each round.
//   node dist/bench/registry/bench.js [--mb 600] [--layers 5] [--rounds 2]
// Rounds alternate tug and Distribution and the best round of each is shown:
// on a shared machine other tenants' load only ever makes a round slower.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { readFile, rm, writeFile, mkdir, stat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { buildOciLayout, skopeo, tempDir } from '../../test/registry/helpers.js';

const args = process.argv.slice(2);
const flag = (name: string, def: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const totalMb = flag('--mb', 600);
const layers = flag('--layers', 5);
const rounds = flag('--rounds', 2);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitUp(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const r = await fetch(`${url}/v2/`);
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 'NaN');
  return kb / 1024;
}

async function dirBytes(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) n += (await stat(join(e.parentPath ?? (e as { path?: string }).path ?? dir, e.name))).size;
  }
  return n;
}

async function stop(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise((r) => c.once('exit', r));
  c.kill('SIGTERM');
  await exited;
}

interface Result {
  name: string;
  pushMBs: number;
  pullMBs: number;
  rssMb: number;
  /** CPU seconds (user+sys) the server spent on the push and on the pull: steadier than MB/s on a loaded machine. */
  pushCpu: number;
  pullCpu: number;
}

async function cpuSeconds(pid: number): Promise<number> {
  // /proc/PID/stat: fields 14 and 15 (utime, stime) in clock ticks, after the parenthesized name.
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function measure(name: string, hostPort: string, pid: number, layout: string, bytes: number, work: string, round: number): Promise<Result> {
  const ref = `docker://${hostPort}/bench/img${round}:v1`;
  const cpu0 = await cpuSeconds(pid);
  let t = process.hrtime.bigint();
  await skopeo(['copy', '--dest-tls-verify=false', `oci:${layout}:v1`, ref]);
  const pushS = Number(process.hrtime.bigint() - t) / 1e9;
  const cpu1 = await cpuSeconds(pid);
  const out = join(work, `pull-${name}`);
  t = process.hrtime.bigint();
  await skopeo(['copy', '--src-tls-verify=false', ref, `oci:${out}:v1`]);
  const pullS = Number(process.hrtime.bigint() - t) / 1e9;
  const cpu2 = await cpuSeconds(pid);
  await rm(out, { recursive: true, force: true });
  const mb = bytes / 1e6;
  return { name, pushMBs: mb / pushS, pullMBs: mb / pullS, rssMb: await peakRssMb(pid), pushCpu: cpu1 - cpu0, pullCpu: cpu2 - cpu1 };
}

async function main(): Promise<void> {
  const work = await tempDir('bench');
  const loadBefore = loadavg().map((x) => x.toFixed(2)).join(' ');
  const children: ChildProcess[] = [];
  try {
    const layout = join(work, 'layout');
    process.stderr.write(`building a ${layers}-layer image of ${totalMb} MB random bytes...\n`);
    await buildOciLayout(layout, 'v1', { layers, bytesPerLayer: Math.floor((totalMb * 1e6) / layers) });
    const bytes = await dirBytes(join(layout, 'blobs'));

    const best = new Map<string, Result>();
    const keep = (r: Result) => {
      const b = best.get(r.name);
      process.stderr.write(
        `  ${r.name}: push ${r.pushMBs.toFixed(1)} MB/s (server CPU ${r.pushCpu.toFixed(2)} s), pull ${r.pullMBs.toFixed(1)} MB/s (CPU ${r.pullCpu.toFixed(2)} s), peak RSS ${r.rssMb.toFixed(1)} MB\n`,
      );
      best.set(
        r.name,
        b
          ? {
              name: r.name,
              pushMBs: Math.max(b.pushMBs, r.pushMBs),
              pullMBs: Math.max(b.pullMBs, r.pullMBs),
              rssMb: Math.max(b.rssMb, r.rssMb),
              pushCpu: Math.min(b.pushCpu, r.pushCpu),
              pullCpu: Math.min(b.pullCpu, r.pullCpu),
            }
          : r,
      );
    };
    // Each round gets fresh servers on fresh ports and roots: skopeo's blob info
    // cache remembers where it pushed a blob and would otherwise "push" later
    // rounds by cross-repository mount.
    const tugs: Array<[string, string]> = [['tug', fileURLToPath(new URL('../../src/registry/main.js', import.meta.url))]];
    // BENCH_BEFORE=<another built tug tree> measures that tree's registry in the same rounds too.
    const before = process.env.BENCH_BEFORE;
    if (before) tugs.push(['tug (before)', join(before, 'dist/src/registry/main.js')]);
    for (let round = 0; round < rounds; round++) {
      for (const [name, js] of tugs) {
        const tugRoot = join(work, `tug-root-${round}`);
        const tugPort = await freePort();
        const script = `import(${JSON.stringify(js)}).then(m => m.runRegistryCommand(process.argv.slice(1)))`;
        // tug in its own process, so its RSS is its own. TUG_BENCH_NODE_ARGS passes flags to its node (--cpu-prof --cpu-prof-dir=DIR).
        const tug = spawn(process.execPath, [...(process.env.TUG_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), '-e', script, 'serve', '--addr', `127.0.0.1:${tugPort}`, '--root', tugRoot], { stdio: ['ignore', 'ignore', 'inherit'] });
        children.push(tug);
        await waitUp(`http://127.0.0.1:${tugPort}`, tug);
        keep(await measure(name, `127.0.0.1:${tugPort}`, tug.pid!, layout, bytes, work, round));
        await stop(tug);
        await rm(tugRoot, { recursive: true, force: true });
      }

      const distRoot = join(work, `dist-root-${round}`);
      const distPort = await freePort();
      await mkdir(distRoot);
      const cfg = join(work, `config-${round}.yml`);
      await writeFile(
        cfg,
        [
          'version: 0.1',
          'log:',
          '  level: error',
          'storage:',
          '  filesystem:',
          `    rootdirectory: ${distRoot}`,
          '  delete:',
          '    enabled: true',
          'http:',
          `  addr: 127.0.0.1:${distPort}`,
          '',
        ].join('\n'),
      );
      // Its per-request error log (404s on HEAD before each push) would drown the table.
      const dist = spawn('/usr/bin/docker-registry', ['serve', cfg], { stdio: 'ignore' });
      children.push(dist);
      await waitUp(`http://127.0.0.1:${distPort}`, dist);
      keep(await measure('distribution', `127.0.0.1:${distPort}`, dist.pid!, layout, bytes, work, round));
      await stop(dist);
      await rm(distRoot, { recursive: true, force: true });
    }
    const results = [...best.values()];

    const pad = (s: string, n: number) => s.padEnd(n);
    console.log(`load average before: ${loadBefore}; after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    const dist = best.get('distribution');
    const secs = (r: Result): number => bytes / 1e6 / r.pushMBs + bytes / 1e6 / r.pullMBs;
    if (dist) for (const r of results) if (r !== dist) console.log(`${r.name}: push+pull time ${(secs(r) / secs(dist)).toFixed(2)}x Distribution's (goal ≤ 0.8), peak RSS ${r.rssMb.toFixed(0)} MB (goal < 100)`);
    console.log(`image: ${layers} layers, ${(bytes / 1e6).toFixed(0)} MB (skopeo copy, 127.0.0.1, best of ${rounds} rounds)`);
    console.log(`${pad('registry', 14)}${pad('push MB/s', 12)}${pad('pull MB/s', 12)}${pad('push CPU s', 12)}${pad('pull CPU s', 12)}peak RSS MB`);
    for (const r of results) {
      console.log(
        `${pad(r.name, 14)}${pad(r.pushMBs.toFixed(1), 12)}${pad(r.pullMBs.toFixed(1), 12)}${pad(r.pushCpu.toFixed(2), 12)}${pad(r.pullCpu.toFixed(2), 12)}${r.rssMb.toFixed(1)}`,
      );
    }
  } finally {
    for (const c of children) await stop(c);
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
