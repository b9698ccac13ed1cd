// The pod burst's anchor: Debian's dockerd starting N `docker run -d busybox
// sleep` at once (C at a time), each measured from its `docker run` to the CLI's
// return (the container is running then), and the whole burst until all run.
// dockerd runs privately (its own socket, data and exec roots, pid file and
// bridge: bench/private-dockerd.ts) and is stopped by its pid afterwards.
import { parseArgs } from 'node:util';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startPrivateDockerd } from '../private-dockerd.js';

const run = promisify(execFile);
const { values } = parseArgs({ options: { containers: { type: 'string', default: '100' }, concurrency: { type: 'string', default: '10' } } });
const total = Number(values.containers);
const concurrency = Number(values.concurrency);
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');
const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const s = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;

const work = await mkdtemp(join(tmpdir(), 'tug-bench-dockerd-'));
const docker = await startPrivateDockerd(work, { bridge: 'tugpodbd0', bridgeAddress: '10.251.91.1/24' });
if (!docker) {
  console.log('dockerd anchor: Debian docker.io is not installed (apt-get install docker.io); skipped');
  await rm(work, { recursive: true, force: true });
  process.exit(0);
}
try {
  const env = docker.env;
  // Warm-up: the image is present and the daemon's first-container paths are taken.
  await run('docker', ['run', '--rm', 'busybox', 'true'], { env });
  const loadBefore = load();
  const lat: number[] = [];
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        const t = performance.now();
        await run('docker', ['run', '-d', '--label', 'tug-bench=pod-burst', 'busybox', 'sleep', '3600'], { env });
        lat.push(performance.now() - t);
      }
    }),
  );
  const all = performance.now() - t0;
  const running = (await run('docker', ['ps', '-q', '--filter', 'label=tug-bench=pod-burst'], { env })).stdout.trim().split('\n').filter(Boolean).length;
  lat.sort((a, b) => a - b);
  console.log(`dockerd anchor: ${total} \`docker run -d busybox sleep 3600\`, ${concurrency} at a time (load average ${loadBefore} -> ${load()})`);
  console.log(`  running: ${running}/${total}; all running after ${s(all)}`);
  console.log(`  per container p50 ${s(pct(lat, 50))}  p90 ${s(pct(lat, 90))}  p99 ${s(pct(lat, 99))}  max ${s(lat[lat.length - 1])}`);
  const ids = (await run('docker', ['ps', '-aq'], { env })).stdout.trim().split('\n').filter(Boolean);
  for (let i = 0; i < ids.length; i += 50) await run('docker', ['rm', '-f', ...ids.slice(i, i + 50)], { env, maxBuffer: 1 << 24 });
} finally {
  await docker.stop();
  await rm(work, { recursive: true, force: true });
}
