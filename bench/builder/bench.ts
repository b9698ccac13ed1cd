// Build benchmark: a realistic multi-stage Dockerfile (17 steps, ~4 MB of
// context) built by `tug build` and by `DOCKER_BUILDKIT=0 docker build` on a
// real Docker engine (Debian's docker.io, started privately, busybox imported
// the same way): cold build, fully cached rebuild, rebuild after one source
// file changes. Run: bash bench/builder/run.sh  (as root)
import { spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { startTestDaemon } from '../../test/helpers/tug-daemon.js';
import { startPrivateDockerd, type PrivateDockerd } from '../private-dockerd.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const tug = join(repo, 'bin', 'tug');
const runs = Number(process.env.BENCH_RUNS ?? 5);

const DOCKERFILE = `FROM busybox AS deps
WORKDIR /build
COPY deps/ ./deps/
RUN cat deps/*.txt | sort | uniq > deps.lock && wc -l deps.lock

FROM busybox AS build
WORKDIR /build
COPY --from=deps /build/deps.lock .
COPY src/ ./src/
RUN mkdir -p out && for f in src/*.sh; do cat "$f" >> out/app.sh; done && gzip -k out/app.sh
RUN find src -name '*.txt' | sort | xargs cat | md5sum > out/checksum
COPY assets/ ./assets/
RUN tar -cf out/assets.tar assets && ls -l out

FROM busybox
ENV APP_HOME=/opt/app
WORKDIR /opt/app
COPY --from=build /build/out/ ./
LABEL org.opencontainers.image.title=bench-app
USER nobody
EXPOSE 8080
CMD ["sh", "/opt/app/app.sh"]
`;

/** Deterministic pseudo-random text, so every run builds the same context. */
function text(seed: string, bytes: number): string {
  let out = '';
  let h = seed;
  while (out.length < bytes) {
    h = createHash('sha256').update(h).digest('hex');
    out += `${h.slice(0, 32)} ${h.slice(32)}\n`;
  }
  return out.slice(0, bytes);
}

async function makeContext(dir: string): Promise<void> {
  await mkdir(join(dir, 'deps'), { recursive: true });
  await mkdir(join(dir, 'src'), { recursive: true });
  await mkdir(join(dir, 'assets'), { recursive: true });
  await writeFile(join(dir, 'Dockerfile'), DOCKERFILE);
  await writeFile(join(dir, '.dockerignore'), '*.log\n');
  for (let i = 0; i < 20; i++) await writeFile(join(dir, 'deps', `d${i}.txt`), Array.from({ length: 50 }, (_, j) => `pkg-${(i * 7 + j) % 300}`).join('\n') + '\n');
  for (let i = 0; i < 150; i++) await writeFile(join(dir, 'src', `m${i}.txt`), text(`src${i}`, 16 * 1024));
  for (let i = 0; i < 30; i++) await writeFile(join(dir, 'src', `s${i}.sh`), `echo module ${i}\n`);
  for (let i = 0; i < 4; i++) await writeFile(join(dir, 'assets', `a${i}.bin`), text(`asset${i}`, 384 * 1024));
  await writeFile(join(dir, 'build.log'), text('log', 1024 * 1024));
}

function time(cmd: string, args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr?.toString()}${r.stdout?.toString().slice(-2000)}`);
  return ms;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Builder {
  label: string;
  build(extra: string[]): number;
}

interface Row {
  label: string;
  cold: number[];
  cached: number[];
  changed: number[];
}

/**
 * The builders take turns within each round, so a noisy neighbour on a shared
 * machine slows them alike instead of whichever happened to run then.
 */
async function measureAll(builders: Builder[], ctx: string): Promise<Array<{ label: string; cold: number; cached: number; changed: number }>> {
  const rows: Row[] = builders.map((b) => ({ label: b.label, cold: [], cached: [], changed: [] }));
  for (const b of builders) b.build([]); // warm the page cache and the base image
  for (let i = 0; i < runs; i++) builders.forEach((b, j) => rows[j]!.cold.push(b.build(['--no-cache'])));
  for (const b of builders) b.build([]);
  for (let i = 0; i < runs; i++) builders.forEach((b, j) => rows[j]!.cached.push(b.build([])));
  for (let i = 0; i < runs; i++) {
    for (const [j, b] of builders.entries()) {
      // Each builder sees its own edit, so each rebuild really has one changed file.
      await writeFile(join(ctx, 'src', 's7.sh'), `echo module 7 edit ${i} ${j} ${Date.now()}\n`);
      rows[j]!.changed.push(b.build([]));
    }
  }
  await writeFile(join(ctx, 'src', 's7.sh'), 'echo module 7\n');
  return rows.map((r) => ({ label: r.label, cold: median(r.cold), cached: median(r.cached), changed: median(r.changed) }));
}



async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'tug-build-bench-'));
  const ctx = join(work, 'context');
  await makeContext(ctx);
  const d = await startTestDaemon();
  let docker: PrivateDockerd | undefined;
  let rows: Array<{ label: string; cold: number; cached: number; changed: number }> = [];
  try {
    const builders: Builder[] = [{ label: 'tug build', build: (extra) => time(process.execPath, [tug, 'build', '-q', ...extra, '-t', 'bench-app:1', ctx], d.env) }];
    const dEnv = { ...d.env, DOCKER_BUILDKIT: '0', DOCKER_CONFIG: join(work, 'docker-config') };
    builders.push({ label: 'docker build → tug daemon', build: (extra) => time('docker', ['build', '-q', ...extra, '-t', 'bench-app:1', ctx], dEnv) });
    docker = await startPrivateDockerd(work, { bridge: 'tugbenchb0', bridgeAddress: '10.251.78.1/24', env: { DOCKER_BUILDKIT: '0', DOCKER_CONFIG: join(work, 'docker-config') } });
    if (docker) {
      const env = docker.env;
      builders.push({ label: 'DOCKER_BUILDKIT=0 docker build (dockerd)', build: (extra) => time('docker', ['build', '-q', ...extra, '-t', 'bench-app:1', ctx], env) });
    }
    rows = await measureAll(builders, ctx);
    const size = spawnSync('du', ['-sh', '--exclude=build.log', ctx]).stdout.toString().split('\t')[0];
    console.log(`\n## Build: 17-step 3-stage Dockerfile, ${size} context (median of ${runs}, ${new Date().toISOString().slice(0, 10)})\n`);
    console.log('| builder | cold (--no-cache) | fully cached | one source file changed |\n| --- | --- | --- | --- |');
    for (const r of rows) console.log(`| ${r.label} | ${r.cold.toFixed(0)} ms | ${r.cached.toFixed(0)} ms | ${r.changed.toFixed(0)} ms |`);
    const dk = rows.find((r) => r.label.includes('dockerd'));
    if (dk) {
      const t = rows[0]!;
      console.log(`\ntug / docker: cold ${(t.cold / dk.cold).toFixed(2)} (goal ≤ 1.2), cached ${(t.cached / dk.cached).toFixed(2)} (goal ≤ 1.0), one change ${(t.changed / dk.changed).toFixed(2)}`);
      // Same client (the docker CLI) on both daemons: the daemons alone, without node's start-up in the tug CLI.
      const same = rows[1]!;
      console.log(`tug daemon / dockerd (both driven by the docker CLI): cold ${(same.cold / dk.cold).toFixed(2)}, cached ${(same.cached / dk.cached).toFixed(2)}, one change ${(same.changed / dk.changed).toFixed(2)}`);
    }
  } finally {
    await d.stop();
    await docker?.stop();
    spawnSync('sh', ['-c', `grep ' ${work}' /proc/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l`]);
    await rm(work, { recursive: true, force: true });
  }
}

await main();
