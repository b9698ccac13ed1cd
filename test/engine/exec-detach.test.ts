// Detaching from an exec through docker-py against a real tug daemon
// (py/exec_detach.py): found by docker-py's own ExecTest.test_detach_with_*,
// which dockerd 20.10 passes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';

const pyDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/engine/py');
let d: TestDaemon;
let r: any;

before(async () => {
  d = await startTestDaemon();
  const { stdout } = await promisify(execFile)('python3', [join(pyDir, 'exec_detach.py'), randomBytes(4).toString('hex')], { env: d.env, timeout: 240_000 });
  r = JSON.parse(stdout);
});
after(async () => {
  await d.stop();
});

test('the detach keys close the client\'s connection at once and leave the exec running', () => {
  assert.deepEqual(r.default, { closed: true, echoed: true, still_running: true, detach_keys: '' });
});

test('detach keys given to exec_create, or read from the config file (sent as detachKeys), are the ones honoured', () => {
  assert.deepEqual(r.given, { closed: true, echoed: true, still_running: true, detach_keys: 'ctrl-x,y' });
  assert.deepEqual(r.config_file, { closed: true, echoed: true, still_running: true, detach_keys: 'ctrl-p' });
});

test('a sequence broken off half-way is passed to the process and does not detach', () => {
  // ctrl-x z is typed into cat; ctrl-x y then detaches.
  assert.deepEqual(r.partial_passes, { closed: true, echoed: true, still_running: true, detach_keys: 'ctrl-x,y' });
});

test('malformed detach keys are refused at create, naming the key', () => {
  assert.deepEqual(r.bad_keys, { status: 400, explanation: "Invalid detach keys (ctrl-xx) provided: unknown key 'ctrl-xx'" });
  assert.equal(r.container_running, true);
});
