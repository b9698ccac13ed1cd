import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LayerStore } from '../../src/snapshot/layer-store.js';
import { diffIdOfFile } from '../../src/oci/digest.js';
import { runTool } from '../../src/util/exec-file.js';

test('concurrent unpacks of one layer, in one store and across two, end in one intact copy', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'tug-layers-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const src = join(root, 'src');
  await mkdir(join(src, 'd'), { recursive: true });
  for (let i = 0; i < 50; i++) await writeFile(join(src, 'd', `f${i}`), `content ${i}\n`);
  await runTool('ln', ['-s', 'd/f1', join(src, 'link')]);
  const tarPath = join(root, 'layer.tar');
  await runTool('tar', ['-cf', tarPath, '-C', src, 'd', 'link']);
  const { diffId } = await diffIdOfFile(tarPath);

  const dir = join(root, 'layers');
  const a = new LayerStore(dir);
  const b = new LayerStore(dir);
  await a.init();
  const results = await Promise.all([a.ensure(diffId, tarPath), a.ensure(diffId, tarPath), b.ensure(diffId, tarPath), b.ensure(diffId, tarPath)]);
  for (const r of results) assert.equal(r.dir, results[0]!.dir);
  assert.equal((await readdir(join(results[0]!.dir, 'd'))).length, 50);
  assert.equal(await readFile(join(results[0]!.dir, 'link'), 'utf8'), 'content 1\n');
  const expectedSize = Array.from({ length: 50 }, (_v, i) => `content ${i}\n`.length).reduce((x, y) => x + y, 0) + 'd/f1'.length;
  assert.equal(results[0]!.size, expectedSize);
  assert.deepEqual(await readdir(join(dir, 'tmp')), [], 'no temp unpack dirs left');
  assert.deepEqual((await readdir(dir)).sort(), [diffId.slice(7), 'tmp'].sort());

  await a.remove(diffId);
  assert.equal(await a.get(diffId), undefined);
});

test('unpacking keeps owners, modes, xattrs, symlinks and hardlinks, and drops smuggled overlay xattrs', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'tug-unpack-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const src = join(root, 'src');
  await mkdir(join(src, 'd'), { recursive: true });
  await writeFile(join(src, 'd', 'suid'), 'x');
  await runTool('chown', ['1234:5678', join(src, 'd', 'suid')]);
  await runTool('chmod', ['4750', join(src, 'd', 'suid')]);
  await runTool('setfattr', ['-n', 'user.tug', '-v', 'kept', join(src, 'd', 'suid')]);
  await runTool('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', join(src, 'd')]);
  await runTool('ln', ['-s', 'suid', join(src, 'd', 'sym')]);
  await runTool('ln', [join(src, 'd', 'suid'), join(src, 'd', 'hard')]);
  const tarPath = join(root, 'layer.tar');
  await runTool('tar', ['-cf', tarPath, '--xattrs', '--xattrs-include=*', '-C', src, 'd']);
  const { diffId } = await diffIdOfFile(tarPath);
  const layers = new LayerStore(join(root, 'layers'));
  await layers.init();
  const { dir } = await layers.ensure(diffId, tarPath);
  const st = (await runTool('stat', ['-c', '%u:%g %a %h', join(dir, 'd', 'suid')])).stdout.trim();
  assert.equal(st, '1234:5678 4750 2');
  assert.equal((await runTool('getfattr', ['--only-values', '-n', 'user.tug', join(dir, 'd', 'suid')])).stdout, 'kept');
  const overlayAttr = await runTool('getfattr', ['-n', 'trusted.overlay.opaque', join(dir, 'd')], { allowFailure: true });
  assert.notEqual(overlayAttr.code, 0, 'trusted.overlay.* from layer content is not applied');
  assert.equal((await runTool('readlink', [join(dir, 'd', 'sym')])).stdout.trim(), 'suid');
});
