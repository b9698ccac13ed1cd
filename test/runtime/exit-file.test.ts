// Waits on conmon's exit directory, shared by every container's wait: each
// wait ends with its own file's code, only when that file appears; an abort
// and a monitor gone without a file end a wait with null; later waits on the
// same directory still work after all earlier ones ended.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForExitFile } from '../../src/runtime/exit-file.js';

/** As conmon writes it: a temp file renamed into place. */
async function writeExit(dir: string, name: string, code: number): Promise<void> {
  await writeFile(join(dir, `.${name}.tmp`), String(code));
  await rename(join(dir, `.${name}.tmp`), join(dir, name));
}

test('fifty waits on one directory: each ends with its own code, the others keep waiting', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tug-exit-'));
  try {
    const names = Array.from({ length: 50 }, (_, i) => `c${i}`);
    const ended = new Map<string, number | null>();
    const waits = names.map((n) => waitForExitFile(join(dir, n), async () => false, 200).then((r) => ended.set(n, r?.exitCode ?? null)));
    await writeExit(dir, 'c7', 7);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual([...ended.entries()], [['c7', 7]], 'only c7 ended');
    for (const [i, n] of names.entries()) if (n !== 'c7') await writeExit(dir, n, i % 256);
    await Promise.all(waits);
    for (const [i, n] of names.entries()) assert.equal(ended.get(n), i % 256, n);
    // All ended: a new wait on the same directory still sees its file.
    const late = waitForExitFile(join(dir, 'late'), async () => false, 200);
    await writeExit(dir, 'late', 3);
    assert.equal((await late)?.exitCode, 3);
    // A file already there ends the wait at once.
    assert.equal((await waitForExitFile(join(dir, 'c1'), async () => false, 200))?.exitCode, 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a monitor gone without a file and an abort end their waits with null; the others are untouched', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tug-exit-'));
  try {
    const ac = new AbortController();
    const gone = waitForExitFile(join(dir, 'gone'), async () => true, 100);
    const aborted = waitForExitFile(join(dir, 'aborted'), async () => false, 100, ac.signal);
    const kept = waitForExitFile(join(dir, 'kept'), async () => false, 100);
    assert.equal(await gone, null);
    ac.abort();
    assert.equal(await aborted, null);
    await writeExit(dir, 'kept', 9);
    assert.equal((await kept)?.exitCode, 9);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
