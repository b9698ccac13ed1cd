// Compose benchmark: `compose up -d` then `compose down -v -t 0` of a
// 10-service busybox project on 3 networks with 2 volumes, driven by
// `tug compose` and by Debian's docker-compose 1.29.2 against a tug daemon, and
// by docker-compose against a real Docker engine (Debian's docker.io, started
// privately, busybox imported the same way) in the same run. The clients take
// turns within each round, so a noisy neighbour slows them alike. A client that
// cannot drive its engine yet (say, `tug compose` not built) is reported, not
// timed. Run: bash bench/compose/run.sh  (as root; BENCH_RUNS=N, default 5;
// DOCKERD_HOST=unix://... uses a running dockerd instead of a private one)
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestDaemon } from '../../test/helpers/tug-daemon.js';
import { startPrivateDockerd, type PrivateDockerd } from '../private-dockerd.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const tug = join(repo, 'bin', 'tug');
const runs = Number(process.env.BENCH_RUNS ?? 5);

/** 10 services over 3 networks (front, back, data) and 2 named volumes. */
function composeFile(): string {
  const nets = ['front', 'back', 'data'];
  let out = 'services:\n';
  for (let i = 0; i < 10; i++) {
    const mine = i < 3 ? ['front', 'back'] : i < 7 ? ['back'] : ['back', 'data'];
    out += `  s${i}:\n    image: busybox\n    command: ["sleep", "3600"]\n    networks: [${mine.join(', ')}]\n`;
    if (i === 7) out += '    volumes: ["store:/store"]\n';
    if (i === 8) out += '    volumes: ["cache:/cache", "store:/store:ro"]\n';
    if (i >= 7) out += '    depends_on: [s4]\n';
  }
  out += 'networks:\n' + nets.map((n) => `  ${n}: {}\n`).join('');
  out += 'volumes:\n  store: {}\n  cache: {}\n';
  return out;
}

interface Client {
  label: string;
  argv: string[];
  env: NodeJS.ProcessEnv;
}

function time(c: Client, args: string[]): { ms: number; ok: boolean; err: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(c.argv[0]!, [...c.argv.slice(1), ...args], { env: c.env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms, ok: r.status === 0, err: `${r.stderr?.toString() ?? ''}${r.stdout?.toString().slice(-1000) ?? ''}`.trim() };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p90 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(0.9 * xs.length) - 1)]!;
const load = (): string => loadavg()[0]!.toFixed(1);

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'tug-compose-bench-'));
  const project = join(work, 'project');
  spawnSync('mkdir', ['-p', project]);
  const file = join(project, 'compose.yaml');
  await writeFile(file, composeFile());
  // A fresh project name per run: nothing a run before left behind is reused.
  const run = randomBytes(3).toString('hex');
  const flags = (name: string): string[] => ['-f', file, '--project-directory', project, '-p', `${name}${run}`];
  const d = await startTestDaemon();
  let docker: PrivateDockerd | undefined;
  const loadStart = load();
  try {
    const clients: Client[] = [
      { label: '`tug compose` → tug', argv: [process.execPath, tug, 'compose', ...flags('benchtug')], env: d.env },
      { label: 'docker-compose 1.29.2 → tug', argv: ['docker-compose', '--ansi', 'never', ...flags('benchdct')], env: d.env },
    ];
    // DOCKERD_HOST: a dockerd already running (its project is removed again each round); else a private one.
    const given = process.env.DOCKERD_HOST;
    if (!given) docker = await startPrivateDockerd(work, { bridge: 'tugbenchc0', bridgeAddress: '10.251.79.1/24', env: { DOCKER_CONFIG: join(work, 'docker-config') } });
    const dockerEnv = given ? { ...process.env, DOCKER_HOST: given } : docker?.env;
    if (dockerEnv) clients.push({ label: 'docker-compose 1.29.2 → dockerd (Debian docker.io)', argv: ['docker-compose', '--ansi', 'never', ...flags('benchdcd')], env: dockerEnv });
    else console.log('dockerd is not installed: no Docker row (apt-get install docker.io)');

    // Warm-up (page cache, busybox, the first network's bridge); a client that fails here is left out.
    const live: Client[] = [];
    for (const c of clients) {
      const up = time(c, ['up', '-d']);
      const down = time(c, ['down', '-v', '-t', '0']);
      if (up.ok && down.ok) live.push(c);
      else console.log(`${c.label}: not timed, it failed: ${(up.ok ? down : up).err.split('\n').slice(-3).join(' / ')}`);
    }
    const ups = new Map<Client, number[]>(live.map((c) => [c, []]));
    const downs = new Map<Client, number[]>(live.map((c) => [c, []]));
    const retries = new Map<Client, number>();
    for (let i = 0; i < runs; i++) {
      for (const c of live) {
        const up = time(c, ['up', '-d']);
        if (!up.ok) throw new Error(`${c.label} up failed: ${up.err}`);
        ups.get(c)!.push(up.ms);
        // dockerd under load sometimes refuses to remove a network it has just
        // emptied ("has active endpoints"): run down again, and count both runs.
        let down = time(c, ['down', '-v', '-t', '0']);
        let ms = down.ms;
        for (let retry = 0; !down.ok && retry < 3; retry++) {
          retries.set(c, (retries.get(c) ?? 0) + 1);
          down = time(c, ['down', '-v', '-t', '0']);
          ms += down.ms;
        }
        if (!down.ok) throw new Error(`${c.label} down failed: ${down.err}`);
        downs.get(c)!.push(ms);
      }
    }
    console.log(`\n## Compose: up -d, then down -v -t 0, of 10 busybox services on 3 networks with 2 volumes (median and p90 of ${runs}, ${new Date().toISOString().slice(0, 16)} UTC, load average ${loadStart} → ${load()})\n`);
    console.log('| client → engine | up -d median | up -d p90 | down median | down p90 |\n| --- | --- | --- | --- | --- |');
    for (const c of live) {
      const u = ups.get(c)!;
      const dn = downs.get(c)!;
      console.log(`| ${c.label} | ${median(u).toFixed(0)} ms | ${p90(u).toFixed(0)} ms | ${median(dn).toFixed(0)} ms | ${p90(dn).toFixed(0)} ms |`);
    }
    for (const [c, n] of retries) console.log(`${c.label}: down had to be run again ${n} time(s) (counted in its time)`);
    const dk = live.find((c) => c.label.includes('dockerd'));
    if (dk) {
      const dkUp = median(ups.get(dk)!);
      for (const c of live.filter((x) => x !== dk)) {
        console.log(`${c.label}: up takes ${(median(ups.get(c)!) / dkUp).toFixed(2)}x Docker's time (goal: at most 0.5x)`);
      }
    }
  } finally {
    await d.stop();
    await docker?.stop();
    spawnSync('sh', ['-c', `grep ' ${work}' /proc/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l`]);
    await rm(work, { recursive: true, force: true });
  }
}

await main();
