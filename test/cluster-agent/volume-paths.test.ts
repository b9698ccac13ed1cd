// The node agent's volume path rules on a real filesystem (a temp dir):
// hostPath type checks with the kubelet's messages, subPath resolution that
// refuses symlinks out of the volume (absolute, relative, chained) and makes
// missing directories with the volume's mode, and fsGroup ownership with
// fsGroupChangePolicy.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, symlink, lstat, readFile, rm, chmod, chown } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkHostPath } from '../../src/node/agent/host-path.js';
import { resolveSubPath, containerBinds } from '../../src/node/agent/volume-mounts.js';
import { applyFsGroup } from '../../src/node/agent/volume-ownership.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function scratch(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'tug-volpaths-'));
  dirs.push(d);
  return d;
}

test('hostPath types: the OrCreate kinds make what is missing; the others must find the right kind, in the kubelet words', async () => {
  const d = await scratch();
  await checkHostPath('v', join(d, 'made/deep'), 'DirectoryOrCreate');
  assert.ok((await lstat(join(d, 'made/deep'))).isDirectory());
  await checkHostPath('v', join(d, 'parent/file'), 'FileOrCreate');
  assert.ok((await lstat(join(d, 'parent/file'))).isFile());
  await writeFile(join(d, 'parent/file'), 'keep');
  await checkHostPath('v', join(d, 'parent/file'), 'FileOrCreate');
  assert.equal(await readFile(join(d, 'parent/file'), 'utf8'), 'keep', 'an existing file is left alone');
  await assert.rejects(checkHostPath('v', join(d, 'parent/file'), 'Directory'), { message: `MountVolume.SetUp failed for volume "v" : hostPath type check failed: ${join(d, 'parent/file')} is not a directory` });
  await assert.rejects(checkHostPath('v', join(d, 'made'), 'File'), { message: /hostPath type check failed: .* is not a file$/ });
  await assert.rejects(checkHostPath('v', join(d, 'missing'), 'Directory'), { message: /is not a directory$/ });
  await assert.rejects(checkHostPath('v', join(d, 'parent/file'), 'DirectoryOrCreate'), { message: /is not a directory$/ });
  await assert.rejects(checkHostPath('v', join(d, 'made'), 'Socket'), { message: /is not a socket file$/ });
  const sock = join(d, 's.sock');
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(sock, r));
  try {
    await checkHostPath('v', sock, 'Socket');
  } finally {
    srv.close();
  }
  await checkHostPath('v', join(d, 'nothing-here'), '');
  await checkHostPath('v', join(d, 'nothing-here'), undefined);
  await assert.rejects(checkHostPath('v', join(d, 'x'), 'Weird'), { message: /hostPath type "Weird" is not supported/ });
  await assert.rejects(checkHostPath('v', 'relative/path', ''), { message: /must be an absolute path/ });
});

test('subPath: made inside the volume with its mode; symlinks inside are followed, symlinks out are refused', async () => {
  const d = await scratch();
  const vol = join(d, 'vol');
  await mkdir(vol);
  await chmod(vol, 0o777);
  const made = await resolveSubPath(vol, 'a/b');
  assert.equal(made, join(vol, 'a/b'));
  assert.equal((await lstat(made)).mode & 0o777, 0o777, "a new subPath directory gets the volume root's mode");
  await writeFile(join(vol, 'a/file'), 'x');
  assert.equal(await resolveSubPath(vol, 'a/file'), join(vol, 'a/file'), 'a subPath may name a file');
  await symlink('a', join(vol, 'inner'));
  assert.equal(await resolveSubPath(vol, 'inner/b'), join(vol, 'a/b'), 'a relative symlink inside the volume is followed');
  await symlink(join(vol, 'a'), join(vol, 'inner-abs'));
  assert.equal(await resolveSubPath(vol, 'inner-abs/b'), join(vol, 'a/b'));
  await symlink('/', join(vol, 'root'));
  await symlink('../..', join(vol, 'a/up'));
  await symlink('inner/up', join(vol, 'chain'));
  await mkdir(join(d, 'outside'));
  for (const sub of ['root/tmp', 'root', 'a/up/outside', 'chain', 'chain/x']) {
    await assert.rejects(resolveSubPath(vol, sub), { message: /not within volume path/ }, sub);
  }
  // Nothing was made outside the volume on the way.
  await assert.rejects(lstat(join(d, 'outside', 'x')));
  // As containerBinds reports it: the mount and container named, CreateContainerConfigError's message.
  const c = { name: 'c', image: 'busybox', volumeMounts: [{ name: 'data', mountPath: '/m', subPath: 'root/etc' }] };
  await assert.rejects(containerBinds(c, { paths: new Map([['data', vol]]), readOnly: new Set() }, []), { message: /^failed to create subPath directory for volumeMount "data" of container "c"/ });
  const absolute = { ...c, volumeMounts: [{ name: 'data', mountPath: '/m', subPath: '/etc' }] };
  await assert.rejects(containerBinds(absolute, { paths: new Map([['data', vol]]), readOnly: new Set() }, []), { message: /subPath "\/etc" must be a relative path/ });
  const dots = { ...c, volumeMounts: [{ name: 'data', mountPath: '/m', subPathExpr: '$(X)/../..' }] };
  await assert.rejects(containerBinds(dots, { paths: new Map([['data', vol]]), readOnly: new Set() }, ['X=a']), { message: /must not contain '\.\.'/ });
  const expr = { ...c, volumeMounts: [{ name: 'data', mountPath: '/m', subPathExpr: 'by/$(POD)' }, { name: 'data', mountPath: '/r' }] };
  assert.deepEqual(await containerBinds(expr, { paths: new Map([['data', vol]]), readOnly: new Set(['data']) }, ['POD=web-0']), [`${join(vol, 'by/web-0')}:/m:ro`, `${vol}:/r:ro`]);
});

test('fsGroup: group ownership, group rw and setgid directories; OnRootMismatch skips a volume whose root is right already', async () => {
  const d = await scratch();
  await mkdir(join(d, 'sub'));
  await writeFile(join(d, 'sub/f'), 'x', { mode: 0o600 });
  await symlink('/etc/passwd', join(d, 'link'));
  await applyFsGroup(d, 4321, 'Always', false);
  for (const p of [d, join(d, 'sub'), join(d, 'sub/f')]) assert.equal((await lstat(p)).gid, 4321, p);
  assert.equal((await lstat(join(d, 'sub'))).mode & 0o2070, 0o2070);
  assert.equal((await lstat(join(d, 'sub/f'))).mode & 0o060, 0o060);
  assert.notEqual((await lstat('/etc/passwd')).gid, 4321, 'a symlink is not followed');
  // A file that arrived later with another group: OnRootMismatch leaves it (the root is right), Always fixes it.
  await writeFile(join(d, 'later'), 'y');
  await chown(join(d, 'later'), 0, 0); // made in a setgid directory it would inherit the group
  await applyFsGroup(d, 4321, 'OnRootMismatch', false);
  assert.notEqual((await lstat(join(d, 'later'))).gid, 4321);
  await applyFsGroup(d, 4321, 'Always', false);
  assert.equal((await lstat(join(d, 'later'))).gid, 4321);
});
