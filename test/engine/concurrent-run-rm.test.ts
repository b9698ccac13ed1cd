// Many `docker run --rm` at once, each a process that exits at once: every one
// exits 0 and leaves no container behind. A short-lived init used to race the
// exec-fifo start (about 1 in 100 failed with "cannot start a container that
// has stopped"); test/runtime/exec-fifo.test.ts pins that race down exactly,
// this one checks the whole path under the load that showed it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';
import { runCommand } from '../helpers/run-command.js';

const ROUNDS = 4;
const AT_ONCE = 50;

let d: TestDaemon;

before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d?.stop();
});

test(`${ROUNDS} rounds of ${AT_ONCE} concurrent docker run --rm busybox true: all exit 0, nothing left`, async () => {
  const failures: string[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const runs = await Promise.all(
      Array.from({ length: AT_ONCE }, () => runCommand('docker', ['run', '--rm', 'busybox', 'true'], { env: d.env, guardMs: 300_000 })),
    );
    runs.forEach((r, i) => {
      if (r.code !== 0) failures.push(`round ${round} #${i}: exit ${r.code}: ${r.stderr.trim()}`);
    });
  }
  assert.deepEqual(failures, [], `${failures.length} of ${ROUNDS * AT_ONCE} failed`);
  const left = await runCommand('docker', ['ps', '-a', '-q'], { env: d.env });
  assert.equal(left.code, 0, left.stderr);
  assert.equal(left.stdout.trim(), '', 'docker ps -a should list nothing after --rm runs');
});
