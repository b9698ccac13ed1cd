// The registry's root is private (0700): its blobs and manifests are for
// clients that pass its auth, not for every local user. A root an older tug
// left 0755 is tightened at start-up; a read-only registry leaves it alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestRegistry, tempDir } from './helpers.js';

const modeOf = async (p: string): Promise<number> => (await stat(p)).mode & 0o7777;

test('registry root: made 0700, an existing 0755 root tightened, a read-only one left as it is', async () => {
  const base = await tempDir('mode');
  try {
    const fresh = await startTestRegistry({ root: join(base, 'fresh') });
    assert.equal(await modeOf(fresh.root), 0o700);
    await fresh.stop();
    const old = join(base, 'old');
    await mkdir(old);
    await chmod(old, 0o755);
    const reg = await startTestRegistry({ root: old });
    assert.equal(await modeOf(old), 0o700);
    await reg.stop();
    await chmod(old, 0o755);
    const ro = await startTestRegistry({ root: old, readOnly: true });
    assert.equal(await modeOf(old), 0o755);
    await ro.stop();
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});
