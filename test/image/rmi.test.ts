import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { ImageStore } from '../../src/image/image-store.js';
import { makeTar, tempRoot } from './helpers.js';

const isKind = (kind: string) => (err: Error & { kind?: string }) => err.kind === kind;

test('rmi untags while other tags remain, then deletes the image and its layers', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const store = await ImageStore.open(root);
  const bb = await store.get('busybox');
  await store.tag('busybox', 'mybox:1');
  const [lower] = await store.lowerDirs(bb);

  assert.deepEqual(await store.remove('busybox', {}), [{ Untagged: 'busybox:latest' }]);
  assert.deepEqual((await store.get('mybox:1')).repoTags, ['mybox:1']);
  await access(lower!);

  const res = await store.remove('mybox:1', {});
  assert.deepEqual(res[0], { Untagged: 'mybox:1' });
  assert.deepEqual(res[1], { Deleted: bb.id });
  assert.deepEqual(res[2], { Deleted: bb.layers[0]!.diffId }, 'the removed layer is reported by its chain ID');
  await assert.rejects(store.get(bb.id), isKind('not-found'));
  await assert.rejects(access(lower!), 'unpacked layer removed');
  await assert.rejects(access(join(root, 'images', 'blobs', 'sha256', bb.id.slice(7))), 'config blob removed');
  await assert.rejects(store.remove('mybox:1', {}), isKind('not-found'));
});

test('rmi refuses images in use unless forced, and by ID with several repositories unless forced', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const store = await ImageStore.open(root);
  const bb = await store.get('busybox');
  const used = new Set<string>([bb.id]);
  store.setInUseCheck((id) => used.has(id));

  await assert.rejects(store.remove('busybox', {}), isKind('conflict'));
  await assert.rejects(store.remove(bb.id, {}), isKind('conflict'));
  assert.deepEqual((await store.get(bb.id)).repoTags, ['busybox:latest']);

  // Forced by name while in use: untagged, but kept (dangling) for the container.
  assert.deepEqual(await store.remove('busybox', { force: true }), [{ Untagged: 'busybox:latest' }]);
  assert.equal((await store.get(bb.id)).repoTags.length, 0);
  const [lower] = await store.lowerDirs(bb);

  // Forced by ID while in use: gone from the list, but the container's layers stay and its full ID still resolves.
  assert.deepEqual(await store.remove(bb.id, { force: true }), [{ Deleted: bb.id }]);
  assert.equal((await store.list()).length, 0);
  await access(lower!);
  await assert.rejects(store.get(bb.id.slice(0, 19)), isKind('not-found'));
  assert.equal((await store.get(bb.id)).id, bb.id);
  const reopened = await ImageStore.open(root); // the kept layers survive a restart's orphan sweep
  reopened.setInUseCheck((id) => used.has(id));
  await access(lower!);
  // Building the same image again (busybox is reproducible) brings it back as an ordinary image.
  const back = await store.get('busybox');
  assert.equal(back.id, bb.id);

  used.clear();
  await store.tag(bb.id, 'one:a');
  await store.tag(bb.id, 'two:b');
  await assert.rejects(store.remove(bb.id.slice(7, 19), {}), isKind('conflict'));
  const res = await store.remove(bb.id.slice(7, 19), { force: true });
  assert.deepEqual(res.filter((r) => r.Untagged).map((r) => r.Untagged).sort(), ['busybox:latest', 'one:a', 'two:b']);
  assert.ok(res.some((r) => r.Deleted === bb.id));
  await assert.rejects(access(lower!));
  assert.equal((await store.list()).length, 0);
});

test('layers shared by two images survive the removal of one of them', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const store = await ImageStore.open(root);
  const tarball = join(root, 'rootfs.tar');
  await makeTar(join(root, 'rootfs'), { 'f.txt': 'shared\n' }, tarball);
  const a = await store.importTar(createReadStream(tarball), { ref: 'shared-a', changes: ['CMD ["a"]'] });
  const b = await store.importTar(createReadStream(tarball), { ref: 'shared-b', changes: ['CMD ["b"]'] });
  assert.notEqual(a.id, b.id);
  assert.equal(a.layers[0]!.diffId, b.layers[0]!.diffId);
  const du = await store.diskUsage();
  assert.equal(du.layersSize, 'shared\n'.length);
  assert.ok(du.images.every((i) => i.sharedSize === 'shared\n'.length));
  const res = await store.remove('shared-a', {});
  assert.deepEqual(res, [{ Untagged: 'shared-a:latest' }, { Deleted: a.id }], 'no layer deleted');
  const [lower] = await store.lowerDirs(b);
  await access(join(lower!, 'f.txt'));
});

test('prune removes dangling images only (all: every unused one); leases protect an image like a container does', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const store = await ImageStore.open(root);
  const tarball = join(root, 'rootfs.tar');
  await makeTar(join(root, 'rootfs'), { 'p.txt': 'prune me\n' }, tarball);
  const dangling = await store.importTar(createReadStream(tarball), { changes: ['CMD ["x"]'] });
  const tagged = await store.get('busybox');
  assert.deepEqual(dangling.repoTags, []);

  const release = store.lease(dangling.id);
  assert.deepEqual((await store.prune()).ImagesDeleted, [], 'leased image kept');
  await assert.rejects(store.remove(dangling.id, {}), isKind('conflict'));
  release();
  release(); // a second release is harmless

  const res = await store.prune();
  assert.ok(res.ImagesDeleted.some((r) => r.Deleted === dangling.id));
  assert.equal(res.SpaceReclaimed, 'prune me\n'.length);
  assert.equal((await store.get('busybox')).id, tagged.id, 'tagged image kept');

  store.setInUseCheck((id) => id === tagged.id);
  assert.deepEqual((await store.prune({ all: true })).ImagesDeleted, [], 'in-use image kept even with all');
  store.setInUseCheck(() => false);
  const all = await store.prune({ all: true });
  assert.ok(all.ImagesDeleted.some((r) => r.Deleted === tagged.id));
  assert.equal((await store.list()).length, 0);
});

test('reopening a root drops blobs and unpacked layers no image names (leftovers of a crash)', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const store = await ImageStore.open(root);
  const bb = await store.get('busybox');
  const strayBlob = join(root, 'images', 'blobs', 'sha256', 'e'.repeat(64));
  const strayLayer = join(root, 'images', 'layers', 'f'.repeat(64));
  await writeFile(strayBlob, 'orphan');
  await mkdir(join(strayLayer, 'fs'), { recursive: true });
  const reopened = await ImageStore.open(root);
  await assert.rejects(access(strayBlob));
  await assert.rejects(access(strayLayer));
  const img = await reopened.get('busybox');
  assert.equal(img.id, bb.id);
  const [lower] = await reopened.lowerDirs(img);
  await access(join(lower!, 'bin', 'busybox'));
});

test('layers of an image deleted by force while in use are freed once no container uses it', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const store = await ImageStore.open(root);
  const bb = await store.get('busybox');
  const [lower] = await store.lowerDirs(bb);
  let used = true;
  store.setInUseCheck(() => used);
  await store.remove(bb.id, { force: true });
  await access(lower!);
  assert.deepEqual((await store.prune()).ImagesDeleted, []);
  await access(lower!);
  used = false;
  await store.prune();
  await assert.rejects(access(lower!), 'reaped');
  await assert.rejects(store.get(bb.id), isKind('not-found'));
});
