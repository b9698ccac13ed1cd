// docker commit of a container that exits while the commit starts (docker-py's
// CommitTest: start, then commit at once with pause=True). dockerd skips the
// pause for a container that is no longer running; tug's commit freezes a
// running container, and must then commit one that exited meanwhile rather than
// answer 409 "container not running".
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

before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d.stop();
});

test('commit right after start succeeds whether the container still runs or has just exited', async () => {
  const { stdout } = await promisify(execFile)('python3', [join(pyDir, 'commit_exiting.py'), randomBytes(4).toString('hex')], { env: d.env, timeout: 240_000 });
  const r = JSON.parse(stdout) as { ok: number; errors: string[] };
  assert.deepEqual(r.errors, []);
  assert.equal(r.ok, 12);
});
