// The real docker CLI against a tug daemon: images (list, tag, rmi, history,
// import, save/load), volumes, and system df/prune/info/version.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, stat, symlink, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { runTool } from '../../src/util/exec-file.js';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';
import { runCommand, type CommandResult } from '../helpers/run-command.js';

type Run = CommandResult;

let d: TestDaemon;
let tmp: string;
const sfx = randomBytes(3).toString('hex');
const fixture = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/image/fixtures/tiny-docker-save.tar');

const docker = (...args: string[]): Promise<Run> => runCommand('docker', args, { env: d.env });
async function ok(...args: string[]): Promise<string> {
  const r = await docker(...args);
  assert.equal(r.code, 0, `docker ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}
const lines = (s: string): string[] => s.split('\n').filter(Boolean);

before(async () => {
  d = await startTestDaemon();
  tmp = await mkdtemp(join(tmpdir(), 'tug-cli-img-'));
  // The built-in busybox appears on first use, as a pulled image would.
  await ok('run', '--rm', 'busybox', 'true');
});
after(async () => {
  await d?.stop();
  await rm(tmp, { recursive: true, force: true });
});

test('images: -q, --format, --filter reference=; tag; history', async () => {
  const id = await ok('images', '-q', 'busybox');
  assert.match(id, /^[0-9a-f]{12}$/);
  assert.ok(lines(await ok('images', '--format', '{{.Repository}}:{{.Tag}}')).includes('busybox:latest'));
  await ok('tag', 'busybox', `tagged/bb-${sfx}:v1`);
  assert.equal(await ok('images', '--filter', `reference=tagged/bb-${sfx}`, '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'), `tagged/bb-${sfx}:v1 ${id}`);
  assert.equal(await ok('images', '--filter', 'reference=nothing-like-this', '-q'), '');
  const hist = await ok('history', '--no-trunc', '--format', '{{.CreatedBy}}', 'busybox');
  assert.ok(lines(hist).length >= 1);
  assert.match(hist, /CMD \["sh"\]/);
  await ok('rmi', `tagged/bb-${sfx}:v1`);
});

test('rmi: untag keeps the image, last tag deletes it; conflict while in use; -f', async () => {
  const a = `rmi-${sfx}:a`;
  const b = `rmi-${sfx}:b`;
  await ok('tag', 'busybox', a);
  await ok('tag', 'busybox', b);
  assert.match(await ok('rmi', a), new RegExp(`^Untagged: ${a.replace(':', ':')}$`));
  assert.equal(await ok('images', '-q', 'busybox'), await ok('images', '-q', b));

  // An imported image only this test uses, so deleting it touches nothing else.
  const own = `own-${sfx}:1`;
  await importTiny(own);
  const ownId = await ok('images', '-q', '--no-trunc', own);
  const name = `user-${sfx}`;
  await ok('create', '--name', name, own);
  const refused = await docker('rmi', own);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /conflict: unable to remove repository reference .* \(must force\) - container (\S+ )?is using its referenced image/);
  await ok('rm', name);
  const out = await ok('rmi', own);
  assert.match(out, new RegExp(`Untagged: ${own}`));
  assert.match(out, new RegExp(`Deleted: ${ownId}`));
  assert.notEqual((await docker('image', 'inspect', own)).code, 0);

  await importTiny(own);
  await ok('create', '--name', name, own);
  assert.match(await ok('rmi', '-f', own), new RegExp(`Untagged: ${own}`));
  assert.notEqual((await docker('image', 'inspect', own)).code, 0);
  await ok('rm', name);
  await ok('rmi', b);
});

async function importTiny(ref: string): Promise<void> {
  const root = join(tmp, `rootfs-${randomBytes(3).toString('hex')}`);
  await mkdir(join(root, 'bin'), { recursive: true });
  await copyFile('/bin/busybox', join(root, 'bin', 'busybox'));
  await symlink('busybox', join(root, 'bin', 'sh'));
  await symlink('busybox', join(root, 'bin', 'echo'));
  const tar = `${root}.tar`;
  await runTool('tar', ['-C', root, '--owner=0', '--group=0', '-cf', tar, '.']);
  const out = await ok('import', '--change', 'CMD ["/bin/sh","-c","echo imported"]', tar, ref);
  assert.match(out, /^sha256:[0-9a-f]{64}$/);
}

test('import a rootfs tar with --change CMD, then run it', async () => {
  const ref = `imported-${sfx}:1`;
  await importTiny(ref);
  assert.equal(await ok('run', '--rm', ref), 'imported');
  assert.equal(await ok('image', 'inspect', '-f', '{{json .Config.Cmd}}', ref), '["/bin/sh","-c","echo imported"]');
  await ok('rmi', ref);
});

test('save -o / load -i round trip, and load of a docker-saved fixture', async () => {
  const ref = `saved-${sfx}:1`;
  await importTiny(ref);
  const id = await ok('images', '-q', '--no-trunc', ref);
  const tar = join(tmp, 'saved.tar');
  await ok('save', '-o', tar, ref);
  assert.ok((await stat(tar)).size > 1024);
  await ok('rmi', ref);
  assert.match(await ok('load', '-i', tar), new RegExp(`Loaded image: ${ref}`));
  assert.equal(await ok('images', '-q', '--no-trunc', ref), id);
  assert.equal(await ok('run', '--rm', ref), 'imported');
  await ok('rmi', ref);

  await access(fixture);
  const loaded = await ok('load', '-i', fixture);
  assert.match(loaded, /Loaded image: tiny\/fixture:1\.0/);
  assert.equal(await ok('images', '-q', '--no-trunc', 'tiny/fixture:1.0'), 'sha256:99cf68dcd26ac977e4b4622b0e1176b81b4b15365440fd584fa548f2608dc7fc');
  assert.equal(await ok('image', 'inspect', '-f', '{{json .Config.Cmd}}', 'tiny/fixture:1.0'), '["/bin/true"]');
  await ok('rmi', 'tiny/fixture:1.0', 'tiny/fixture:latest');
});

test('volumes: create, ls, inspect, rm refused while in use, prune', async () => {
  const v = `vol-${sfx}`;
  assert.equal(await ok('volume', 'create', '--label', `t=${sfx}`, v), v);
  assert.ok(lines(await ok('volume', 'ls', '-q')).includes(v));
  assert.equal(await ok('volume', 'ls', '-q', '--filter', `label=t=${sfx}`), v);
  const [driver, mountpoint, label] = (await ok('volume', 'inspect', '-f', '{{.Driver}} {{.Mountpoint}} {{index .Labels "t"}}', v)).split(' ');
  assert.equal(driver, 'local');
  assert.ok(mountpoint!.startsWith(d.root), `mountpoint ${mountpoint} should be under ${d.root}`);
  assert.equal(label, sfx);
  const name = `vuser-${sfx}`;
  await ok('run', '-d', '--name', name, '-v', `${v}:/x`, 'busybox', 'sleep', '300');
  const refused = await docker('volume', 'rm', v);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /volume is in use/);
  await ok('volume', 'prune', '-f', '--all');
  assert.equal(await ok('volume', 'ls', '-q', '--filter', `name=${v}`), v, 'prune must keep an in-use volume');
  await ok('rm', '-f', name);
  const unused = `unused-${sfx}`;
  await ok('volume', 'create', unused);
  const pruned = await ok('volume', 'prune', '-f', '--all');
  assert.match(pruned, new RegExp(unused));
  assert.match(pruned, new RegExp(v));
  assert.equal(await ok('volume', 'ls', '-q', '--filter', `label=t=${sfx}`), '');
});

test('system df, system prune -f, info and version', async () => {
  const df = await ok('system', 'df', '--format', '{{.Type}} {{.TotalCount}}');
  assert.match(df, /^Images [1-9]\d*$/m);
  assert.match(df, /^Containers \d+$/m);
  assert.match(df, /^Local Volumes \d+$/m);

  const stopped = `stopped-${sfx}`;
  const running = `running-${sfx}`;
  const stoppedId = await (async () => {
    await ok('run', '--name', stopped, 'busybox', 'true');
    return ok('inspect', '-f', '{{.Id}}', stopped);
  })();
  await ok('run', '-d', '--name', running, 'busybox', 'sleep', '300');
  const pruned = await ok('system', 'prune', '-f');
  assert.match(pruned, new RegExp(stoppedId));
  assert.notEqual((await docker('inspect', stopped)).code, 0, 'stopped container should be pruned');
  assert.equal(await ok('inspect', '-f', '{{.State.Running}}', running), 'true');
  await ok('rm', '-f', running);

  const info = JSON.parse(await ok('info', '--format', '{{json .}}')) as Record<string, unknown>;
  assert.equal(info.OSType, 'linux');
  assert.equal(typeof info.Containers, 'number');
  assert.ok(Number(info.Images) >= 1);
  assert.equal(typeof info.ServerVersion, 'string');
  assert.ok(String(info.DockerRootDir).length > 0);
  const version = await ok('version', '--format', '{{.Server.APIVersion}} {{.Server.Os}}/{{.Server.Arch}}');
  assert.match(version, /^1\.\d+ linux\/(amd64|arm64)$/);
});

test('diff, commit (with --change and -m) and export of a container', async () => {
  const name = `commit-${sfx}`;
  await ok('run', '--name', name, '-e', `FROM_RUN=${sfx}`, '-v', `cvol-${sfx}:/data`, 'busybox', 'sh', '-c', 'echo made > /made.txt && rm /etc/group && echo vol > /data/v');
  const diff = lines(await ok('diff', name));
  assert.ok(diff.includes('A /made.txt'), diff.join(','));
  assert.ok(diff.includes('D /etc/group'), diff.join(','));

  const ref = `committed-${sfx}:1`;
  const id = await ok('commit', '-c', 'LABEL committed=yes', '-m', `msg-${sfx}`, name, ref);
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  assert.equal(await ok('image', 'inspect', '-f', '{{.Config.Labels.committed}} {{.Comment}}', ref), `yes msg-${sfx}`);
  const out = await ok('run', '--rm', ref, 'sh', '-c', 'cat /made.txt; echo $FROM_RUN; test -e /etc/group && echo group-back || echo group-gone; test -e /data/v && echo vol-in-image || echo vol-not-in-image');
  assert.equal(out, `made\n${sfx}\ngroup-gone\nvol-not-in-image`);

  const tar = join(tmp, 'export.tar');
  await ok('export', '-o', tar, name);
  const entries = lines((await runTool('tar', ['-tf', tar])).stdout);
  // Names as Docker's export has them: relative, without a './' prefix.
  assert.ok(entries.includes('made.txt'), entries.slice(0, 5).join(','));
  assert.ok(entries.includes('bin/busybox'));
  assert.ok(!entries.includes('etc/group'));
  assert.ok(!entries.some((e) => e.startsWith('data/v')), 'volume contents are not part of an export');
  assert.ok(!entries.some((e) => e.startsWith('proc/') && e !== 'proc/'), '/proc contents are not part of an export');
  await ok('rm', '-v', name);
  await ok('rmi', ref);
  await ok('volume', 'rm', `cvol-${sfx}`);
});
