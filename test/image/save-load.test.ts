import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, mkdir, readlink, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { ImageStore } from '../../src/image/image-store.js';
import { runTool } from '../../src/util/exec-file.js';
import { fixturesDir, tempRoot } from './helpers.js';

async function saveTo(store: ImageStore, refs: string[], file: string): Promise<void> {
  const out = createWriteStream(file);
  await store.save(refs, out);
  if (!out.closed) await once(out, 'close');
}

test('save writes a docker-archive + OCI layout tar that loads into a fresh store with tags and ID intact', async (t) => {
  const a = await tempRoot();
  const b = await tempRoot();
  t.after(a.cleanup);
  t.after(b.cleanup);
  const src = await ImageStore.open(a.root);
  const bb = await src.get('busybox');
  await src.tag('busybox', 'localhost:5000/tools/bb:1.0');
  const file = join(a.root, 'out.tar');
  await saveTo(src, ['busybox:latest', 'localhost:5000/tools/bb:1.0'], file);

  const listing = (await runTool('tar', ['-tf', file])).stdout.split('\n');
  for (const m of ['manifest.json', 'index.json', 'oci-layout', 'repositories', `blobs/sha256/${bb.id.slice(7)}`]) {
    assert.ok(listing.includes(m), `archive has ${m}`);
  }
  const x = join(a.root, 'x');
  await mkdir(x);
  await runTool('tar', ['-xf', file, '-C', x]);
  const manifest = JSON.parse(await readFile(join(x, 'manifest.json'), 'utf8')) as Array<{ Config: string; RepoTags: string[]; Layers: string[] }>;
  assert.equal(manifest.length, 1);
  assert.deepEqual(manifest[0]!.RepoTags.sort(), ['busybox:latest', 'localhost:5000/tools/bb:1.0']);
  const index = JSON.parse(await readFile(join(x, 'index.json'), 'utf8')) as { manifests: Array<{ annotations?: Record<string, string> }> };
  assert.deepEqual(index.manifests.map((m) => m.annotations?.['io.containerd.image.name']).sort(), [
    'docker.io/library/busybox:latest',
    'localhost:5000/tools/bb:1.0',
  ]);
  await assert.rejects(readlink(join(x, manifest[0]!.Layers[0]!)), 'layers are real files, not symlinks into the store');

  const dst = await ImageStore.open(b.root);
  const lines = await dst.load(createReadStream(file));
  assert.deepEqual(lines.sort(), ['Loaded image: busybox:latest', 'Loaded image: localhost:5000/tools/bb:1.0']);
  const loaded = await dst.get('localhost:5000/tools/bb:1.0');
  assert.equal(loaded.id, bb.id);
  assert.deepEqual(loaded.repoTags.sort(), ['busybox:latest', 'localhost:5000/tools/bb:1.0']);
  assert.equal(loaded.size, bb.size);
  assert.equal((await dst.list()).length, 1);

  // The same tar read as a pure OCI layout (manifest.json removed) names images by annotation.
  const c = await tempRoot();
  t.after(c.cleanup);
  const ociOnly = join(a.root, 'oci.tar');
  await runTool('tar', ['-cf', ociOnly, '-C', x, 'oci-layout', 'index.json', 'blobs']);
  const third = await ImageStore.open(c.root);
  const ociLines = await third.load(createReadStream(ociOnly));
  assert.deepEqual(ociLines.sort(), ['Loaded image: busybox:latest', 'Loaded image: localhost:5000/tools/bb:1.0']);
  assert.equal((await third.get('busybox')).id, bb.id);
});

test('saving by ID writes an untagged image that loads as "Loaded image ID"', async (t) => {
  const a = await tempRoot();
  const b = await tempRoot();
  t.after(a.cleanup);
  t.after(b.cleanup);
  const src = await ImageStore.open(a.root);
  const bb = await src.get('busybox');
  const file = join(a.root, 'byid.tar');
  await saveTo(src, [bb.id], file);
  // docker load takes compressed archives too (docker save | gzip | docker load).
  await runTool('gzip', ['-k', file]);
  const dst = await ImageStore.open(b.root);
  assert.deepEqual(await dst.load(createReadStream(`${file}.gz`)), [`Loaded image ID: ${bb.id}`]);
  assert.deepEqual((await dst.get(bb.id)).repoTags, []);
});

test('load reads a docker-archive written by a real Docker (old <id>/layer.tar layout)', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const store = await ImageStore.open(root);
  const lines = await store.load(createReadStream(join(fixturesDir, 'tiny-docker-save.tar')));
  assert.deepEqual(lines.sort(), ['Loaded image: tiny/fixture:1.0', 'Loaded image: tiny/fixture:latest']);
  const img = await store.get('tiny/fixture:1.0');
  // Docker's own numbers for this image (see fixtures/README.md).
  assert.equal(img.id, 'sha256:99cf68dcd26ac977e4b4622b0e1176b81b4b15365440fd584fa548f2608dc7fc');
  assert.equal(img.size, 54);
  assert.deepEqual(img.config.config?.Cmd, ['/bin/true']);
  assert.ok(img.config.config?.Env?.includes('FOO=bar'));
  const [lower] = await store.lowerDirs(img);
  assert.equal(await readFile(join(lower!, 'data', 'link'), 'utf8'), 'hello from a docker-saved fixture\n');
  assert.equal(await readlink(join(lower!, 'data', 'link')), '../etc/hello.txt');
  const hist = await store.history('tiny/fixture');
  assert.equal(hist[0]!.Comment, 'tiny fixture');

  // Loading onto a store where the tag names another image moves the tag and says so.
  await store.tag('busybox', 'tiny/fixture:1.0');
  const bb = await store.get('busybox');
  const again = await store.load(createReadStream(join(fixturesDir, 'tiny-docker-save.tar')));
  assert.ok(again.includes(`The image tiny/fixture:1.0 already exists, renaming the old one with ID ${bb.id} to empty string`));
  assert.equal((await store.get('tiny/fixture:1.0')).id, img.id);
  assert.deepEqual((await store.get(bb.id)).repoTags, ['busybox:latest']);
});

test('load refuses a tar that is neither a docker-archive nor an OCI layout', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const store = await ImageStore.open(root);
  const junk = join(root, 'junk.tar');
  await mkdir(join(root, 'j'));
  await runTool('tar', ['-cf', junk, '-C', join(root, 'j'), '.']);
  await assert.rejects(store.load(createReadStream(junk)), (err: Error & { kind?: string }) => err.kind === 'invalid');
  const garbage = join(root, 'garbage.bin');
  await writeFile(garbage, Buffer.alloc(100_000, 0x42));
  await assert.rejects(store.load(createReadStream(garbage)), (err: Error & { kind?: string }) => err.kind === 'invalid' && /tar/.test(err.message));
  await writeFile(join(root, 'empty'), '');
  await assert.rejects(store.load(createReadStream(join(root, 'empty'))), (err: Error & { kind?: string }) => err.kind === 'invalid');
  assert.deepEqual(await readdir(join(root, 'images', 'tmp')), [], 'load work dirs removed');
});
