import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../../src/util/atomic-file.js';

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

test('writeFileAtomic makes a missing directory at the first write, and durable: false still replaces the file whole with its mode', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tug-atomic-'));
  try {
    const p = join(dir, 'a', 'b', 'token');
    await writeFileAtomic(p, 'one', 0o644, { durable: false });
    await writeFileAtomic(p, 'two', 0o644, { durable: false });
    assert.equal(await readFile(p, 'utf8'), 'two');
    assert.equal((await stat(p)).mode & 0o777, 0o644);
    assert.deepEqual(await readdir(join(dir, 'a', 'b')), ['token']);
    // A missing directory is made; any other failure to open is the caller's to see.
    await assert.rejects(writeFileAtomic(join(p, 'below-a-file'), 'x'), { code: 'ENOTDIR' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
