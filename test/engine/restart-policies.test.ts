// Restart policies through the real docker CLI against a tug daemon:
// on-failure:N, always, unless-stopped, no; docker stop keeps a container down.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';
import { runCommand, type CommandResult } from '../helpers/run-command.js';

let d: TestDaemon;

type Result = CommandResult;
const docker = (args: string[]): Promise<Result> => runCommand('docker', args, { env: d.env, guardMs: 120_000 });
interface State { Status: string; ExitCode: number; RestartCount: number; Running: boolean }
async function state(name: string): Promise<State> {
  const r = await docker(['inspect', '-f', '{{json .State}}|{{.RestartCount}}', name]);
  assert.equal(r.code, 0, r.stderr);
  const [json, count] = r.stdout.trim().split('|');
  const s = JSON.parse(json!);
  return { Status: s.Status, ExitCode: s.ExitCode, Running: s.Running, RestartCount: Number(count) };
}
/** Polls until cond holds (bounded: 300 polls), returns the last state. */
async function waitState(name: string, cond: (s: State) => boolean, what: string): Promise<State> {
  let s = await state(name);
  for (let i = 0; i < 300 && !cond(s); i++) {
    await new Promise((r) => setTimeout(r, 100));
    s = await state(name);
  }
  assert.ok(cond(s), `${name}: never reached "${what}", last ${JSON.stringify(s)}`);
  return s;
}
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 1500));
const uniq = (p: string): string => `${p}-${randomBytes(4).toString('hex')}`;

before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d.stop();
});

test('on-failure:2 restarts a failing container twice, then leaves it exited', async () => {
  const name = uniq('onfail');
  assert.equal((await docker(['run', '-d', '--name', name, '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 1'])).code, 0);
  const s = await waitState(name, (x) => x.RestartCount === 2 && x.Status === 'exited', 'exited after 2 restarts');
  assert.equal(s.ExitCode, 1);
  await settle();
  const later = await state(name);
  assert.deepEqual([later.Status, later.RestartCount], ['exited', 2], 'no third restart');
  // on-failure does not restart a clean exit.
  const ok = uniq('onfail-ok');
  await docker(['run', '-d', '--name', ok, '--restart', 'on-failure:2', 'busybox', 'true']);
  await waitState(ok, (x) => x.Status === 'exited', 'exited');
  await settle();
  assert.equal((await state(ok)).RestartCount, 0);
  await docker(['rm', '-f', name, ok]);
});

for (const policy of ['always', 'unless-stopped']) {
  test(`${policy}: restarts after every exit (even code 0) until docker stop, which keeps it stopped`, async () => {
    const name = uniq(policy);
    assert.equal((await docker(['run', '-d', '--name', name, '--restart', policy, 'busybox', 'sh', '-c', 'sleep 0.2; exit 0'])).code, 0);
    await waitState(name, (x) => x.RestartCount >= 3, 'restart count 3');
    const stop = await docker(['stop', '-t', '2', name]);
    assert.equal(stop.code, 0, stop.stderr);
    const stopped = await waitState(name, (x) => x.Status === 'exited', 'exited after stop');
    await settle();
    const later = await state(name);
    assert.equal(later.Status, 'exited', 'docker stop keeps it down');
    assert.equal(later.RestartCount, stopped.RestartCount, 'no restart after docker stop');
    // docker start brings it back into its policy.
    assert.equal((await docker(['start', name])).code, 0);
    await waitState(name, (x) => x.RestartCount > later.RestartCount, 'restarting again after docker start');
    await docker(['rm', '-f', name]);
  });
}

test('back-off: a crash-looping always container shows "restarting" between runs', async () => {
  const name = uniq('backoff');
  await docker(['run', '-d', '--name', name, '--restart', 'always', 'busybox', 'sh', '-c', 'exit 2']);
  const s = await waitState(name, (x) => x.Status === 'restarting' && x.RestartCount >= 2, 'restarting state');
  assert.equal(s.ExitCode, 2);
  assert.equal(s.Running, false);
  const ev = await docker(['events', '--since', '0', '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', `container=${name}`, '--format', '{{.Action}}']);
  const actions = ev.stdout.trim().split('\n');
  assert.ok(actions.filter((a) => a === 'start').length >= 3, `a start event per run: ${ev.stdout}`);
  assert.ok(!actions.includes('restart'), 'dockerd sends no restart event for a policy restart');
  await docker(['rm', '-f', name]);
  assert.notEqual((await docker(['inspect', name])).code, 0, 'rm -f removes a restarting container');
});

test('no (the default) never restarts', async () => {
  const name = uniq('never');
  await docker(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'exit 5']);
  await waitState(name, (x) => x.Status === 'exited', 'exited');
  await settle();
  const s = await state(name);
  assert.deepEqual([s.Status, s.ExitCode, s.RestartCount], ['exited', 5, 0]);
  const insp = await docker(['inspect', '-f', '{{.HostConfig.RestartPolicy.Name}}', name]);
  assert.match(insp.stdout.trim(), /^(no|)$/);
  await docker(['rm', name]);
});
