// The engine's state on disk is private, with Docker's modes: another local
// user (nobody, uid 65534) can read no container's record (its environment),
// runtime bundle or rootfs, nor list the root; containers running as a
// non-root user still work (their own rootfs, named volumes, bind mounts);
// and a root an older tug left 0755/0644 is tightened when the daemon starts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';
import { runtimeStateDir } from '../../src/engine/run-dir.js';
import { runTool } from '../../src/util/exec-file.js';

const SECRET = `pw-${Math.random().toString(36).slice(2)}`;
let d: TestDaemon;
let id = '';
let hostDir = '';

const docker = (args: string[], allowFailure = false) => runTool('docker', args, { env: d.env, allowFailure });
const modeOf = async (p: string): Promise<string> => ((await stat(p)).mode & 0o7777).toString(8).padStart(4, '0');

/** Runs argv as uid/gid 65534 with no supplementary groups. */
const asNobody = (argv: string[]) => runTool('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', ...argv], { allowFailure: true });

async function assertNobodyDenied(argv: string[]): Promise<void> {
  const r = await asNobody(argv);
  assert.notEqual(r.code, 0, `nobody ran ${argv.join(' ')}: ${r.stdout}`);
  assert.match(r.stderr, /Permission denied/, argv.join(' '));
  assert.ok(!r.stdout.includes(SECRET), `${argv.join(' ')} leaked the secret`);
}

before(async () => {
  d = await startTestDaemon();
  // The test dir itself (mkdtemp: 0700) must not be what stops nobody: open it up
  // so that only the engine root's own modes stand in the way.
  await chmod(dirname(d.root), 0o711);
  hostDir = await mkdtemp(join(tmpdir(), 'tug-modes-bind-'));
  await writeFile(join(hostDir, 'greeting'), 'hello from the host\n', { mode: 0o644 });
  await chmod(join(hostDir, 'greeting'), 0o644);
  id = (await docker(['run', '-d', '--name', 'modes-secret', '-e', `SECRET=${SECRET}`, '-v', 'modes-vol:/data', 'busybox', 'sleep', '600'])).stdout.trim();
});

after(async () => {
  await docker(['rm', '-f', 'modes-secret', 'modes-user'], true);
  await docker(['volume', 'rm', '-f', 'modes-vol', 'modes-uvol'], true);
  await d?.stop();
  if (hostDir) await rm(hostDir, { recursive: true, force: true });
});

test('state files have Docker modes and hold what nobody may read', async () => {
  const cdir = join(d.root, 'containers', id);
  const stateDir = await runtimeStateDir(d.root);
  assert.equal(await modeOf(d.root), '0710');
  assert.equal(await modeOf(join(d.root, 'containers')), '0710');
  assert.equal(await modeOf(cdir), '0710');
  assert.equal(await modeOf(join(cdir, 'container.json')), '0600');
  assert.equal(await modeOf(join(cdir, 'bundle', 'config.json')), '0600');
  assert.equal(await modeOf(join(d.root, 'containers-fs')), '0710');
  assert.equal(await modeOf(join(d.root, 'containers-fs', id)), '0710');
  assert.equal(await modeOf(join(d.root, 'images')), '0700');
  assert.equal(await modeOf(join(d.root, 'volumes')), '0701');
  assert.equal(await modeOf(join(d.root, 'volumes', 'modes-vol')), '0701');
  assert.equal(await modeOf(join(d.root, 'volumes', 'modes-vol', '_data')), '0755');
  assert.equal(await modeOf(join(d.root, 'volumes', 'modes-vol', 'volume.json')), '0600');
  assert.equal(await modeOf(stateDir), '0700');
  assert.equal(await modeOf(join(stateDir, 'c', id, 'config.json')), '0600');
  // The files do hold the secret: what the next test denies is worth denying.
  assert.ok((await readFile(join(cdir, 'container.json'), 'utf8')).includes(SECRET));
  assert.ok((await readFile(join(cdir, 'bundle', 'config.json'), 'utf8')).includes(SECRET));
  assert.ok((await readFile(join(stateDir, 'c', id, 'config.json'), 'utf8')).includes(SECRET));
});

