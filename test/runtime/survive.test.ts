// A container outlives the process that created it: the owner (a child node
// process standing in for the daemon) is killed with SIGKILL, then a new
// Runtime over the same stateDir finds the container, attaches, kills it and
// gets the real exit code from conmon.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Runtime } from '../../src/runtime/runtime.js';
import { makeBundle, randomId, collect, until, cgroupLeftovers } from './bundle-helper.js';

const ownerScript = fileURLToPath(new URL('./owner-child.js', import.meta.url));

test('a container survives kill -9 of its owner; a new Runtime finds, attaches, kills and reaps it', async () => {
  const b = await makeBundle(['sh', '-c', 'trap "exit 42" USR1; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done']);
  const id = randomId();
  const rt = new Runtime({ stateDir: b.stateDir });
  try {
    const child = spawn(process.execPath, [ownerScript, '--owner', b.stateDir, id, b.bundleDir, b.logPath], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const childExit = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, sig) => resolve(sig)));
    const reported = collect(child.stdout);
    await until(() => reported.text().includes('\n'), 'owner reported the container');
    const { pid } = JSON.parse(reported.text()) as { pid: number };
    child.kill('SIGKILL');
    assert.equal(await childExit, 'SIGKILL');

    // the daemon is gone; the container still runs under its monitor
    assert.deepEqual(await rt.list(), [{ id, status: 'running', pid }]);
    assert.deepEqual(await rt.state(id), { status: 'running', pid });
    const a = await rt.attach(id, { stdin: false });
    const out = collect(a.stdout);
    await until(() => /tick \d+\n/.test(out.text()), 'output after re-attach');

    const waited = rt.waitExit(id);
    await rt.kill(id, 'USR1');
    const exit = await waited;
    assert.equal(exit.exitCode, 42);
    await out.ended;
    assert.equal((await rt.state(id)).status, 'stopped');
    assert.deepEqual(await rt.readExit(id), exit);
  } finally {
    await rt.delete(id, { force: true });
    assert.deepEqual(await rt.list(), []);
    assert.deepEqual(await cgroupLeftovers(b.cgroupName), []);
    await b.cleanup();
  }
});
