import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ImageStore } from '../../src/image/image-store.js';
import { diffIdOfFile } from '../../src/oci/digest.js';
import { prepareContainerLayer, removeContainerLayer } from '../../src/snapshot/container-layer.js';
import { runTool } from '../../src/util/exec-file.js';
import { makeTar, tempRoot } from './helpers.js';

test('whiteouts and opaque dirs in an upper layer hide lower content in the merged view', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const store = await ImageStore.open(root);
  const l1 = join(root, 'l1.tar');
  const l2 = join(root, 'l2.tar.gz');
  await makeTar(join(root, 'src1'), {
    'a/keep': 'keep\n',
    'a/gone': 'gone\n',
    'a/gonedir/inner': 'x\n',
    'b/old1': '1\n',
    'b/old2': '2\n',
  }, l1);
  // Upper layer gzip-compressed, to take the gzip path too.
  await makeTar(join(root, 'src2'), {
    'a/.wh.gone': '',
    'a/.wh.gonedir': '',
    'b/.wh..wh..opq': '',
    'b/new': 'new\n',
  }, l2, { gzip: true });
  const d1 = (await diffIdOfFile(l1)).diffId;
  const d2 = await diffIdOfFile(l2);
  assert.equal(d2.compression, 'gzip');
  const img = await store.addImage(
    { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [d1, d2.diffId] } },
    [{ path: l1 }, { path: l2 }],
    'whiteout-test:' + randomBytes(3).toString('hex'),
  );
  assert.equal(img.layers[1]!.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
  assert.equal(img.layers[1]!.diffId, d2.diffId);

  const lowers = await store.lowerDirs(img);
  assert.equal(lowers.length, 2);
  // The upper layer on disk holds overlay's own markers: a 0:0 char device and the opaque xattr.
  const wh = await runTool('stat', ['-c', '%F %t:%T', join(lowers[0]!, 'a', 'gone')]);
  assert.equal(wh.stdout.trim(), 'character special file 0:0');
  const opq = await runTool('getfattr', ['--only-values', '-n', 'trusted.overlay.opaque', join(lowers[0]!, 'b')]);
  assert.equal(opq.stdout, 'y');
  assert.deepEqual((await readdir(join(lowers[0]!, 'a'))).sort(), ['gone', 'gonedir'], 'no .wh. files left behind');

  const cid = 'wh' + randomBytes(4).toString('hex');
  const layer = await prepareContainerLayer(root, cid, lowers);
  t.after(() => removeContainerLayer(root, cid));
  assert.equal(await readFile(join(layer.merged, 'a', 'keep'), 'utf8'), 'keep\n');
  await assert.rejects(access(join(layer.merged, 'a', 'gone')));
  await assert.rejects(access(join(layer.merged, 'a', 'gonedir')));
  assert.deepEqual(await readdir(join(layer.merged, 'b')), ['new']);
  assert.deepEqual((await readdir(join(layer.merged, 'a'))).sort(), ['keep']);
});

test('a layer whose content does not match the config diff ID is refused', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const store = await ImageStore.open(root);
  const l1 = join(root, 'l1.tar');
  await makeTar(join(root, 'src1'), { f: 'x' }, l1);
  const wrong = 'sha256:' + '0'.repeat(64);
  await assert.rejects(
    store.addImage({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [wrong] } }, [{ path: l1 }]),
    (err: Error & { kind?: string }) => err.kind === 'invalid' && /diff ID/.test(err.message),
  );
  assert.equal((await store.list()).length, 0);
  assert.deepEqual(await readdir(join(root, 'images', 'blobs', 'sha256')), [], 'the refused blob was not kept');

  // A gzip layer is checked while it unpacks: nothing of it may stay behind either.
  const gz = join(root, 'l1.tar.gz');
  await runTool('gzip', ['-k', l1]);
  await assert.rejects(
    store.addImage({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [wrong] } }, [{ path: gz }]),
    (err: Error & { kind?: string }) => err.kind === 'invalid' && /diff ID/.test(err.message),
  );
  assert.deepEqual(await readdir(join(root, 'images', 'blobs', 'sha256')), []);
  assert.deepEqual(await readdir(join(root, 'images', 'layers')), ['tmp']);
  assert.deepEqual(await readdir(join(root, 'images', 'layers', 'tmp')), []);
  // And the right diff ID is accepted from the same gzip blob.
  const ok = await store.addImage(
    { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [(await diffIdOfFile(l1)).diffId] } },
    [{ path: gz }],
  );
  assert.equal(ok.layers[0]!.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
});