test('user nobody can neither read a container\'s environment nor browse its rootfs', async () => {
  const cdir = join(d.root, 'containers', id);
  const stateDir = await runtimeStateDir(d.root);
  // Sanity: nobody does reach the dir above the root (so the root's mode is what denies).
  assert.equal((await asNobody(['stat', '-c', '%n', dirname(d.root)])).code, 0);
  await assertNobodyDenied(['ls', d.root]);
  await assertNobodyDenied(['cat', join(cdir, 'container.json')]);
  await assertNobodyDenied(['cat', join(cdir, 'bundle', 'config.json')]);
  await assertNobodyDenied(['ls', join(d.root, 'containers-fs', id, 'merged')]);
  await assertNobodyDenied(['cat', join(d.root, 'containers-fs', id, 'merged', 'etc', 'passwd')]);
  await assertNobodyDenied(['ls', join(d.root, 'volumes')]);
  await assertNobodyDenied(['cat', join(stateDir, 'c', id, 'config.json')]);
  await assertNobodyDenied(['ls', stateDir]);
  // docker inspect (through the API, as root) still shows it.
  assert.match((await docker(['inspect', '-f', '{{json .Config.Env}}', id])).stdout, new RegExp(SECRET));
});

test('containers running as uid 1000 still read their rootfs, use named volumes and bind mounts', async () => {
  const ls = await docker(['run', '--rm', '--user', '1000', 'busybox', 'ls', '/']);
  assert.match(ls.stdout, /^bin$/m);
  assert.match(ls.stdout, /^etc$/m);
  assert.equal((await docker(['run', '--rm', '--user', '1000:1000', 'busybox', 'cat', '/etc/hostname'])).code, 0);
  // A named volume made writable for uid 1000 (as one would with Docker), then used by it from two containers.
  await docker(['run', '--rm', '-v', 'modes-uvol:/data', 'busybox', 'chown', '1000:1000', '/data']);
  await docker(['run', '--rm', '--user', '1000:1000', '-v', 'modes-uvol:/data', 'busybox', 'sh', '-c', 'echo written-by-1000 > /data/f']);
  const read = await docker(['run', '--rm', '--user', '1000:1000', '-v', 'modes-uvol:/data:ro', 'busybox', 'sh', '-c', 'id -u; cat /data/f; ls -ld /data']);
  assert.match(read.stdout, /^1000\nwritten-by-1000\n/);
  // A bind mount whose host parent (0700 mkdtemp) uid 1000 could not pass on the host.
  await chmod(hostDir, 0o755);
  const bind = await docker(['run', '--rm', '--user', '1000:1000', '-v', `${hostDir}:/host:ro`, 'busybox', 'cat', '/host/greeting']);
  assert.equal(bind.stdout, 'hello from the host\n');
  // A long-running non-root container: exec as its user and as another one.
  await docker(['run', '-d', '--name', 'modes-user', '--user', '1000', 'busybox', 'sleep', '600']);
  assert.match((await docker(['exec', 'modes-user', 'ls', '/etc'])).stdout, /^passwd$/m);
  assert.equal((await docker(['exec', '-u', '2000', 'modes-user', 'cat', '/etc/passwd'])).code, 0);
});

test('a root left 0755/0644 by an older tug is tightened when the daemon starts', async () => {
  const cdir = join(d.root, 'containers', id);
  await d.crash();
  // What an older tug left behind.
  for (const p of [d.root, join(d.root, 'containers'), cdir, join(d.root, 'containers-fs'), join(d.root, 'images'), join(d.root, 'volumes'), join(d.root, 'volumes', 'modes-vol')]) await chmod(p, 0o755);
  for (const p of [join(cdir, 'container.json'), join(cdir, 'bundle', 'config.json'), join(d.root, 'volumes', 'modes-vol', 'volume.json')]) await chmod(p, 0o644);
  await mkdir(join(d.root, 'build'), { recursive: true });
  await chmod(join(d.root, 'build'), 0o755);
  await d.restart();
  assert.equal(await modeOf(d.root), '0710');
  assert.equal(await modeOf(join(d.root, 'containers')), '0710');
  assert.equal(await modeOf(cdir), '0710');
  assert.equal(await modeOf(join(cdir, 'container.json')), '0600');
  assert.equal(await modeOf(join(cdir, 'bundle', 'config.json')), '0600');
  assert.equal(await modeOf(join(d.root, 'containers-fs')), '0710');
  assert.equal(await modeOf(join(d.root, 'images')), '0700');
  assert.equal(await modeOf(join(d.root, 'build')), '0700');
  assert.equal(await modeOf(join(d.root, 'volumes')), '0701');
  assert.equal(await modeOf(join(d.root, 'volumes', 'modes-vol')), '0701');
  assert.equal(await modeOf(join(d.root, 'volumes', 'modes-vol', 'volume.json')), '0600');
  await assertNobodyDenied(['cat', join(cdir, 'container.json')]);
  // The container that ran through the daemon's crash is still found and works.
  assert.equal((await docker(['exec', 'modes-secret', 'sh', '-c', 'echo $SECRET'])).stdout, `${SECRET}\n`);
});
