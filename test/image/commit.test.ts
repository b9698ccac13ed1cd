import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, readFile, readdir, rm, writeFile, mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ImageStore } from '../../src/image/image-store.js';
import { prepareContainerLayer, removeContainerLayer } from '../../src/snapshot/container-layer.js';
import { runTool } from '../../src/util/exec-file.js';
import { tempRoot } from './helpers.js';

test('commit turns a container upper dir into a layer whose whiteouts and opaque dirs survive the round trip', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const store = await ImageStore.open(root);
  const base = await store.get('busybox');
  const c1 = 'c1' + randomBytes(4).toString('hex');
  const l1 = await prepareContainerLayer(root, c1, await store.lowerDirs(base));
  await writeFile(join(l1.merged, 'etc', 'motd'), 'committed\n');
  await mkdir(join(l1.merged, '-dash'));
  await unlink(join(l1.merged, 'etc', 'group')); // -> whiteout
  await rm(join(l1.merged, 'var', 'spool'), { recursive: true }); // removed then recreated -> opaque dir
  await mkdir(join(l1.merged, 'var', 'spool'));
  await writeFile(join(l1.merged, 'var', 'spool', 'fresh'), '');

  const name = `committed-${randomBytes(3).toString('hex')}:1`;
  const img = await store.commit(base, l1.upper, { ref: name, changes: ['CMD ["cat", "/etc/motd"]'], comment: 'test commit', createdBy: 'sh' });
  await removeContainerLayer(root, c1);
  assert.equal(img.layers.length, 2);
  assert.equal(img.layers[0]!.diffId, base.layers[0]!.diffId, 'base layer reused');
  assert.deepEqual(img.config.config?.Cmd, ['cat', '/etc/motd']);
  assert.deepEqual(img.config.config?.Env, base.config.config?.Env);
  assert.equal((await store.history(name))[0]!.Comment, 'test commit');

  // The layer tar speaks OCI: whiteout markers, no overlay xattrs or char devices.
  const listing = (await runTool('tar', ['-tvf', store.blobs.path(img.layers[1]!.digest)])).stdout;
  assert.match(listing, / etc\/\.wh\.group$/m);
  assert.match(listing, / var\/spool\/\.wh\.\.wh\.\.opq$/m);
  assert.match(listing, / -dash\/$/m);
  assert.doesNotMatch(listing, /^c/m);

  const c2 = 'c2' + randomBytes(4).toString('hex');
  const l2 = await prepareContainerLayer(root, c2, await store.lowerDirs(img));
  assert.equal(await readFile(join(l2.merged, 'etc', 'motd'), 'utf8'), 'committed\n');
  await assert.rejects(access(join(l2.merged, 'etc', 'group')));
  await access(join(l2.merged, 'etc', 'passwd'));
  assert.deepEqual(await readdir(join(l2.merged, 'var', 'spool')), ['fresh']);
  await access(join(l2.merged, 'bin', 'sh'));
  await removeContainerLayer(root, c2);
});
