// tug cp in both directions through the archive endpoints.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { rand, setupCli, type CliEnv } from './cli-helpers.js';
import { runTool } from '../../src/util/exec-file.js';

let t: CliEnv;
let box: string;
before(async () => {
  t = await setupCli();
  box = `cp-${rand()}`;
  const r = await t.tug(['run', '-d', '--name', box, '-l', t.label, t.image, 'sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.2; done']);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  await t?.cleanup();
});

test('a file goes in and comes back byte for byte, under a new name', async () => {
  const dir = join(t.tmp, `f-${rand()}`);
  await mkdir(dir);
  const content = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
  await writeFile(join(dir, 'data.bin'), content);
  assert.equal((await t.tug(['cp', join(dir, 'data.bin'), `${box}:/tmp/`])).code, 0);
  assert.equal((await t.tug(['cp', join(dir, 'data.bin'), `${box}:/tmp/renamed.bin`])).code, 0);
  const ls = await t.tug(['exec', box, 'ls', '/tmp']);
  assert.match(ls.stdout, /^data\.bin$/m);
  assert.match(ls.stdout, /^renamed\.bin$/m);
  assert.equal((await t.tug(['cp', `${box}:/tmp/renamed.bin`, join(dir, 'back.bin')])).code, 0);
  assert.deepEqual(await readFile(join(dir, 'back.bin')), content);
});

test('a directory tree copies in and out, into existing or new directories', async () => {
  const dir = join(t.tmp, `d-${rand()}`);
  await mkdir(join(dir, 'tree', 'sub'), { recursive: true });
  await writeFile(join(dir, 'tree', 'a.txt'), 'A\n');
  await writeFile(join(dir, 'tree', 'sub', 'b.txt'), 'B\n');
  assert.equal((await t.tug(['cp', join(dir, 'tree'), `${box}:/tmp/tree2`])).code, 0);
  const cat = await t.tug(['exec', box, 'cat', '/tmp/tree2/a.txt', '/tmp/tree2/sub/b.txt']);
  assert.equal(cat.stdout, 'A\nB\n');
  // Into an existing host directory: the tree keeps its name inside it.
  await mkdir(join(dir, 'out'));
  assert.equal((await t.tug(['cp', `${box}:/tmp/tree2`, join(dir, 'out')])).code, 0);
  assert.equal(await readFile(join(dir, 'out', 'tree2', 'sub', 'b.txt'), 'utf8'), 'B\n');
  // To a new path: the tree takes that name.
  assert.equal((await t.tug(['cp', `${box}:/tmp/tree2`, join(dir, 'fresh')])).code, 0);
  assert.deepEqual((await readdir(join(dir, 'fresh'))).sort(), ['a.txt', 'sub']);
  // No temp dirs are left next to the destination.
  assert.deepEqual((await readdir(dir)).sort(), ['fresh', 'out', 'tree']);
});

test('cp to - writes a tar stream; cp from - reads one', async () => {
  const r = await t.tug(['cp', `${box}:/etc/passwd`, '-']);
  assert.equal(r.code, 0);
  const dir = join(t.tmp, `s-${rand()}`);
  await mkdir(dir);
  await writeFile(join(dir, 'in.tar'), Buffer.from(r.stdout, 'latin1'));
  const list = await runTool('tar', ['-tf', join(dir, 'in.tar')]);
  assert.equal(list.stdout, 'passwd\n');
  await writeFile(join(dir, 'note.txt'), 'from stdin tar\n');
  const tar = await runTool('tar', ['-C', dir, '-cf', join(dir, 'note.tar'), 'note.txt']);
  assert.equal(tar.code, 0);
  const up = await t.tug(['cp', '-', `${box}:/tmp`], await readFile(join(dir, 'note.tar')));
  assert.equal(up.code, 0, up.stderr);
  assert.equal((await t.tug(['exec', box, 'cat', '/tmp/note.txt'])).stdout, 'from stdin tar\n');
});

test('missing paths fail clearly', async () => {
  const r = await t.tug(['cp', `${box}:/no/such/file`, t.tmp]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /No such container:path/);
  const l = await t.tug(['cp', join(t.tmp, 'nope'), `${box}:/tmp/`]);
  assert.equal(l.code, 1);
  assert.match(l.stderr, /no such file or directory/);
  const both = await t.tug(['cp', 'a:/x', 'b:/y']);
  assert.equal(both.code, 125);
});
