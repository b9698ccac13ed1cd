// Terminal and stdin through conmon's attach socket and ctl fifo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Runtime } from '../../src/runtime/runtime.js';
import { isKind } from '../../src/errdefs.js';
import { makeBundle, randomId, collect, until, cgroupLeftovers } from './bundle-helper.js';

test('tty: output arrives, tty is /dev/pts/0, resize changes stty size', async () => {
  const b = await makeBundle(['sh', '-c', 'tty; read go; stty size; exit 4'], { tty: true });
  const rt = new Runtime({ stateDir: b.stateDir });
  const id = randomId();
  try {
    await rt.create(id, { bundleDir: b.bundleDir, tty: true, openStdin: true, stdinOnce: true, logPath: b.logPath });
    const a = await rt.attach(id, { stdin: true });
    assert.equal(a.stderr, null, 'a tty has one stream');
    assert.ok(a.stdin);
    const out = collect(a.stdout);
    await rt.start(id);
    await until(() => out.text().includes('/dev/pts/0'), 'tty output');
    await rt.resize(id, 123, 45);
    a.stdin.write('go\n');
    const exit = await rt.waitExit(id);
    await out.ended;
    assert.equal(exit.exitCode, 4);
    assert.match(out.text(), /^45 123\r?$/m);
    // the log has the same terminal output, all on stdout
    const log = await readFile(b.logPath, 'utf8');
    assert.match(log, /stdout F \/dev\/pts\/0/);
    assert.doesNotMatch(log, / stderr /);
    await assert.rejects(rt.resize(id, 0, 10), (e: unknown) => isKind(e, 'invalid'));
  } finally {
    await rt.delete(id, { force: true });
    assert.deepEqual(await cgroupLeftovers(b.cgroupName), []);
    await b.cleanup();
  }
});

test('stdin: piped through attach, EOF closes it and the container exits', async () => {
  const b = await makeBundle(['sh', '-c', 'cat; echo cat-done >&2']);
  const rt = new Runtime({ stateDir: b.stateDir });
  const id = randomId();
  try {
    await rt.create(id, { bundleDir: b.bundleDir, tty: false, openStdin: true, stdinOnce: true, logPath: b.logPath });
    const a = await rt.attach(id, { stdin: true });
    const out = collect(a.stdout);
    const err = collect(a.stderr);
    await rt.start(id);
    a.stdin!.write('hello\n');
    // a large chunk too: conmon reads stdin in bounded packets
    const big = 'x'.repeat(100_000) + '\n';
    a.stdin!.end(big);
    const exit = await rt.waitExit(id);
    await Promise.all([out.ended, err.ended]);
    assert.equal(exit.exitCode, 0);
    assert.equal(out.text(), 'hello\n' + big);
    assert.equal(err.text(), 'cat-done\n');
    await resize_isConflict(rt, id);
  } finally {
    await rt.delete(id, { force: true });
    await b.cleanup();
  }
});

async function resize_isConflict(rt: Runtime, id: string): Promise<void> {
  await assert.rejects(rt.resize(id, 80, 24), (e: unknown) => isKind(e, 'conflict'));
}

test('output-only attach sees output; stdin stays closed to it; deep state dirs work', async () => {
  const b = await makeBundle(['sh', '-c', 'echo one; echo two']);
  // far beyond the 108-byte unix socket path limit
  const rt = new Runtime({ stateDir: join(b.dir, 'a'.repeat(80), 'b'.repeat(80)) });
  const id = randomId();
  try {
    await rt.create(id, { bundleDir: b.bundleDir, tty: false, openStdin: false, logPath: b.logPath });
    const a = await rt.attach(id, { stdin: true }); // container has no stdin: none offered
    assert.equal(a.stdin, null);
    assert.ok(join(rt.layout.containerDir(id), 'attach').length > 108);
    const out = collect(a.stdout);
    await rt.start(id);
    assert.equal((await rt.waitExit(id)).exitCode, 0);
    await out.ended;
    assert.equal(out.text(), 'one\ntwo\n');
  } finally {
    await rt.delete(id, { force: true });
    await b.cleanup();
  }
});

test('StdinOnce: an output-only attach leaving does not close stdin; the stdin owner\'s EOF does', async () => {
  const b = await makeBundle(['sh', '-c', 'read x; echo got $x; echo e >&2; cat; echo eof']);
  const rt = new Runtime({ stateDir: b.stateDir });
  const id = randomId();
  try {
    await rt.create(id, { bundleDir: b.bundleDir, tty: false, openStdin: true, stdinOnce: true, logPath: b.logPath });
    const watcher = await rt.attach(id, { stdin: false });
    const quitter = await rt.attach(id, { stdin: false });
    const owner = await rt.attach(id, { stdin: true });
    const wOut = collect(watcher.stdout);
    const wErr = collect(watcher.stderr);
    const oOut = collect(owner.stdout);
    await rt.start(id);
    quitter.close();
    owner.stdin!.write('hi\n');
    await until(() => oOut.text().includes('got hi'), 'reply to stdin');
    owner.stdin!.end('more\n');
    const exit = await rt.waitExit(id);
    assert.equal(exit.exitCode, 0);
    await Promise.all([wOut.ended, wErr.ended, oOut.ended]);
    assert.equal(oOut.text(), 'got hi\nmore\neof\n');
    assert.equal(wOut.text(), 'got hi\nmore\neof\n');
    assert.equal(wErr.text(), 'e\n');
  } finally {
    await rt.delete(id, { force: true });
    await b.cleanup();
  }
});
