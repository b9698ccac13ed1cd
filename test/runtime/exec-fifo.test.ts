// Start through runc's exec fifo (no `runc start` process): runc itself then
// sees the container running, the fifo is gone, a second start is refused;
// with init gone the fifo reader gives up instead of waiting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Runtime } from '../../src/runtime/runtime.js';
import { startViaExecFifo } from '../../src/runtime/exec-fifo.js';
import { runTool } from '../../src/util/exec-file.js';
import { makeBundle, randomId, pathExists } from './bundle-helper.js';

test('start releases init through the exec fifo: runc reports running, the fifo is gone, starting again fails', async () => {
  const b = await makeBundle(['sleep', '30']);
  const rt = new Runtime({ stateDir: b.stateDir });
  const id = randomId();
  const fifo = join(rt.layout.runcRoot, id, 'exec.fifo');
  try {
    const { pid } = await rt.create(id, { bundleDir: b.bundleDir, tty: false, openStdin: false, logPath: b.logPath });
    assert.equal(await pathExists(fifo), true, 'created: init waits on the fifo');
    await rt.start(id);
    assert.equal(await pathExists(fifo), false, 'fifo removed as runc start does');
    const st = JSON.parse((await runTool('runc', ['--root', rt.layout.runcRoot, 'state', id])).stdout);
    assert.deepEqual([st.status, st.pid], ['running', pid]);
    assert.equal(await startViaExecFifo(fifo, pid), false, 'no fifo: nothing to release');
    await assert.rejects(rt.start(id), /already running|cannot start/i);
  } finally {
    await rt.delete(id, { force: true });
    await b.cleanup();
  }
});

test('a fifo with no writer and its init gone: false, without waiting forever, and the fifo stays', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tug-fifo-'));
  const fifo = join(dir, 'exec.fifo');
  try {
    await runTool('mkfifo', [fifo]);
    // A pid that has exited (its parent reaped it): the watchdog must end the wait.
    const gone = Number((await runTool('sh', ['-c', 'true & echo $!; wait'])).stdout.trim());
    assert.equal(await startViaExecFifo(fifo, gone), false);
    assert.equal(await pathExists(fifo), true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
