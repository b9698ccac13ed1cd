// The real docker CLI against a tug daemon: logs, exec, attach and cp.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';
import { runCommand, type CommandResult } from '../helpers/run-command.js';

type Run = CommandResult;

let d: TestDaemon;
let tmp: string;
const sfx = randomBytes(3).toString('hex');

/** keepStdinOpen: a TTY session treats stdin EOF as the client leaving (as Docker does), which would cut its output short. */
const sh = (cmd: string, args: string[], opts: { keepStdinOpen?: boolean } = {}): Promise<Run> => runCommand(cmd, args, { env: d.env, ...opts });
const docker = (...args: string[]): Promise<Run> => sh('docker', args);
async function ok(...args: string[]): Promise<string> {
  const r = await docker(...args);
  assert.equal(r.code, 0, `docker ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

before(async () => {
  d = await startTestDaemon();
  tmp = await mkdtemp(join(tmpdir(), 'tug-cli-io-'));
});
after(async () => {
  await d?.stop();
  await rm(tmp, { recursive: true, force: true });
});

test('logs: streams apart, --tail, -t timestamps, --since', async () => {
  const name = `logs-${sfx}`;
  // Only stdout here: the order of lines across the two streams is up to the scheduler.
  await ok('run', '--name', name, 'busybox', 'sh', '-c', 'for i in 1 2 3 4 5; do echo out$i; done');
  const mixed = `logs2-${sfx}`;
  await ok('run', '--name', mixed, 'busybox', 'sh', '-c', 'echo out1; echo err1 >&2');
  const all = await docker('logs', mixed);
  assert.equal(all.stdout, 'out1\n');
  assert.equal(all.stderr, 'err1\n');
  await ok('rm', mixed);
  const tail = await docker('logs', '--tail', '3', name);
  assert.equal(tail.stdout, 'out3\nout4\nout5\n');
  assert.equal(tail.stderr, '');
  const stamped = (await ok('logs', '-t', name)).split('\n');
  assert.equal(stamped.length, 5);
  for (const [i, line] of stamped.entries()) assert.match(line, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z out${i + 1}$`));
  const future = await docker('logs', '--since', '2099-01-01T00:00:00Z', name);
  assert.equal(future.stdout + future.stderr, '');
  const past = await docker('logs', '--since', '2000-01-01T00:00:00Z', name);
  assert.equal(past.stdout.split('\n').filter(Boolean).length, 5);
  await ok('rm', name);
});

test('logs -f follows a running container and ends when it exits', async () => {
  const name = `follow-${sfx}`;
  await ok('run', '-d', '--name', name, 'busybox', 'sh', '-c', 'echo first; sleep 2; echo second >&2; sleep 1; echo third');
  const r = await docker('logs', '-f', name);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'first\nthird\n');
  assert.equal(r.stderr, 'second\n');
  assert.equal(await ok('inspect', '-f', '{{.State.Status}}', name), 'exited');
  await ok('rm', name);
});

test('exec: exit code, -e, -u, -w, -d', async () => {
  const name = `exec-${sfx}`;
  await ok('run', '-d', '--name', name, 'busybox', 'sleep', '300');
  assert.equal((await docker('exec', name, 'sh', '-c', 'exit 5')).code, 5);
  const s = await docker('exec', name, 'sh', '-c', 'echo o; echo e >&2');
  assert.equal(s.stdout, 'o\n');
  assert.equal(s.stderr, 'e\n');
  assert.equal(await ok('exec', '-e', 'EXEC_VAR=val', '-u', '1000:1001', '-w', '/tmp', name, 'sh', '-c', 'echo $EXEC_VAR $(id -u):$(id -g) $(pwd)'), 'val 1000:1001 /tmp');
  await ok('exec', '-d', name, 'sh', '-c', 'echo detached > /tmp/marker');
  // -d returns before the process is done: poll the file it writes (bounded by count, no timing assert).
  let marker = '';
  for (let i = 0; i < 50 && marker !== 'detached'; i++) {
    const r = await docker('exec', name, 'cat', '/tmp/marker');
    marker = r.stdout.trim();
  }
  assert.equal(marker, 'detached');
  const missing = await docker('exec', name, `nosuch-${sfx}`);
  assert.equal(missing.code, 127);
  await ok('rm', '-f', name);
});

test('exec -it through a real pty: stty size and exit code', async () => {
  const name = `execit-${sfx}`;
  await ok('run', '-d', '--name', name, 'busybox', 'sleep', '300');
  const r = await sh('script', ['-qec', `stty cols 83 rows 21; docker exec -it ${name} sh -c 'tty; stty size; exit 6'`, '/dev/null'], { keepStdinOpen: true });
  assert.equal(r.code, 6);
  assert.match(r.stdout, /\/dev\/pts\/\d+\r?\n/);
  assert.match(r.stdout, /21 83\r?\n/);
  await ok('rm', '-f', name);
});

test('attach to a running container gets its output and exit code', async () => {
  const name = `attach-${sfx}`;
  await ok('run', '-d', '--name', name, 'busybox', 'sh', '-c', 'sleep 2; echo attached-out; echo attached-err >&2; exit 9');
  const r = await docker('attach', name);
  assert.equal(r.code, 9);
  assert.equal(r.stdout, 'attached-out\n');
  assert.equal(r.stderr, 'attached-err\n');
  await ok('rm', name);
});

test('cp: host to container and back (file, directory, dir/.), and into a stopped container', async () => {
  const name = `cp-${sfx}`;
  await ok('run', '-d', '--name', name, 'busybox', 'sleep', '300');
  const src = join(tmp, 'src');
  await mkdir(join(src, 'sub'), { recursive: true });
  await writeFile(join(src, 'a.txt'), `alpha-${sfx}\n`);
  await writeFile(join(src, 'sub', 'b.txt'), 'beta\n');

  await ok('cp', join(src, 'a.txt'), `${name}:/tmp/a.txt`);
  assert.equal(await ok('exec', name, 'cat', '/tmp/a.txt'), `alpha-${sfx}`);
  await ok('cp', src, `${name}:/tmp/dir`);
  assert.equal(await ok('exec', name, 'cat', '/tmp/dir/sub/b.txt'), 'beta');

  await ok('cp', `${name}:/tmp/a.txt`, join(tmp, 'a-back.txt'));
  assert.equal(await readFile(join(tmp, 'a-back.txt'), 'utf8'), `alpha-${sfx}\n`);
  await ok('cp', `${name}:/tmp/dir`, join(tmp, 'dir-back'));
  assert.equal(await readFile(join(tmp, 'dir-back', 'sub', 'b.txt'), 'utf8'), 'beta\n');
  const etc = join(tmp, 'etc-copy');
  await mkdir(etc);
  await ok('cp', `${name}:/etc/.`, etc);
  const names = await readdir(etc);
  assert.ok(names.includes('passwd') && names.includes('group'), `copied /etc/. has ${names.join(',')}`);
  assert.match(await readFile(join(etc, 'passwd'), 'utf8'), /^root:x:0:0:/);

  const stopped = `cpstop-${sfx}`;
  await ok('create', '--name', stopped, 'busybox', 'cat', '/a.txt');
  await ok('cp', join(src, 'a.txt'), `${stopped}:/a.txt`);
  const started = await docker('start', '-a', stopped);
  assert.equal(started.stdout, `alpha-${sfx}\n`);
  await ok('cp', `${stopped}:/a.txt`, join(tmp, 'from-stopped.txt'));
  assert.equal(await readFile(join(tmp, 'from-stopped.txt'), 'utf8'), `alpha-${sfx}\n`);
  await ok('rm', '-f', name, stopped);
});
