// CLI start benchmark: the tug CLI against the docker CLI, both talking to the
// same tug daemon, interleaved run by run so machine noise hits both alike;
// `node -e 0` is the floor a Node CLI cannot go under. Run: bash scripts/bench.sh cli-start
// BENCH_RUNS=N sets the runs per command (default 30); BENCH_BEFORE=<built tree> adds
// that tree's CLI to the same runs. When NODE_EXTRA_CA_CERTS is set,
// Node parses that bundle at every start (Node 20: ~75 ms here for Debian's bundle), so
// the Node rows are measured again without it: the CLI's own cost, apart from the environment's.
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestDaemon } from '../../test/helpers/tug-daemon.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const tug = join(repo, 'bin', 'tug');
const runs = Math.max(20, Number(process.env.BENCH_RUNS ?? 30));

interface Case {
  label: string;
  cmd: string;
  args: string[];
  xs: number[];
  env?: NodeJS.ProcessEnv;
}

function time(c: Case, env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(c.cmd, c.args, { env: c.env ?? env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${c.cmd} ${c.args.join(' ')} failed (${r.status}): ${r.stderr?.toString()}`);
  return ms;
}

function stats(xs: number[]): { median: number; p90: number; min: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, p90: s[Math.min(s.length - 1, Math.ceil(s.length * 0.9) - 1)]!, min: s[0]! };
}

const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');

async function main(): Promise<void> {
  const d = await startTestDaemon();
  try {
    const node = process.execPath;
    const cases: Case[] = [
      { label: '`node -e 0` (floor)', cmd: node, args: ['-e', '0'], xs: [] },
      { label: '`tug --version` (no daemon)', cmd: node, args: [tug, '--version'], xs: [] },
      { label: '`tug version` (asks the daemon)', cmd: node, args: [tug, 'version'], xs: [] },
      { label: '`docker version` → tug daemon', cmd: 'docker', args: ['version'], xs: [] },
      { label: '`tug run --rm busybox true`', cmd: node, args: [tug, 'run', '--rm', 'busybox', 'true'], xs: [] },
      { label: '`docker run --rm busybox true` → tug daemon', cmd: 'docker', args: ['run', '--rm', 'busybox', 'true'], xs: [] },
    ];
    const ca = process.env.NODE_EXTRA_CA_CERTS;
    if (ca) {
      const bare = { ...d.env };
      delete bare.NODE_EXTRA_CA_CERTS;
      for (const i of [0, 2, 4]) cases.push({ ...cases[i]!, label: `${cases[i]!.label}, NODE_EXTRA_CA_CERTS unset`, xs: [], env: bare });
    }
    // BENCH_BEFORE=<another built tug tree>: its CLI's rows too, in the same interleaved runs.
    const beforeTree = process.env.BENCH_BEFORE;
    if (beforeTree) {
      const old = join(beforeTree, 'bin', 'tug');
      const bare = { ...d.env };
      delete bare.NODE_EXTRA_CA_CERTS;
      for (const [label, args] of [
        ['`tug version`', ['version']],
        ['`tug run --rm busybox true`', ['run', '--rm', 'busybox', 'true']],
      ] as const) {
        cases.push({ label: `${label}, before (${beforeTree})`, cmd: node, args: [old, ...args], xs: [] });
        if (ca) cases.push({ label: `${label}, before, NODE_EXTRA_CA_CERTS unset`, cmd: node, args: [old, ...args], xs: [], env: bare });
      }
    }
    time(cases[4]!, d.env); // builds the busybox image once
    for (const c of cases) for (let i = 0; i < 2; i++) time(c, d.env); // warm caches (and Node's compile cache where it has one)
    const before = load();
    for (let i = 0; i < runs; i++) for (const c of cases) c.xs.push(time(c, d.env));
    const after = load();
    console.log(`\n## CLI start (${runs} runs each, interleaved, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version})\n`);
    console.log(`load average before: ${before}; after: ${after}`);
    console.log(`NODE_EXTRA_CA_CERTS: ${ca ? `${ca} (rows also measured without it)` : 'unset'}\n`);
    console.log('| command | median | p90 | min |\n| --- | --- | --- | --- |');
    for (const c of cases) {
      const s = stats(c.xs);
      console.log(`| ${c.label} | ${s.median.toFixed(0)} ms | ${s.p90.toFixed(0)} ms | ${s.min.toFixed(0)} ms |`);
    }
    const m = (i: number): number => stats(cases[i]!.xs).median;
    console.log(`\ntug run / docker run (same daemon) median: ${(m(4) / m(5)).toFixed(2)} (goal ≤ 1.0)`);
    console.log(`tug version median: ${m(2).toFixed(0)} ms (goal < 60 ms); above the node floor: ${(m(2) - m(0)).toFixed(0)} ms`);
    if (ca) {
      console.log(`without NODE_EXTRA_CA_CERTS: tug run / docker run ${(m(8) / m(5)).toFixed(2)}, tug version ${m(7).toFixed(0)} ms, ${(m(7) - m(6)).toFixed(0)} ms above the node floor`);
    }
  } finally {
    await d.stop();
  }
}

await main();
