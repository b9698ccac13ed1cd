import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, readFile, rm, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { prepareContainerLayer, removeContainerLayer, unmountContainerLayer, isMounted } from '../../src/snapshot/container-layer.js';

async function tempRoot(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'tug-snap-'));
}

test('many long lowerdirs (beyond one page of mount options) still mount, top-most first wins', async (t) => {
  const root = await tempRoot();
  const cid = 'long' + randomBytes(4).toString('hex');
  t.after(async () => {
    await removeContainerLayer(root, cid);
    await rm(root, { recursive: true, force: true });
  });
  const lowers: string[] = [];
  const n = 60;
  for (let i = 0; i < n; i++) {
    // ~90-char paths: 60 of them is well past the 4096-byte mount option page.
    const d = join(root, 'layers', `${String(i).padStart(3, '0')}-${'x'.repeat(64)}`, 'fs');
    await mkdir(d, { recursive: true });
    await writeFile(join(d, `only-${i}`), `${i}`);
    await writeFile(join(d, 'shared'), `${i}`);
    lowers.unshift(d); // top-most first: layer n-1 first
  }
  assert.ok(lowers.join(':').length > 4096);
  const layer = await prepareContainerLayer(root, cid, lowers);
  assert.ok(await isMounted(layer.merged));
  assert.equal(await readFile(join(layer.merged, 'shared'), 'utf8'), String(n - 1), 'top-most layer wins');
  assert.equal(await readFile(join(layer.merged, 'only-0'), 'utf8'), '0', 'bottom layer visible');
  await unmountContainerLayer(root, cid);
  assert.equal(await isMounted(layer.merged), false);
  await unmountContainerLayer(root, cid); // idempotent
  // Prepare again after unmount remounts with the upper dir kept.
  await writeFile(join(layer.upper, 'kept'), 'yes');
  await prepareContainerLayer(root, cid, lowers);
  assert.equal(await readFile(join(layer.merged, 'kept'), 'utf8'), 'yes');
  await removeContainerLayer(root, cid);
  await assert.rejects(access(join(root, 'containers-fs', cid)));
});

test('an image with no layers gets an empty root; bad container IDs are refused', async (t) => {
  const root = await tempRoot();
  const cid = 'empty' + randomBytes(4).toString('hex');
  t.after(async () => {
    await removeContainerLayer(root, cid);
    await rm(root, { recursive: true, force: true });
  });
  const layer = await prepareContainerLayer(root, cid, []);
  assert.ok(await isMounted(layer.merged));
  await writeFile(join(layer.merged, 'f'), 'x');
  assert.equal(await readFile(join(layer.upper, 'f'), 'utf8'), 'x');
  await assert.rejects(prepareContainerLayer(root, '../escape', []), (err: Error & { kind?: string }) => err.kind === 'invalid');
  assert.equal(await isMounted(join(root, 'nope')), false);
});
