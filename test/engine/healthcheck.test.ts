// Container healthchecks with the real docker CLI and docker-py against a tug
// daemon: --health-* flags and an image's HEALTHCHECK, State.Health in
// inspect, the ps Status text and health filter, health_status events, the
// start period, a probe killed at its timeout, and health across a daemon restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startTestDaemon, tugBin, type TestDaemon } from '../helpers/tug-daemon.js';
import { runCommand } from '../helpers/run-command.js';

let d: TestDaemon;
const sfx = randomBytes(3).toString('hex');

const docker = (...args: string[]): ReturnType<typeof runCommand> => runCommand('docker', args, { env: { ...d.env, DOCKER_BUILDKIT: '0' } });
async function ok(...args: string[]): Promise<string> {
  const r = await docker(...args);
  assert.equal(r.code, 0, `docker ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

interface Health {
  Status: string;
  FailingStreak: number;
  Log: Array<{ Start: string; End: string; ExitCode: number; Output: string }>;
}
const health = async (name: string): Promise<Health | null> => JSON.parse(await ok('inspect', '-f', '{{json .State.Health}}', name)) as Health | null;

/** Polls until pred holds; the bound is a hang guard, not a timing check. */
async function waitFor<T>(what: string, get: () => Promise<T>, pred: (v: T) => boolean, boundMs = 90_000): Promise<T> {
  const until = Date.now() + boundMs;
  for (;;) {
    const v = await get();
    if (pred(v)) return v;
    if (Date.now() > until) throw new Error(`${what}: still ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d?.stop();
});

test('--health-cmd: starting, unhealthy after retries, healthy once the probe passes; ps text, filter and events', async () => {
  const name = `hc-flip-${sfx}`;
  const since = String(Math.floor(Date.now() / 1000) - 1);
  await ok('run', '-d', '--name', name, '--health-cmd', 'echo probing; test -f /tmp/ok', '--health-interval', '1s', '--health-retries', '2', 'busybox', 'sleep', '600');
  const first = await health(name);
  assert.equal(first?.Status, 'starting');
  assert.match(await ok('ps', '--filter', `name=${name}`, '--format', '{{.Status}}'), /^Up .* \(health: starting\)$/);

  const bad = await waitFor('unhealthy', () => health(name), (h) => h?.Status === 'unhealthy');
  assert.ok(bad!.FailingStreak >= 2, `streak ${bad!.FailingStreak}`);
  assert.equal(bad!.Log.at(-1)!.ExitCode, 1);
  assert.equal(bad!.Log.at(-1)!.Output, 'probing\n', 'the probe\'s output is kept');
  assert.match(await ok('ps', '--filter', `name=${name}`, '--format', '{{.Status}}'), /^Up .* \(unhealthy\)$/);
  assert.equal(await ok('ps', '-q', '--filter', `name=${name}`, '--filter', 'health=unhealthy'), (await ok('inspect', '-f', '{{.Id}}', name)).slice(0, 12));

  await ok('exec', name, 'touch', '/tmp/ok');
  const good = await waitFor('healthy', () => health(name), (h) => h?.Status === 'healthy');
  assert.equal(good!.FailingStreak, 0);
  assert.ok(good!.Log.length <= 5, 'at most five results are kept');
  assert.match(await ok('ps', '--filter', `name=${name}`, '--format', '{{.Status}}'), /^Up .* \(healthy\)$/);
  assert.equal(await ok('ps', '-q', '--filter', `name=${name}`, '--filter', 'health=unhealthy'), '');
  assert.equal(await ok('ps', '-q', '--filter', `name=${name}`, '--filter', 'health=healthy'), (await ok('inspect', '-f', '{{.Id}}', name)).slice(0, 12));
  const bogus = await docker('ps', '--filter', 'health=sickly');
  assert.notEqual(bogus.code, 0);
  assert.match(bogus.stderr, /Unrecognised filter value for health: sickly/);

  const until = String(Math.floor(Date.now() / 1000) + 1);
  const actions = (await ok('events', '--since', since, '--until', until, '--filter', `container=${name}`, '--format', '{{.Action}}')).split('\n');
  assert.ok(actions.includes('health_status: unhealthy'), actions.join(','));
  assert.ok(actions.includes('health_status: healthy'), actions.join(','));
  assert.ok(actions.indexOf('health_status: unhealthy') < actions.indexOf('health_status: healthy'));
  assert.ok(actions.some((a) => a.startsWith('exec_create: /bin/sh -c echo probing')), 'each probe is an exec, with its events');
  assert.ok(actions.some((a) => a.startsWith('exec_start: /bin/sh -c echo probing')));

  // Stopped: probes end and Docker reports the last status as unhealthy.
  await ok('stop', '-t', '1', name);
  assert.equal((await health(name))?.Status, 'unhealthy');
  assert.match(await ok('ps', '-a', '--filter', `name=${name}`, '--format', '{{.Status}}'), /^Exited/);
  // Started again: back to starting, then healthy (the file is in its rootfs still).
  await ok('start', name);
  assert.equal((await health(name))?.Status, 'starting');
  await waitFor('healthy after restart', () => health(name), (h) => h?.Status === 'healthy');
  await ok('rm', '-f', name);
});

