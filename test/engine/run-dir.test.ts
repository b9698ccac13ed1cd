// The engine's runtime state (runc root, conmon files) lives on tmpfs, one
// directory per engine root; an older root that keeps it in ROOT/runtime goes
// on using that; releaseHostState removes the tmpfs directory of an empty engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runtimeStateDir } from '../../src/engine/run-dir.js';
import { Engine } from '../../src/engine/engine.js';
import { suffix } from '../network/fixture.js';

const TMPFS_MAGIC = 0x01021994;

test('runtime state dir: on tmpfs, one per root; a root with ROOT/runtime/runc keeps it', async () => {
  const [a, b] = [await mkdtemp(join(tmpdir(), 'tug-rd-')), await mkdtemp(join(tmpdir(), 'tug-rd-'))];
  try {
    const [da, db] = [await runtimeStateDir(a), await runtimeStateDir(b)];
    assert.notEqual(da, db);
    assert.equal(await runtimeStateDir(a), da, 'stable for a root');
    await mkdir(da, { recursive: true });
    assert.equal((await statfs(da)).type, TMPFS_MAGIC, `${da} is on tmpfs`);
    await rm(da, { recursive: true, force: true });
    await mkdir(join(b, 'runtime', 'runc'), { recursive: true });
    assert.equal(await runtimeStateDir(b), join(b, 'runtime'));
  } finally {
    await rm(a, { recursive: true, force: true });
    await rm(b, { recursive: true, force: true });
  }
});

test('releaseHostState of an empty engine removes its runtime state dir', async () => {
  const root = await mkdtemp(join(tmpdir(), 'tug-rd-'));
  try {
    const engine = await Engine.open({ root, bridgeName: `tugd${suffix()}`, subnet: '10.254.254.0/24' });
    const dir = engine.runtime.layout.stateDir;
    assert.ok(!dir.startsWith(root), `${dir} is outside the root`);
    await mkdir(engine.runtime.layout.exitDir, { recursive: true });
    await engine.releaseHostState();
    await assert.rejects(stat(dir), { code: 'ENOENT' });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
