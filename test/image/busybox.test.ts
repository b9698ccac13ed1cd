import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile, access } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ImageStore } from '../../src/image/image-store.js';
import { prepareContainerLayer, removeContainerLayer, isMounted } from '../../src/snapshot/container-layer.js';
import { tempRoot } from './helpers.js';

test('busybox is built on first use, once, with an ID stable across fresh roots', async (t) => {
  const a = await tempRoot();
  const b = await tempRoot();
  t.after(a.cleanup);
  t.after(b.cleanup);
  const sa = await ImageStore.open(a.root);
  // Concurrent first uses must end in one image.
  const [x, y, z] = await Promise.all([sa.get('busybox'), sa.get('busybox:latest'), sa.get('docker.io/library/busybox')]);
  assert.equal(x.id, y.id);
  assert.equal(y.id, z.id);
  assert.equal((await sa.list()).length, 1);
  assert.deepEqual(x.repoTags, ['busybox:latest']);
  assert.deepEqual(x.config.config?.Cmd, ['sh']);
  assert.ok(x.config.config?.Env?.includes('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'));
  assert.equal(x.config.architecture, 'amd64');
  assert.equal(x.config.os, 'linux');
  assert.ok(x.size >= (await stat('/bin/busybox')).size, `size ${x.size} covers the busybox binary`);

  const sb = await ImageStore.open(b.root);
  assert.equal((await sb.get('busybox')).id, x.id, 'same binary, same image ID');

  // Reopening the root finds the image without rebuilding it.
  const again = await ImageStore.open(a.root);
  assert.equal((await again.get(x.id.slice(7, 19))).id, x.id, 'short ID prefix resolves');
});

test('busybox rootfs mounted through overlay has /bin/sh, passwd, and writes land in upper', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const store = await ImageStore.open(root);
  const img = await store.get('busybox');
  const lowers = await store.lowerDirs(img);
  assert.equal(lowers.length, 1);
  const cid = 'bb' + randomBytes(4).toString('hex');
  const layer = await prepareContainerLayer(root, cid, lowers);
  assert.ok(await isMounted(layer.merged));
  await access(join(layer.merged, 'bin', 'sh'));
  await access(join(layer.merged, 'bin', 'ls'));
  const passwd = await readFile(join(layer.merged, 'etc', 'passwd'), 'utf8');
  assert.match(passwd, /^root:x:0:0:root:\/root:\/bin\/sh$/m);
  assert.match(passwd, /^nobody:x:65534:65534:nobody:\/home:\/bin\/false$/m);
  assert.match(await readFile(join(layer.merged, 'etc', 'group'), 'utf8'), /^nobody:x:65534:$/m);
  assert.equal((await stat(join(layer.merged, 'tmp'))).mode & 0o7777, 0o1777);
  assert.equal((await stat(join(layer.merged, 'root'))).mode & 0o7777, 0o700);
  // Same inode: applets are hard links to /bin/busybox, as in the official image.
  assert.equal((await stat(join(layer.merged, 'bin', 'sh'))).ino, (await stat(join(layer.merged, 'bin', 'busybox'))).ino);

  // Idempotent prepare; writes go to upper and never touch the shared layer.
  assert.deepEqual(await prepareContainerLayer(root, cid, lowers), layer);
  await writeFile(join(layer.merged, 'etc', 'hostname'), 'box\n');
  assert.equal(await readFile(join(layer.upper, 'etc', 'hostname'), 'utf8'), 'box\n');
  await assert.rejects(access(join(lowers[0]!, 'etc', 'hostname')));

  await removeContainerLayer(root, cid);
  assert.equal(await isMounted(layer.merged), false);
  await assert.rejects(access(join(root, 'containers-fs', cid)));
  await removeContainerLayer(root, cid); // idempotent
});
