// A container's upper dir with symlinks in it (Debian packages ship
// /usr/share/doc/<pkg> -> <other pkg> links, dangling from the host's view;
// a container can point one at any host path): the diff reads opaque-dir
// marks on the upper dir's own entries only, never through a link.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLayerDiff } from '../../src/snapshot/layer-diff.js';
import { runTool } from '../../src/util/exec-file.js';

test('a layer diff with dangling and host-pointing symlinks lists the links and only real opaque dirs', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tug-diff-links-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const host = join(dir, 'host-dir');
  const upper = join(dir, 'upper');
  await mkdir(host);
  await mkdir(join(upper, 'usr/share/doc'), { recursive: true });
  await mkdir(join(upper, 'real'));
  await runTool('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', host]);
  await runTool('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', join(upper, 'real')]);
  await symlink('libtinfo6', join(upper, 'usr/share/doc/libncursesw6'));
  await symlink(host, join(upper, 'to-host'));

  const out = join(dir, 'layer.tar');
  const diff = await writeLayerDiff(upper, out, join(dir, 'work'));
  assert.equal(diff.whiteouts, 1, 'one opaque dir: the real one');
  const { stdout } = await runTool('tar', ['-tvf', out]);
  assert.match(stdout, /usr\/share\/doc\/libncursesw6 -> libtinfo6/);
  assert.match(stdout, /to-host -> /);
  assert.match(stdout, /real\/\.wh\.\.wh\.\.opq/);
  assert.doesNotMatch(stdout, /to-host\/\.wh/);
});
