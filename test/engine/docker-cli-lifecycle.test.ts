// The real docker CLI against a tug daemon: a container's life after it starts
// (stop/kill/restart/pause/rm/wait/rename/update), listing, inspecting and events.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';
import { runCommand, type CommandResult } from '../helpers/run-command.js';

type Run = CommandResult;

let d: TestDaemon;
const sfx = randomBytes(3).toString('hex');

const docker = (...args: string[]): Promise<Run> => runCommand('docker', args, { env: d.env });
async function ok(...args: string[]): Promise<string> {
  const r = await docker(...args);
  assert.equal(r.code, 0, `docker ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}
const state = (name: string, fmt: string): Promise<string> => ok('inspect', '-f', fmt, name);

/** The container's memory cgroup dir, from its init process (no guessing the daemon's naming). */
async function memoryCgroupDir(name: string): Promise<string> {
  const pid = await state(name, '{{.State.Pid}}');
  const lines = (await readFile(`/proc/${pid}/cgroup`, 'utf8')).split('\n');
  const mem = lines.find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l));
  assert.ok(mem, `no memory cgroup line for pid ${pid}`);
  return `/sys/fs/cgroup/memory${mem.slice(mem.lastIndexOf(':') + 1)}`;
}

before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d?.stop();
});

test('stop: a TERM trap exits 0; an ignored TERM gets SIGKILL after -t 1 (137)', async () => {
  const trap = `trap-${sfx}`;
  const stubborn = `stubborn-${sfx}`;
  await ok('run', '-d', '--name', trap, 'busybox', 'sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done');
  await ok('run', '-d', '--name', stubborn, 'busybox', 'sh', '-c', 'trap "" TERM; while :; do sleep 0.1; done');
  assert.equal(await ok('stop', trap), trap);
  assert.equal(await state(trap, '{{.State.Status}} {{.State.ExitCode}}'), 'exited 0');
  assert.equal(await ok('stop', '-t', '1', stubborn), stubborn);
  assert.equal(await state(stubborn, '{{.State.Status}} {{.State.ExitCode}}'), 'exited 137');
  await ok('rm', trap, stubborn);
});

test('kill -s delivers the signal; plain kill gives 137', async () => {
  const name = `kill-${sfx}`;
  await ok('run', '-d', '--name', name, 'busybox', 'sh', '-c', 'trap "exit 42" USR1; while :; do sleep 0.1; done');
  await ok('kill', '-s', 'USR1', name);
  assert.equal(await ok('wait', name), '42');
  await ok('start', name);
  await ok('kill', name);
  assert.equal(await ok('wait', name), '137');
  await ok('rm', name);
});

test('restart gives a new process; pause/unpause and exec refused while paused', async () => {
  const name = `pause-${sfx}`;
  await ok('run', '-d', '--name', name, 'busybox', 'sleep', '300');
  const pid1 = await state(name, '{{.State.Pid}}');
  await ok('restart', '-t', '1', name);
  const pid2 = await state(name, '{{.State.Pid}}');
  assert.notEqual(pid1, pid2);
  assert.equal(await state(name, '{{.State.Running}}'), 'true');

  await ok('pause', name);
  assert.equal(await state(name, '{{.State.Paused}} {{.State.Status}}'), 'true paused');
  assert.match(await ok('ps', '--filter', `name=${name}`, '--format', '{{.Status}}'), /\(Paused\)/);
  const ex = await docker('exec', name, 'true');
  assert.notEqual(ex.code, 0);
  assert.match(ex.stderr, /is paused, unpause the container before exec/);
  await ok('unpause', name);
  assert.equal(await state(name, '{{.State.Paused}} {{.State.Status}}'), 'false running');
  assert.equal(await ok('exec', name, 'echo', 'alive'), 'alive');
  await ok('rm', '-f', name);
});

test('rm: refused on running, -f kills; -v removes the anonymous volume', async () => {
  const name = `rm-${sfx}`;
  await ok('run', '-d', '--name', name, '-v', '/anon', 'busybox', 'sleep', '300');
  const vol = await state(name, '{{range .Mounts}}{{.Name}}{{end}}');
  assert.match(vol, /^[0-9a-f]{64}$/);
  const refused = await docker('rm', name);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /cannot remove container|You cannot remove a running container/i);
  await ok('rm', '-f', '-v', name);
  assert.notEqual((await docker('inspect', name)).code, 0);
  const vi = await docker('volume', 'inspect', vol);
  assert.notEqual(vi.code, 0, 'anonymous volume should be removed with -v');
});

test('ps: -a, -q, filters, --format, -n and -l', async () => {
  const tag = `ps${sfx}`;
  const up = `${tag}-up`;
  const done = `${tag}-done`;
  const upId = await ok('run', '-d', '--name', up, '-l', `grp=${tag}`, 'busybox', 'sleep', '300');
  await ok('run', '--name', done, '-l', `grp=${tag}`, 'busybox', 'true');
  const running = (await ok('ps', '--filter', `label=grp=${tag}`, '--format', '{{.Names}}')).split('\n');
  assert.deepEqual(running, [up]);
  const all = (await ok('ps', '-a', '--filter', `label=grp=${tag}`, '--format', '{{.Names}}')).split('\n').sort();
  assert.deepEqual(all, [done, up].sort());
  assert.equal(await ok('ps', '-q', '--filter', `name=${up}`), upId.slice(0, 12));
  assert.equal(await ok('ps', '-a', '--filter', 'status=exited', '--filter', `label=grp=${tag}`, '--format', '{{.Names}}'), done);
  assert.match(await ok('ps', '-a', '--filter', `name=${done}`, '--format', '{{.Names}} {{.Status}}'), new RegExp(`^${done} Exited \\(0\\) `));
  assert.match(await ok('ps', '--filter', `name=${up}`, '--format', '{{.Names}} {{.Status}}'), new RegExp(`^${up} Up `));
  const byAncestor = (await ok('ps', '-a', '--filter', 'ancestor=busybox', '--filter', `label=grp=${tag}`, '-q')).split('\n');
  assert.equal(byAncestor.length, 2);
  assert.equal(await ok('ps', '-a', '--filter', 'ancestor=no-such-image', '--filter', `label=grp=${tag}`, '-q'), '');
  assert.equal(await ok('ps', '-l', '--format', '{{.Names}}'), done);
  assert.equal(await ok('ps', '-n', '1', '--format', '{{.Names}}'), done);
  await ok('rm', '-f', up, done);
});

test('wait prints the exit code; rename keeps the container', async () => {
  const name = `wait-${sfx}`;
  const id = await ok('run', '-d', '--name', name, 'busybox', 'sh', '-c', 'sleep 1; exit 7');
  assert.equal(await ok('wait', name), '7');
  await ok('rename', name, `${name}-new`);
  assert.equal(await state(`${name}-new`, '{{.Id}} {{.Name}}'), `${id} /${name}-new`);
  assert.notEqual((await docker('inspect', name)).code, 0);
  await ok('rm', `${name}-new`);
});

test('update --memory changes the cgroup limit; --restart changes the policy', async () => {
  const name = `upd-${sfx}`;
  await ok('run', '-d', '--name', name, '-m', '128m', 'busybox', 'sleep', '300');
  const dir = await memoryCgroupDir(name);
  assert.equal((await readFile(`${dir}/memory.limit_in_bytes`, 'utf8')).trim(), String(128 * 1024 * 1024));
  await ok('update', '--memory', '96m', '--memory-swap', '-1', '--restart', 'on-failure:3', name);
  assert.equal((await readFile(`${dir}/memory.limit_in_bytes`, 'utf8')).trim(), String(96 * 1024 * 1024));
  assert.equal(await state(name, '{{.HostConfig.Memory}} {{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}'), `${96 * 1024 * 1024} on-failure 3`);
  await ok('rm', '-f', name);
});

test('port, top, stats --no-stream and inspect -f', async () => {
  const name = `insp-${sfx}`;
  await ok('run', '-d', '--name', name, '-p', '127.0.0.1::80', '-v', `insp-${sfx}:/data`, '-e', 'K=V', 'busybox', 'sleep', '300');
  assert.match(await ok('port', name), /^80\/tcp -> 127\.0\.0\.1:\d+$/);
  assert.match(await ok('top', name), /sleep 300/);
  const mem = await ok('stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}}', name);
  const m = new RegExp(`^${name} ([0-9.]+)([KMG]i?B|B) / `).exec(mem);
  assert.ok(m, `unexpected stats line: ${mem}`);
  assert.ok(Number(m[1]) > 0, `memory usage should be non-zero: ${mem}`);

  assert.equal(await state(name, '{{.State.Status}} {{.State.Running}} {{.State.ExitCode}}'), 'running true 0');
  assert.ok(Number(await state(name, '{{.State.Pid}}')) > 1);
  const ip = await state(name, '{{.NetworkSettings.IPAddress}}');
  const [net] = d.subnet.split('.0/');
  assert.ok(ip.startsWith(`${net!.split('.').slice(0, 3).join('.')}.`), `IP ${ip} outside ${d.subnet}`);
  const ports = JSON.parse(await state(name, '{{json .NetworkSettings.Ports}}')) as Record<string, Array<{ HostIp: string; HostPort: string }>>;
  assert.equal(ports['80/tcp']![0]!.HostIp, '127.0.0.1');
  const mounts = JSON.parse(await state(name, '{{json .Mounts}}')) as Array<{ Type: string; Name: string; Destination: string; RW: boolean }>;
  assert.deepEqual(mounts.map((x) => [x.Type, x.Name, x.Destination, x.RW]), [['volume', `insp-${sfx}`, '/data', true]]);
  assert.equal(await state(name, '{{.HostConfig.NetworkMode}} {{.HostConfig.RestartPolicy.Name}}'), 'bridge no');
  assert.match(await state(name, '{{json .Config.Env}}'), /"K=V"/);
  await ok('rm', '-f', '-v', name);
  await ok('volume', 'rm', `insp-${sfx}`);
});

test('events --since/--until: create, start, die, destroy in order; --filter', async () => {
  const name = `ev-${sfx}`;
  const since = (Date.now() / 1000 - 1).toFixed(3);
  await ok('run', '--name', name, 'busybox', 'true');
  await ok('rm', name);
  // --until must lie in the past or the CLI keeps following: wait out the second boundary.
  await new Promise((r) => setTimeout(r, 1100));
  const until = (Date.now() / 1000).toFixed(3);
  const actions = (await ok('events', '--since', since, '--until', until, '--filter', `container=${name}`, '--format', '{{.Type}} {{.Action}}')).split('\n');
  const lifecycle = actions.filter((a) => /^container (create|start|die|destroy)$/.test(a));
  assert.deepEqual(lifecycle, ['container create', 'container start', 'container die', 'container destroy']);
  const starts = await ok('events', '--since', since, '--until', until, '--filter', 'event=start', '--filter', `container=${name}`, '--format', '{{.Actor.Attributes.name}}');
  assert.equal(starts, name);
  const exit = await ok('events', '--since', since, '--until', until, '--filter', 'event=die', '--filter', `container=${name}`, '--format', '{{.Actor.Attributes.exitCode}}');
  assert.equal(exit, '0');
});
