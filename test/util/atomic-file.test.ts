import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeJsonAtomic } from '../../src/util/atomic-file.js';

test('writeJsonAtomic replaces the file whole and leaves no temp file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tug-atomic-'));
  try {
    const p = join(dir, 'state.json');
    await writeJsonAtomic(p, { a: 1 });
    await writeJsonAtomic(p, { a: 2 });
    assert.deepEqual(JSON.parse(await readFile(p, 'utf8')), { a: 2 });
    assert.deepEqual(await readdir(dir), ['state.json']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