test('HEALTHCHECK from a built image; --no-healthcheck and NONE disable it', async () => {
  const ctx = await mkdtemp(join(tmpdir(), 'hc-build-'));
  const tag = `hc-img-${sfx}`;
  try {
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nHEALTHCHECK --interval=1s --timeout=5s --retries=4 CMD ["sh", "-c", "echo from-image"]\nCMD ["sleep", "600"]\n');
    await ok('build', '-q', '-t', tag, ctx);
    const name = `hc-img-${sfx}`;
    await ok('run', '-d', '--name', name, tag);
    assert.deepEqual(JSON.parse(await ok('inspect', '-f', '{{json .Config.Healthcheck}}', name)), {
      Test: ['CMD', 'sh', '-c', 'echo from-image'],
      Interval: 1_000_000_000,
      Timeout: 5_000_000_000,
      Retries: 4,
    });
    const h = await waitFor('healthy', () => health(name), (v) => v?.Status === 'healthy');
    assert.equal(h!.Log.at(-1)!.Output, 'from-image\n');
    assert.equal(h!.Log.at(-1)!.ExitCode, 0);

    // The container's flags override the image's fields one by one (Docker's merge).
    const merged = `hc-merge-${sfx}`;
    await ok('create', '--name', merged, '--health-retries', '9', tag);
    const mc = JSON.parse(await ok('inspect', '-f', '{{json .Config.Healthcheck}}', merged));
    assert.deepEqual(mc.Test, ['CMD', 'sh', '-c', 'echo from-image']);
    assert.equal(mc.Retries, 9);
    assert.equal(mc.Interval, 1_000_000_000);

    const off = `hc-off-${sfx}`;
    await ok('run', '-d', '--name', off, '--no-healthcheck', tag);
    assert.deepEqual(JSON.parse(await ok('inspect', '-f', '{{json .Config.Healthcheck.Test}}', off)), ['NONE']);
    assert.equal(await health(off), null, 'NONE: no health state at all');
    assert.match(await ok('ps', '--filter', `name=${off}`, '--format', '{{.Status}}'), /^Up [^(]*$/);
    assert.equal(await ok('ps', '-q', '--filter', `name=${off}`, '--filter', 'health=none'), (await ok('inspect', '-f', '{{.Id}}', off)).slice(0, 12));
    await ok('rm', '-f', name, merged, off);
  } finally {
    await docker('rmi', '-f', tag);
    await rm(ctx, { recursive: true, force: true });
  }
});

test('start period: failures do not count while starting; a success ends it', async () => {
  const name = `hc-grace-${sfx}`;
  await ok('run', '-d', '--name', name, '--health-cmd', 'test -f /tmp/ready', '--health-interval', '1s', '--health-retries', '1',
    '--health-start-period', '1h', '--health-start-interval', '1s', 'busybox', 'sleep', '600');
  const h = await waitFor('three failed probes', () => health(name), (v) => (v?.Log.length ?? 0) >= 3);
  assert.equal(h!.Status, 'starting', 'inside the start period a failure does not make it unhealthy');
  assert.equal(h!.FailingStreak, 0);
  assert.ok(h!.Log.every((l) => l.ExitCode === 1));
  await ok('exec', name, 'touch', '/tmp/ready');
  await waitFor('healthy', () => health(name), (v) => v?.Status === 'healthy');
  // Past the start period now: one failure (retries 1) is enough.
  await ok('exec', name, 'rm', '/tmp/ready');
  const bad = await waitFor('unhealthy', () => health(name), (v) => v?.Status === 'unhealthy');
  assert.equal(bad!.FailingStreak >= 1, true);
  await ok('rm', '-f', name);
});

test('a probe that outlives its timeout is killed and counts as a failure', async () => {
  const name = `hc-hang-${sfx}`;
  await ok('run', '-d', '--name', name, '--health-cmd', 'sleep 7777', '--health-interval', '1s', '--health-timeout', '1s', '--health-retries', '1', 'busybox', 'sleep', '600');
  const h = await waitFor('three timed-out probes', () => health(name), (v) => (v?.Log.length ?? 0) >= 3);
  assert.equal(h!.Status, 'unhealthy');
  for (const l of h!.Log) {
    assert.equal(l.ExitCode, -1);
    assert.equal(l.Output, 'Health check exceeded timeout (1s)');
  }
  // Killed at the timeout, the probes do not pile up: at most the current one runs.
  const top = await ok('top', name);
  assert.ok(top.split('\n').filter((l) => l.includes('sleep 7777')).length <= 1, top);
  await ok('stop', '-t', '1', name);
  await ok('rm', name);
});

test('bad healthcheck settings are refused with Docker\'s wording', async () => {
  const r = await docker('create', '--health-cmd', 'true', '--health-interval', '10us', 'busybox');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Interval in Healthcheck cannot be less than 1ms/);
  // The CLI refuses negative retries itself; docker-py sends them.
  const script = `
import docker
try:
    docker.from_env().api.create_container('busybox', healthcheck={'test': ['CMD', 'true'], 'retries': -1})
    print('created')
except docker.errors.APIError as e:
    print(e.response.status_code, e.explanation)
`;
  const n = await runCommand('python3', ['-c', script], { env: d.env });
  assert.equal(n.stdout.trim(), '400 Retries in Healthcheck cannot be negative');
});

