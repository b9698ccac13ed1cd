import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ImageStore } from '../../src/image/image-store.js';
import { makeTar, tempRoot } from './helpers.js';

test('importTar makes a one-layer image from a gzip rootfs with --change lines applied', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const store = await ImageStore.open(root);
  const tarball = join(root, 'rootfs.tar.gz');
  await makeTar(join(root, 'rootfs'), { 'app/run.sh': '#!/bin/sh\necho hi\n', 'etc/os-release': 'ID=test\n' }, tarball, { gzip: true });
  const name = `imported-${randomBytes(3).toString('hex')}:v1`;
  const img = await store.importTar(createReadStream(tarball), {
    ref: name,
    changes: ['CMD ["/app/run.sh", "--now"]', 'ENV A=b C="d e"', 'WORKDIR /app', 'EXPOSE 80 53/udp', 'LABEL team=core', 'USER 1000', 'VOLUME /data'],
    message: 'made by a test',
  });
  assert.deepEqual(img.repoTags, [name]);
  const c = img.config.config!;
  assert.deepEqual(c.Cmd, ['/app/run.sh', '--now']);
  assert.deepEqual(c.Env, ['A=b', 'C=d e']);
  assert.equal(c.WorkingDir, '/app');
  assert.deepEqual(Object.keys(c.ExposedPorts ?? {}).sort(), ['53/udp', '80/tcp']);
  assert.deepEqual(c.Labels, { team: 'core' });
  assert.equal(c.User, '1000');
  assert.deepEqual(Object.keys(c.Volumes ?? {}), ['/data']);
  assert.equal(img.layers.length, 1);
  assert.equal(img.layers[0]!.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
  assert.notEqual(img.layers[0]!.digest, img.layers[0]!.diffId, 'gzip blob digest differs from the tar diff ID');
  assert.equal(img.size, '#!/bin/sh\necho hi\n'.length + 'ID=test\n'.length);
  const hist = await store.history(name);
  assert.equal(hist.length, 1);
  assert.equal(hist[0]!.Comment, 'made by a test');
  assert.equal(hist[0]!.Id, img.id);
  const [lower] = await store.lowerDirs(img);
  assert.equal(await readFile(join(lower!, 'app', 'run.sh'), 'utf8'), '#!/bin/sh\necho hi\n');
  assert.equal((await store.get(name)).id, img.id);
});

test('importTar refuses an unknown change instruction before reading the tarball', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const store = await ImageStore.open(root);
  const tarball = join(root, 'rootfs.tar');
  await makeTar(join(root, 'rootfs'), { f: 'x' }, tarball);
  await assert.rejects(
    store.importTar(createReadStream(tarball), { changes: ['RUN rm -rf /'] }),
    (err: Error & { kind?: string }) => err.kind === 'invalid' && /RUN/.test(err.message),
  );
  assert.equal((await store.list()).length, 0);
});

test('importTar of bytes that are not a tar fails as invalid and keeps nothing', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const store = await ImageStore.open(root);
  const junk = join(root, 'junk.bin');
  await writeFile(junk, Buffer.alloc(4096, 0x41));
  await assert.rejects(store.importTar(createReadStream(junk), { ref: 'junk:1' }), (err: Error & { kind?: string }) => err.kind === 'invalid');
  assert.equal((await store.list()).length, 0);
  assert.deepEqual(await readdir(join(root, 'images', 'blobs', 'sha256')), []);
  assert.deepEqual((await readdir(join(root, 'images', 'layers'))).filter((n) => n !== 'tmp'), []);
});
