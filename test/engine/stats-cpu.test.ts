// docker stats shows the CPU a container uses now, not since it started: the
// non-streamed answer is a second sample whose precpu_stats is the sample one
// interval before (as dockerd's), through the docker CLI, tug and docker-py;
// one-shot answers with one sample and empty precpu_stats, and refuses stream.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { request } from 'node:http';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { startTestDaemon, tugBin, type TestDaemon } from '../helpers/tug-daemon.js';
import { runCommand } from '../helpers/run-command.js';

const pyDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/engine/py');
// Waits for /tmp/go, doing next to nothing meanwhile, then spins.
const IDLE_THEN_BUSY = 'while [ ! -e /tmp/go ]; do sleep 0.2; done; while :; do :; done';
const sfx = randomBytes(3).toString('hex');
let d: TestDaemon;

const docker = (...args: string[]): ReturnType<typeof runCommand> => runCommand('docker', args, { env: d.env });
async function ok(cmd: string, args: string[]): Promise<string> {
  const r = await runCommand(cmd, args, { env: d.env });
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = request({ socketPath: d.socket, path, method: 'GET' }, (r) => {
      let body = '';
      r.on('data', (b: Buffer) => (body += b.toString()));
      r.on('end', () => res({ status: r.statusCode ?? 0, body }));
    });
    req.on('error', rej);
    req.end();
  });
}

before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d?.stop();
});

test('docker stats --no-stream and tug stats --no-stream: a container that idled, then busy-loops, shows its current CPU', async () => {
  const name = `statcli-${sfx}`;
  await ok('docker', ['run', '-d', '--name', name, 'busybox', 'sh', '-c', IDLE_THEN_BUSY]);
  try {
    // Idle a while first: a lifetime (or since-boot) average would stay low.
    await new Promise((r) => setTimeout(r, 3000));
    await ok('docker', ['exec', name, 'touch', '/tmp/go']);
    const viaDocker = await ok('docker', ['stats', '--no-stream', '--format', '{{.CPUPerc}}', name]);
    assert.match(viaDocker, /^\d+\.\d\d%$/);
    assert.ok(parseFloat(viaDocker) > 10, `docker stats should show the busy loop, got ${viaDocker}`);
    const viaTug = await ok(process.execPath, [tugBin, 'stats', '--no-stream', '--format', '{{.CPUPerc}}', name]);
    assert.match(viaTug, /^\d+\.\d\d%$/);
    assert.ok(parseFloat(viaTug) > 10, `tug stats should show the busy loop, got ${viaTug}`);
  } finally {
    await docker('rm', '-f', name);
  }
});

test('docker-py: stats(stream=False) covers the last interval; one_shot=True has empty precpu_stats', async () => {
  const { stdout } = await promisify(execFile)('python3', [join(pyDir, 'stats_cpu.py'), sfx], { env: d.env, timeout: 240_000 });
  const r = JSON.parse(stdout);
  assert.ok(r.pre_total > 0, 'precpu_stats is the priming sample of a running container');
  assert.ok(r.pre_system > 0, 'precpu_stats carries its system_cpu_usage');
  assert.equal(r.read_after_preread, true, 'preread is the priming sample, before read');
  assert.ok(
    r.interval_rate > r.lifetime_rate,
    `after idling, the last interval's rate (${r.interval_rate.toFixed(3)} of a core) should exceed the lifetime average (${r.lifetime_rate.toFixed(3)})`,
  );
  assert.equal(r.one_shot.pre_total, 0, 'one-shot: precpu_stats empty, as dockerd');
  assert.equal(r.one_shot.preread, '0001-01-01T00:00:00Z');
  assert.ok(r.one_shot.total > 0, 'one-shot still reports the current cpu_stats');
});

test('stats: stream=true with one-shot=true is a 400; an unknown container a 404', async () => {
  const name = `statapi-${sfx}`;
  await ok('docker', ['run', '-d', '--name', name, 'busybox', 'sleep', '300']);
  try {
    const both = await get(`/containers/${name}/stats?stream=true&one-shot=true`);
    assert.equal(both.status, 400);
    assert.match(JSON.parse(both.body).message, /cannot have stream=true and one-shot=true/);
    const missing = await get(`/containers/nope-${sfx}/stats?stream=false`);
    assert.equal(missing.status, 404);
  } finally {
    await docker('rm', '-f', name);
  }
});
