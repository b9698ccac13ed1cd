// The safe path for trees a container controls, without a daemon: resolving
// inside a root (absolute and '../..' links stop at the root), writing entries
// (never through a link to outside, refused names leave nothing), reading a
// tree (links archived as links), removing a tree (links never followed), and
// tar in and out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScopedRoot } from '../../src/rootfs/scoped-root.js';
import { readTree } from '../../src/rootfs/tree-reader.js';
import { writeTree } from '../../src/rootfs/tree-writer.js';
import { removeTreeAt } from '../../src/rootfs/remove-tree.js';
import { entriesFromTar, tarFromEntries } from '../../src/rootfs/tar-codec.js';
import { extractArchiveFile } from '../../src/rootfs/extract-archive.js';
import type { TreeEntry } from '../../src/rootfs/tree-entry.js';

let dir: string;
let rootPath: string;
let outside: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tug-rootfs-'));
  rootPath = join(dir, 'root');
  outside = join(dir, 'outside');
  await mkdir(join(rootPath, 'etc'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(outside, 'secret'), 'outside');
  await writeFile(join(rootPath, 'etc', 'passwd'), 'inside');
  await symlink(outside, join(rootPath, 'abs')); // absolute: means <root>/<outside> inside the root
  await symlink('../../../../..' + outside, join(rootPath, 'rel'));
  await symlink('/etc', join(rootPath, 'etclink'));
  await symlink('loop', join(rootPath, 'loop'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function* entries(list: Array<Partial<TreeEntry> & { name: string }>): AsyncGenerator<TreeEntry> {
  for (const e of list) {
    const body = e.body ?? (e.type === undefined || e.type === 'file' ? [Buffer.from(e.name)] : undefined);
    const size = e.size ?? (e.type === undefined || e.type === 'file' ? Buffer.byteLength(e.name) : 0);
    yield { type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: new Date(0), ...e, size, body: body as AsyncIterable<Buffer> };
  }
}

test('resolve follows links inside the root only', async () => {
  const root = await ScopedRoot.open(rootPath);
  try {
    for (const [path, want] of [
      ['/etclink/passwd', 'etc/passwd'],
      ['/abs/secret', `${outside.slice(1)}/secret`],
      ['/rel/secret', `${outside.slice(1)}/secret`],
      ['/../../etc/passwd', 'etc/passwd'],
    ] as const) {
      const r = await root.resolve(path).catch((e: Error) => e);
      if (r instanceof Error) {
        // a missing parent inside the root: not-found, never the outside file
        assert.match(r.message, /no such file/);
        continue;
      }
      assert.equal(r.pathInRoot, want, path);
      await r.close();
    }
    const link = await root.resolve('/abs', { followFinal: false });
    assert.equal((await link.lstat())?.isSymbolicLink(), true);
    await link.close();
    await assert.rejects(root.resolve('/loop/x'), /too many levels/);
  } finally {
    await root.close();
  }
});

test('writing through planted links creates inside the root; names that climb out are refused and nothing stays', async () => {
  const root = await ScopedRoot.open(rootPath);
  try {
    await writeTree(root, '/', entries([{ name: 'abs/evil' }, { name: 'rel/evil2' }]));
    assert.deepEqual(await readdir(outside), ['secret']);
    assert.equal(await readFile(join(rootPath, outside, 'evil'), 'utf8'), 'abs/evil');
    await mkdir(join(rootPath, 'dest'));
    await assert.rejects(writeTree(root, 'dest', entries([{ name: 'a/new' }, { name: 'ok' }, { name: '../../escape' }])), /outside the destination/);
    assert.deepEqual(await readdir(join(rootPath, 'dest')), [], 'the entries before the bad one were rolled back');
    // A symlink in the tree, then a file through it: stays in the root.
    await writeTree(root, 'dest', entries([{ name: 'l', type: 'symlink', linkname: outside }, { name: 'l/through' }]));
    assert.deepEqual(await readdir(outside), ['secret']);
    assert.equal(await readlink(join(rootPath, 'dest', 'l')), outside);
    // A hard link to a name outside the destination is refused too.
    await assert.rejects(writeTree(root, 'dest', entries([{ name: 'h', type: 'link', linkname: '../../etc/passwd' }])), /outside the destination/);
  } finally {
    await root.close();
  }
});

test('reading a tree archives links as links and never reads through them', async () => {
  const root = await ScopedRoot.open(rootPath);
  try {
    const seen: string[] = [];
    for await (const e of readTree(root, '/', true, { as: '' })) {
      seen.push(`${e.type}:${e.name}`);
      if (e.body) for await (const c of e.body) assert.ok(!c.toString().includes('outside'), `${e.name} read a file outside the root`);
    }
    assert.ok(seen.includes('symlink:abs'));
    assert.ok(seen.includes('file:etc/passwd'));
  } finally {
    await root.close();
  }
});

test('tar out and back in keeps names, modes, links and content', async () => {
  const root = await ScopedRoot.open(rootPath);
  const copyPath = join(dir, 'copy');
  await mkdir(copyPath);
  const copy = await ScopedRoot.open(copyPath);
  try {
    await writeTree(copy, '/', entriesFromTar(tarFromEntries(readTree(root, '/etc', true, { as: 'etc' }))));
    assert.equal(await readFile(join(copyPath, 'etc', 'passwd'), 'utf8'), 'inside');
    const archive = join(dir, 'a.tar');
    const chunks: Buffer[] = [];
    for await (const c of tarFromEntries(entries([{ name: 'x/y', mode: 0o750 }, { name: 's', type: 'symlink', linkname: '/x/y' }]))) chunks.push(c as Buffer);
    await writeFile(archive, Buffer.concat(chunks));
    await extractArchiveFile(archive, copy, '/');
    assert.equal((await lstat(join(copyPath, 'x', 'y'))).mode & 0o777, 0o750);
    assert.equal(await readlink(join(copyPath, 's')), '/x/y');
    await writeFile(archive, Buffer.concat([Buffer.concat(chunks).subarray(0, 600), Buffer.alloc(50, 1)]));
    await assert.rejects(extractArchiveFile(archive, copy, '/new'), /not a readable tar/);
  } finally {
    await root.close();
    await copy.close();
  }
});

test('removing a tree does not follow links out of it', async () => {
  const victim = join(dir, 'victim');
  await mkdir(join(victim, 'sub'), { recursive: true });
  await symlink(outside, join(victim, 'sub', 'out'));
  const root = await ScopedRoot.open(dir);
  try {
    await removeTreeAt(root.fd, 'victim');
  } finally {
    await root.close();
  }
  await assert.rejects(lstat(victim));
  assert.deepEqual(await readdir(outside), ['secret']);
});
