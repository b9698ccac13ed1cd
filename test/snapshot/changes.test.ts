import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { prepareContainerLayer, removeContainerLayer } from '../../src/snapshot/container-layer.js';
import { containerChanges } from '../../src/snapshot/changes.js';

test('containerChanges reports added, modified and deleted paths like docker diff', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'tug-changes-'));
  const cid = 'ch' + randomBytes(4).toString('hex');
  t.after(async () => {
    await removeContainerLayer(root, cid);
    await rm(root, { recursive: true, force: true });
  });
  const lower = join(root, 'lower');
  await mkdir(join(lower, 'etc'), { recursive: true });
  await writeFile(join(lower, 'etc', 'passwd'), 'root\n');
  await writeFile(join(lower, 'etc', 'group'), 'root\n');
  const { merged } = await prepareContainerLayer(root, cid, [lower]);
  const before = await containerChanges(join(root, 'containers-fs', cid, 'upper'), [lower]);
  assert.deepEqual(before, []);
  await writeFile(join(merged, 'etc', 'passwd'), 'root\nme\n');
  await unlink(join(merged, 'etc', 'group'));
  await mkdir(join(merged, 'new'));
  await writeFile(join(merged, 'new', 'file'), 'x');
  const changes = await containerChanges(join(root, 'containers-fs', cid, 'upper'), [lower]);
  assert.deepEqual(changes, [
    { Path: '/etc', Kind: 0 },
    { Path: '/etc/group', Kind: 2 },
    { Path: '/etc/passwd', Kind: 0 },
    { Path: '/new', Kind: 1 },
    { Path: '/new/file', Kind: 1 },
  ]);
});
