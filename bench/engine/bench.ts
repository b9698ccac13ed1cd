// Engine benchmark: `tug run --rm busybox true` against `docker run --rm busybox true`
// on a real Docker engine (Debian's docker.io, started privately for the run when
// installed) and bare `runc run` as the floor; then the daemon's memory idle and
// with N running containers. Run: npm run bench:engine  (as root)
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestDaemon } from '../../test/helpers/tug-daemon.js';
import { busyboxRootfs, startPrivateDockerd, type PrivateDockerd } from '../private-dockerd.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const tug = join(repo, 'bin', 'tug');
const runs = Number(process.env.BENCH_RUNS ?? 20);
const manyContainers = Number(process.env.BENCH_CONTAINERS ?? 100);

function time(cmd: string, args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr?.toString()}`);
  return ms;
}

function stats(xs: number[]): { median: number; p90: number; min: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, p90: s[Math.min(s.length - 1, Math.ceil(s.length * 0.9) - 1)]!, min: s[0]! };
}

function series(label: string, cmd: string, args: string[], env: NodeJS.ProcessEnv): { label: string; median: number; p90: number; min: number } {
  for (let i = 0; i < 2; i++) time(cmd, args, env); // warm caches
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) xs.push(time(cmd, args, env));
  return { label, ...stats(xs) };
}

function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(spawnSync('cat', [`/proc/${pid}/status`]).stdout.toString());
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function pidsOf(pattern: RegExp): number[] {
  const out = spawnSync('ps', ['-eo', 'pid=,args=']).stdout.toString().split('\n');
  return out.filter((l) => pattern.test(l)).map((l) => Number(l.trim().split(/\s+/)[0]));
}


async function runcFloor(work: string): Promise<ReturnType<typeof series>> {
  const bundle = join(work, 'runc-bundle');
  await busyboxRootfs(join(bundle, 'rootfs'));
  spawnSync('runc', ['spec'], { cwd: bundle });
  const spec = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8'));
  spec.process.terminal = false;
  spec.process.args = ['/bin/true'];
  await writeFile(join(bundle, 'config.json'), JSON.stringify(spec));
  const root = join(work, 'runc-root');
  const env = { ...process.env };
  // `runc run` in the foreground deletes the container when it exits, like --rm.
  const script = join(work, 'runc-once.sh');
  await writeFile(script, `#!/bin/sh\nid=bench-$$\nrunc --root ${root} run --bundle ${bundle} $id >/dev/null\n`, { mode: 0o755 });
  return series('runc run (floor)', script, [], env);
}


async function memoryWithContainers(label: string, env: NodeJS.ProcessEnv, cli: string, daemonPids: () => number[], monitorPattern: RegExp): Promise<string> {
  const idle = daemonPids().reduce((n, p) => n + rssKiB(p), 0);
  const ids: string[] = [];
  for (let i = 0; i < manyContainers; i++) {
    const r = spawnSync(cli, ['run', '-d', 'busybox', 'sleep', '3600'], { env });
    if (r.status !== 0) throw new Error(`${label}: run -d failed: ${r.stderr}`);
    ids.push(r.stdout.toString().trim());
  }
  await new Promise((r) => setTimeout(r, 2000));
  const busy = daemonPids().reduce((n, p) => n + rssKiB(p), 0);
  const monitors = pidsOf(monitorPattern).reduce((n, p) => n + rssKiB(p), 0);
  spawnSync(cli, ['rm', '-f', ...ids], { env });
  return `| ${label} | ${(idle / 1024).toFixed(1)} MiB | ${(busy / 1024).toFixed(1)} MiB | ${(monitors / 1024).toFixed(1)} MiB (${(monitors / 1024 / manyContainers).toFixed(2)} each) |`;
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'tug-bench-'));
  const d = await startTestDaemon();
  let docker: PrivateDockerd | undefined;
  try {
    time(process.execPath, [tug, 'run', '--rm', 'busybox', 'true'], d.env); // builds the busybox image once
    const rows = [series('tug run --rm busybox true', process.execPath, [tug, 'run', '--rm', 'busybox', 'true'], d.env)];
    rows.push(series('docker CLI → tug daemon', 'docker', ['run', '--rm', 'busybox', 'true'], d.env));
    docker = await startPrivateDockerd(work, { bridge: 'tugbenchd0', bridgeAddress: '10.251.77.1/24' });
    if (docker) rows.push(series('docker run --rm busybox true (dockerd)', 'docker', ['run', '--rm', 'busybox', 'true'], docker.env));
    rows.push(await runcFloor(work));
    console.log(`\n## Container start+exit latency (${runs} runs each, ${new Date().toISOString().slice(0, 10)})\n`);
    console.log('| command | median | p90 | min |\n| --- | --- | --- | --- |');
    for (const r of rows) console.log(`| ${r.label} | ${r.median.toFixed(0)} ms | ${r.p90.toFixed(0)} ms | ${r.min.toFixed(0)} ms |`);
    const dockerRow = rows.find((r) => r.label.includes('dockerd'));
    if (dockerRow) console.log(`\ntug / docker median: ${(rows[0]!.median / dockerRow.median).toFixed(2)} (goal ≤ 0.5)`);

    console.log(`\n## Daemon memory, idle and with ${manyContainers} running containers\n`);
    console.log('| engine | idle | with containers | per-container monitors |\n| --- | --- | --- | --- |');
    console.log(await memoryWithContainers('tug daemon', d.env, 'docker', () => [d.pid], new RegExp(`conmon .*${d.root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`)));
    if (docker) {
      const dpid = Number((await readFile(docker.pidFile, 'utf8')).trim());
      const mine = work.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const containerd = () => pidsOf(new RegExp(`containerd --config ${mine}`));
      console.log(await memoryWithContainers('dockerd + containerd', docker.env, 'docker', () => [dpid, ...containerd()], new RegExp(`containerd-shim.*${mine}`)));
    }
  } finally {
    await d.stop();
    await docker?.stop();
    spawnSync('sh', ['-c', `grep ' ${work}' /proc/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l`]);
    await rm(work, { recursive: true, force: true });
  }
}

await main();
