// Two answers docker-py's integration suite needs that are not about running
// containers: POST /swarm/leave on an engine without swarm mode (dockerd: 503
// "This node is not part of a swarm", which docker-py's leave_swarm(force=True)
// accepts; every network test tears down with it), and HostConfig.VolumeDriver
// kept as given. Through docker-py against a real tug daemon.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';

const pyDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/engine/py');
let d: TestDaemon;

before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d.stop();
});

test('leave_swarm answers as a node outside any swarm; VolumeDriver is kept', async () => {
  const { stdout } = await promisify(execFile)('python3', [join(pyDir, 'swarm_volume_driver.py')], { env: d.env, timeout: 120_000 });
  assert.deepEqual(JSON.parse(stdout), { left: true, leave_unforced: [503, 'This node is not part of a swarm'], volume_driver: 'foo' });
});
