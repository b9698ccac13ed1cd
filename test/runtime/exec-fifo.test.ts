// Start through runc's exec fifo (no `runc start` process): runc itself then
// sees the container running, the fifo is gone, a second start is refused;
// with init gone the fifo reader gives up instead of waiting, unless init
// wrote its byte before going (a short-lived process: `true`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { readdirSync, readlinkSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { processAlive } from '../../src/util/process-alive.js';
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

/** Blocks the whole event loop (no timers, no I/O) for ms. */
const blockLoop = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

const holdsOpen = (path: string): boolean =>
  readdirSync('/proc/self/fd').some((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false;
    }
  });

test('init wrote its byte and exited before the event loop read it: still released (true), fifo removed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tug-fifo-'));
  const fifo = join(dir, 'exec.fifo');
  try {
    await runTool('mkfifo', [fifo]);
    // The writer plays runc init running `true`: it blocks opening the fifo,
    // writes one byte once a reader is there, and exits; its parent sh reaps
    // it, so its pid is then gone, as conmon reaps a container's init.
    const sh = spawn('sh', ['-c', 'printf 0 > "$1" & echo $!; wait', 'sh', fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
    const writer = await new Promise<number>((res) => sh.stdout.once('data', (b: Buffer) => res(Number(b.toString().trim()))));
    const shDone = new Promise((res) => sh.once('close', res));
    const released = startViaExecFifo(fifo, writer);
    // Force the losing order, which a busy daemon hits about once in a
    // hundred starts: once the reader is open, the loop stays blocked until
    // the writer has written and gone, and then past the reader's 100 ms
    // watchdog, twice (the open's callback may only run after the first
    // block), so the watchdog runs before any poll could read the byte.
    let blocks = 0;
    await new Promise<void>((res) => {
      const step = (): void => {
        if (blocks === 0 && !holdsOpen(fifo)) return void setImmediate(step);
        if (blocks === 0) {
          for (let i = 0; i < 1000 && processAlive(writer); i++) blockLoop(10); // hang guard: 10 s
          assert.equal(processAlive(writer), false, 'the writer should have written and exited');
        }
        blockLoop(150);
        if (++blocks < 2) return void setImmediate(step);
        res();
      };
      setImmediate(step);
    });
    assert.equal(await released, true, 'the byte in the pipe says init was released');
    assert.equal(await pathExists(fifo), false, 'fifo removed as runc start does');
    await shDone;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
