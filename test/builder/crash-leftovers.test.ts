// A daemon killed in the middle of a RUN: after restart, the next build clears
// the step container, its overlay and the scratch dirs, and the cache still works.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { tugBin } from '../helpers/tug-daemon.js';
import { buildEnv, type BuildEnv } from './helpers.js';

let e: BuildEnv;
before(async () => {
  e = await buildEnv();
});
after(async () => {
  await e?.close();
});

test('a crash mid-RUN leaves nothing once the daemon is back and builds again', async () => {
  const ctx = await e.context({ Dockerfile: 'FROM busybox\nCOPY a.txt /a.txt\nRUN echo started && sleep 300\n', 'a.txt': 'a\n' });
  const client = spawn(process.execPath, [tugBin, 'build', '--progress=plain', ctx], { env: e.d.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const clientDone = new Promise((r) => client.once('close', r));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    client.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (/^started$/m.test(out)) resolve();
    });
    client.once('close', () => reject(new Error(`build ended before its RUN started: ${out}`)));
  });
  await e.d.crash();
  await clientDone;
  await e.d.restart();
  const again = await e.tug(['build', '--progress=plain', await e.context({ Dockerfile: 'FROM busybox\nCOPY a.txt /a.txt\n', 'a.txt': 'a\n' })]);
  assert.equal(again.code, 0, again.stderr + again.stdout);
  assert.match(again.stdout, /Using cache/, 'the COPY made before the crash is still cached');
  await e.assertClean();
});
