// The real docker CLI against a tug daemon: run/create/start and the options
// people pass to them. Real Docker's behaviour is the spec (exit codes, which
// stream output lands on, error wording).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';
import { runCommand, type CommandResult } from '../helpers/run-command.js';

type Run = CommandResult;

let d: TestDaemon;
let tmp: string;
const sfx = randomBytes(3).toString('hex');

const sh = (cmd: string, args: string[], input?: string): Promise<Run> => runCommand(cmd, args, { env: d.env, input });
const docker = (...args: string[]): Promise<Run> => sh('docker', args);
async function ok(...args: string[]): Promise<string> {
  const r = await docker(...args);
  assert.equal(r.code, 0, `docker ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

before(async () => {
  d = await startTestDaemon();
  tmp = await mkdtemp(join(tmpdir(), 'tug-cli-run-'));
});
after(async () => {
  await d?.stop();
  await rm(tmp, { recursive: true, force: true });
});

test('exit codes propagate and stdout/stderr stay apart', async () => {
  const r = await docker('run', '--rm', 'busybox', 'sh', '-c', 'exit 3');
  assert.equal(r.code, 3);
  const s = await docker('run', '--rm', 'busybox', 'sh', '-c', 'echo to-out; echo to-err >&2');
  assert.equal(s.code, 0);
  assert.equal(s.stdout, 'to-out\n');
  assert.equal(s.stderr, 'to-err\n');
});

test('unknown command exits 127 with Docker\'s message', async () => {
  const r = await docker('run', '--rm', 'busybox', `nosuchcmd-${sfx}`);
  assert.equal(r.code, 127);
  assert.match(r.stderr, new RegExp(`exec: "nosuchcmd-${sfx}": executable file not found in \\$PATH`));
});

test('-d, --rm and --name (conflict on reuse)', async () => {
  const name = `run-${sfx}`;
  const id = await ok('run', '-d', '--name', name, 'busybox', 'sleep', '60');
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.equal(await ok('inspect', '-f', '{{.State.Running}} {{.Name}}', name), `true /${name}`);
  const again = await docker('run', '-d', '--name', name, 'busybox', 'true');
  assert.equal(again.code, 125);
  assert.match(again.stderr, new RegExp(`The container name "/${name}" is already in use by container "${id}"`));
  await ok('rm', '-f', name);

  const rmName = `rm-${sfx}`;
  assert.equal(await ok('run', '--rm', '--name', rmName, 'busybox', 'echo', 'gone'), 'gone');
  const ins = await docker('inspect', rmName);
  assert.notEqual(ins.code, 0, '--rm container should be gone after exit');
  assert.match(ins.stderr, /No such (object|container)/);
});

test('create then start -a', async () => {
  const name = `cs-${sfx}`;
  await ok('create', '--name', name, 'busybox', 'sh', '-c', 'echo created-then-started; exit 2');
  assert.equal(await ok('inspect', '-f', '{{.State.Status}}', name), 'created');
  const r = await docker('start', '-a', name);
  assert.equal(r.stdout, 'created-then-started\n');
  assert.equal(await ok('inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', name), 'exited 2');
  await ok('rm', name);
});

test('-e, --env-file, -w, -u, --entrypoint, --hostname', async () => {
  const envFile = join(tmp, 'env');
  await writeFile(envFile, 'FROM_FILE=one\n# comment\nSECOND=two words\n');
  const out = await ok('run', '--rm', '-e', 'FROM_FLAG=x', '--env-file', envFile, '-w', '/tmp/work', 'busybox', 'sh', '-c', 'echo "$FROM_FLAG|$FROM_FILE|$SECOND"; pwd');
  assert.equal(out, 'x|one|two words\n/tmp/work');
  assert.equal(await ok('run', '--rm', '-u', '1234:5678', 'busybox', 'sh', '-c', 'echo $(id -u):$(id -g)'), '1234:5678');
  assert.equal(await ok('run', '--rm', '-u', 'nobody', 'busybox', 'id', '-un'), 'nobody');
  assert.equal(await ok('run', '--rm', '--entrypoint', '/bin/echo', 'busybox', 'via', 'entrypoint'), 'via entrypoint');
  assert.equal(await ok('run', '--rm', '--hostname', `h-${sfx}`, 'busybox', 'hostname'), `h-${sfx}`);
});

test('-l labels: inspect and ps --filter label=', async () => {
  const name = `lab-${sfx}`;
  await ok('run', '-d', '--name', name, '-l', `team=t${sfx}`, '-l', 'tier=web', 'busybox', 'sleep', '60');
  assert.deepEqual(JSON.parse(await ok('inspect', '-f', '{{json .Config.Labels}}', name)), { team: `t${sfx}`, tier: 'web' });
  assert.equal(await ok('ps', '--filter', `label=team=t${sfx}`, '--format', '{{.Names}}'), name);
  assert.equal(await ok('ps', '--filter', 'label=team=nobody-has-this', '--format', '{{.Names}}'), '');
  await ok('rm', '-f', name);
});

test('--init makes docker-init pid 1', async () => {
  const out = await ok('run', '--rm', '--init', 'busybox', 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "');
  assert.match(out, /^\S*docker-init -- sh -c/);
});

test('--read-only refuses writes; --tmpfs /tmp still writable', async () => {
  const ro = await docker('run', '--rm', '--read-only', 'busybox', 'touch', '/x');
  assert.notEqual(ro.code, 0);
  assert.match(ro.stderr, /Read-only file system/);
  assert.equal(await ok('run', '--rm', '--read-only', '--tmpfs', '/tmp', 'busybox', 'sh', '-c', 'echo w > /tmp/f && cat /tmp/f'), 'w');
});

test('-v bind mount: host file visible, :ro refuses writes', async () => {
  const f = join(tmp, 'host.txt');
  await writeFile(f, `from-host-${sfx}\n`);
  assert.equal(await ok('run', '--rm', '-v', `${tmp}:/hostdir`, 'busybox', 'cat', '/hostdir/host.txt'), `from-host-${sfx}`);
  await ok('run', '--rm', '-v', `${tmp}:/hostdir`, 'busybox', 'sh', '-c', 'echo written > /hostdir/back.txt');
  assert.equal(await readFile(join(tmp, 'back.txt'), 'utf8'), 'written\n');
  const ro = await docker('run', '--rm', '-v', `${f}:/h.txt:ro`, 'busybox', 'sh', '-c', 'echo x > /h.txt');
  assert.notEqual(ro.code, 0);
  assert.match(ro.stderr, /Read-only file system/);
  assert.equal(await readFile(f, 'utf8'), `from-host-${sfx}\n`);
});

test('-v named volume is filled from the image path on first use and persists', async () => {
  const vol = `etcvol-${sfx}`;
  assert.match(await ok('run', '--rm', '-v', `${vol}:/etc`, 'busybox', 'cat', '/etc/passwd'), /^root:x:0:0:/);
  await ok('run', '--rm', '-v', `${vol}:/etc`, 'busybox', 'sh', '-c', 'echo kept > /etc/mine');
  assert.equal(await ok('run', '--rm', '-v', `${vol}:/data`, 'busybox', 'cat', '/data/mine'), 'kept');
  await ok('volume', 'rm', vol);
});

test('--mount type=bind, volume and tmpfs', async () => {
  await writeFile(join(tmp, 'm.txt'), 'mounted\n');
  const vol = `mvol-${sfx}`;
  const out = await ok(
    'run', '--rm',
    '--mount', `type=bind,src=${join(tmp, 'm.txt')},dst=/m/m.txt,readonly`,
    '--mount', `type=volume,src=${vol},dst=/v`,
    '--mount', 'type=tmpfs,dst=/t',
    'busybox', 'sh', '-c', 'cat /m/m.txt; touch /v/a && echo v-ok; grep " /t " /proc/mounts | cut -d" " -f3; echo x > /m/m.txt || echo ro-refused',
  );
  assert.equal(out, 'mounted\nv-ok\ntmpfs\nro-refused');
  const mp = await ok('volume', 'inspect', '-f', '{{.Name}}', vol);
  assert.equal(mp, vol);
  await ok('volume', 'rm', vol);
});

test('-i with piped stdin, including empty stdin', async () => {
  const r = await sh('docker', ['run', '-i', '--rm', 'busybox', 'cat'], 'hi\n');
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'hi\n');
  const many = await sh('docker', ['run', '-i', '--rm', 'busybox', 'wc', '-l'], 'x\n'.repeat(5000));
  assert.equal(many.stdout.trim(), '5000');
  const empty = await sh('docker', ['run', '-i', '--rm', 'busybox', 'cat'], '');
  assert.equal(empty.code, 0);
  assert.equal(empty.stdout, '');
});

test('-t through a real pty: tty path, size and exit code', async () => {
  const r = await sh('script', ['-qec', "stty cols 91 rows 27; docker run --rm -it busybox sh -c 'tty; stty size; exit 4'", '/dev/null']);
  assert.equal(r.code, 4);
  assert.match(r.stdout, /\/dev\/pts\/0\r?\n/);
  assert.match(r.stdout, /27 91/);
});

test('--add-host, --dns, --dns-search and --dns-option reach /etc/hosts and resolv.conf', async () => {
  const out = await ok('run', '--rm', '--add-host', `peer-${sfx}:192.0.2.7`, '--dns', '192.0.2.53', '--dns-search', 'example.test', '--dns-option', 'ndots:2', 'busybox', 'sh', '-c', 'cat /etc/hosts; echo ---; cat /etc/resolv.conf');
  const [hosts, resolv] = out.split('---\n');
  assert.match(hosts!, new RegExp(`^192\\.0\\.2\\.7\\s+peer-${sfx}$`, 'm'));
  assert.match(hosts!, /^127\.0\.0\.1\s+localhost$/m);
  const ns = resolv!.split('\n').filter((l) => l.startsWith('nameserver'));
  assert.deepEqual(ns, ['nameserver 192.0.2.53']);
  assert.match(resolv!, /^search example\.test$/m);
  assert.match(resolv!, /^options ndots:2$/m);
});

test('--device maps a host device node into the container', async () => {
  const out = await ok('run', '--rm', '--device', '/dev/null:/dev/tug-null', 'busybox', 'sh', '-c', 'stat -c "%t:%T %F" /dev/tug-null && echo x > /dev/tug-null && echo wrote');
  assert.equal(out, '1:3 character special file\nwrote');
  const without = await docker('run', '--rm', 'busybox', 'ls', '/dev/tug-null');
  assert.notEqual(without.code, 0);
});

test('--group-add by gid and by name; an unknown name is refused', async () => {
  const groups = (await ok('run', '--rm', '-u', '1000', '--group-add', '777', '--group-add', 'daemon', 'busybox', 'id', '-G')).split(' ').sort();
  assert.deepEqual(groups, ['0', '1', '777']);
  const bad = await docker('run', '--rm', '--group-add', `nogroup-${sfx}`, 'busybox', 'id');
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, new RegExp(`Unable to find group nogroup-${sfx}`));
});