test('health survives a daemon restart: log kept, probes resume', async () => {
  const name = `hc-crash-${sfx}`;
  await ok('run', '-d', '--name', name, '--health-cmd', 'true', '--health-interval', '1s', 'busybox', 'sleep', '600');
  const before = await waitFor('healthy', () => health(name), (v) => v?.Status === 'healthy' && v.Log.length >= 2);
  await d.crash();
  await d.restart();
  const after = await health(name);
  assert.ok(after, 'health is in the saved record');
  assert.ok(after!.Log.length >= before!.Log.length);
  assert.equal(after!.Log[0]!.Start <= before!.Log.at(-1)!.Start, true, 'the old results are kept');
  const lastBefore = after!.Log.at(-1)!.Start;
  const resumed = await waitFor('a new probe', () => health(name), (v) => v?.Status === 'healthy' && v.Log.at(-1)!.Start > lastBefore);
  assert.equal(resumed!.FailingStreak, 0);
  await ok('rm', '-f', name);
});

test('docker-py: Container.health follows the probe', async () => {
  const name = `hc-py-${sfx}`;
  const script = `
import docker, json, sys, time
c = docker.from_env(timeout=60)
ct = c.containers.run('busybox', ['sleep', '600'], name=sys.argv[1], detach=True,
    healthcheck={'test': ['CMD-SHELL', 'exit 0'], 'interval': 1000000000, 'retries': 2})
ct.reload()
first = ct.health
deadline = time.time() + 90
while time.time() < deadline:
    ct.reload()
    if ct.health == 'healthy':
        break
    time.sleep(0.25)
print(json.dumps({'first': first, 'last': ct.health, 'test': ct.attrs['Config']['Healthcheck']['Test']}))
ct.remove(force=True)
`;
  const r = await runCommand('python3', ['-c', script, name], { env: d.env, guardMs: 180_000 });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  // Right after start: starting (healthy if a probe already passed on a slow machine), never unknown.
  assert.ok(['starting', 'healthy'].includes(out.first), out.first);
  assert.equal(out.last, 'healthy');
  assert.deepEqual(out.test, ['CMD-SHELL', 'exit 0']);
});

test('tug run --health-* and tug ps: the same healthcheck through tug\'s own CLI', async () => {
  const tug = (...args: string[]): ReturnType<typeof runCommand> => runCommand(process.execPath, [tugBin, ...args], { env: d.env });
  const name = `hc-tug-${sfx}`;
  const r = await tug('run', '-d', '--name', name, '--health-cmd', 'true', '--health-interval', '1s', '--health-retries', '5', 'busybox', 'sleep', '600');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(await ok('inspect', '-f', '{{json .Config.Healthcheck}}', name)), {
    // docker's template drops the zero durations (Go's omitempty).
    Test: ['CMD-SHELL', 'true'], Interval: 1_000_000_000, Retries: 5,
  });
  await waitFor('healthy', () => health(name), (v) => v?.Status === 'healthy');
  const ps = await tug('ps', '--filter', `name=${name}`, '--format', '{{.Status}}');
  assert.match(ps.stdout.trim(), /^Up .* \(healthy\)$/);
  const conflict = await tug('run', '--rm', '--no-healthcheck', '--health-cmd', 'true', 'busybox', 'true');
  assert.equal(conflict.code, 125);
  assert.match(conflict.stderr, /--no-healthcheck conflicts with --health-\* options/);
  const negative = await tug('run', '--rm', '--health-interval', '-1s', 'busybox', 'true');
  assert.equal(negative.code, 125);
  assert.match(negative.stderr, /--health-interval cannot be negative/);
  await ok('rm', '-f', name);
});
