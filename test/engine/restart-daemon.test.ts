// Restart policies across a daemon crash: kill -9 the daemon, start it again
// on the same root, and check each container per its policy, as dockerd does.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';
import { runCommand, type CommandResult } from '../helpers/run-command.js';

let d: TestDaemon | undefined;

type Result = CommandResult;
const docker = (args: string[]): Promise<Result> => runCommand('docker', args, { env: d!.env, guardMs: 120_000 });
async function status(name: string): Promise<string> {
  const r = await docker(['inspect', '-f', '{{.State.Status}}', name]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}
async function waitStatus(name: string, want: string): Promise<void> {
  let s = await status(name);
  for (let i = 0; i < 300 && s !== want; i++) {
    await new Promise((r) => setTimeout(r, 100));
    s = await status(name);
  }
  assert.equal(s, want, `${name} never became ${want}`);
}

after(async () => {
  await d?.stop();
});

test('after kill -9 of the daemon: always comes back running (even if stopped by hand), unless-stopped stopped by hand stays stopped', async () => {
  d = await startTestDaemon();
  const sfx = randomBytes(4).toString('hex');
  const always = `always-${sfx}`;
  const alwaysStopped = `always-stopped-${sfx}`;
  const unlessRunning = `unless-running-${sfx}`;
  const unlessStopped = `unless-stopped-${sfx}`;
  const loop = ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.2; done'];
  for (const [name, policy] of [[always, 'always'], [alwaysStopped, 'always'], [unlessRunning, 'unless-stopped'], [unlessStopped, 'unless-stopped']] as const) {
    const r = await docker(['run', '-d', '--name', name, '--restart', policy, 'busybox', ...loop]);
    assert.equal(r.code, 0, r.stderr);
  }
  for (const name of [alwaysStopped, unlessStopped]) assert.equal((await docker(['stop', '-t', '5', name])).code, 0);
  assert.equal(await status(unlessStopped), 'exited');

  await d.crash();
  await d.restart();

  await waitStatus(always, 'running');
  await waitStatus(unlessRunning, 'running');
  await waitStatus(alwaysStopped, 'running'); // dockerd restarts "always" containers on daemon start
  assert.equal(await status(unlessStopped), 'exited', 'unless-stopped stopped by hand stays stopped');
  const ps = await docker(['ps', '-a', '--format', '{{.Names}}']);
  assert.deepEqual(ps.stdout.trim().split('\n').sort(), [always, alwaysStopped, unlessRunning, unlessStopped].sort(), 'each container listed once');
  // They are manageable: exec into one, stop another.
  const ex = await docker(['exec', always, 'echo', 'alive']);
  assert.equal(ex.stdout.trim(), 'alive', ex.stderr);
  assert.equal((await docker(['stop', '-t', '5', unlessRunning])).code, 0);
  assert.equal(await status(unlessRunning), 'exited');
});
