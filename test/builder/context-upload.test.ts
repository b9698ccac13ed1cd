// The context on its way up and in: the client leaves what .dockerignore
// excludes out of the tar (keeping the Dockerfile and .dockerignore, and what
// a '!' line re-includes), and the daemon's unpack takes each file's digest
// from the stream, trusted only while the file's size and mtime still match.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, writeFile, rm, lstat, readFile, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { tarContext } from '../../src/util/context-tar.js';
import { unpackContext } from '../../src/builder/build-context.js';

async function collect(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('the client tar leaves ignored paths out and the daemon knows the digests of what came', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tug-ctx-'));
  try {
    const ctx = join(dir, 'ctx');
    await mkdir(join(ctx, 'src'), { recursive: true });
    await mkdir(join(ctx, 'logs', 'keep'), { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\n');
    await writeFile(join(ctx, '.dockerignore'), '*.log\nlogs\n!logs/keep/wanted.txt\nDockerfile\n');
    await writeFile(join(ctx, 'src', 'a.txt'), 'alpha\n');
    await writeFile(join(ctx, 'build.log'), 'noise\n');
    await writeFile(join(ctx, 'logs', 'x.txt'), 'ignored\n');
    await writeFile(join(ctx, 'logs', 'keep', 'wanted.txt'), 'wanted\n');
    const tar = await collect(tarContext(ctx, undefined, (m) => new Error(m)));
    const listed = spawnSync('tar', ['-t'], { input: tar }).stdout.toString().split('\n').filter(Boolean).map((n) => n.replace(/^\.\//, '').replace(/\/$/, ''));
    for (const want of ['Dockerfile', '.dockerignore', 'src/a.txt', 'logs/keep/wanted.txt']) assert.ok(listed.includes(want), `${want} missing from ${listed.join(',')}`);
    for (const gone of ['build.log', 'logs/x.txt']) assert.ok(!listed.includes(gone), `${gone} was sent`);

    const root = join(dir, 'root');
    const up = await unpackContext(root, Readable.from([tar]));
    try {
      const file = join(up.dir, 'src', 'a.txt');
      assert.equal(await readFile(file, 'utf8'), 'alpha\n');
      const st = await lstat(file);
      assert.equal(up.digests(file, st), createHash('sha256').update('alpha\n').digest('hex'));
      // A changed file is not trusted: its stat signature no longer matches.
      await writeFile(file, 'changed, longer\n');
      await utimes(file, st.atime, st.mtime);
      assert.equal(up.digests(file, await lstat(file)), undefined);
    } finally {
      await up.remove();
    }
    await assert.rejects(unpackContext(root, Readable.from([Buffer.from('this is not a tar archive at all, just text')])), /not a valid tar archive/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
