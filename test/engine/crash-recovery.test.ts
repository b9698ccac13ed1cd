// Crash safety: kill -9 the daemon while one container runs on and another
// exits (code 42) during the outage; the restarted daemon must list every
// image, volume and container exactly once, with real states and exit codes,
// and keep managing the survivor.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';
import { runCommand, type CommandResult } from '../helpers/run-command.js';

let d: TestDaemon | undefined;
let ctlDir: string | undefined;

type Result = CommandResult;
const docker = (args: string[]): Promise<Result> => runCommand('docker', args, { env: d!.env, guardMs: 120_000 });
async function ok(args: string[]): Promise<string> {
  const r = await docker(args);
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}
const lines = (s: string): string[] => s.split('\n').filter(Boolean).sort();

after(async () => {
  await d?.stop();
  if (ctlDir) await rm(ctlDir, { recursive: true, force: true });
});

test('kill -9 of the daemon loses nothing: survivor keeps running, exit during the outage is recorded', async () => {
  d = await startTestDaemon();
  ctlDir = await mkdtemp(join(tmpdir(), 'tug-crash-ctl-'));
  const sfx = randomBytes(4).toString('hex');
  const survivor = `survivor-${sfx}`;
  const quitter = `quitter-${sfx}`;
  const created = `created-${sfx}`;
  const exited = `exited-${sfx}`;
  const vol = `vol-${sfx}`;
  const tag = `crashimg-${sfx}:v1`;

  await ok(['tag', 'busybox', tag]);
  await ok(['volume', 'create', vol]);
  await ok(['run', '-d', '--name', survivor, '-v', `${vol}:/data`, 'busybox', 'sh', '-c', 'trap "exit 0" TERM; i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.3; done']);
  // Exits 42 once the test drops a file into its bind-mounted control dir.
  await ok(['run', '-d', '--name', quitter, '-v', `${ctlDir}:/ctl`, 'busybox', 'sh', '-c', 'while [ ! -f /ctl/go ]; do sleep 0.1; done; exit 42']);
  await ok(['create', '--name', created, 'busybox', 'true']);
  assert.equal((await docker(['run', '--name', exited, 'busybox', 'sh', '-c', 'exit 3'])).code, 3);
  const quitterPid = Number(await ok(['inspect', '-f', '{{.State.Pid}}', quitter]));
  const survivorPid = Number(await ok(['inspect', '-f', '{{.State.Pid}}', survivor]));
  assert.ok(quitterPid > 0 && survivorPid > 0);
  const imagesBefore = lines(await ok(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']));
  const psBefore = lines(await ok(['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Names}}']));

  await d.crash();
  // While the daemon is down: the quitter exits 42, the survivor keeps running.
  await writeFile(join(ctlDir, 'go'), '');
  let gone = false;
  for (let i = 0; i < 300 && !gone; i++) {
    gone = await access(`/proc/${quitterPid}`).then(() => false, () => true);
    if (!gone) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(gone, 'the quitter exited while the daemon was down');
  await access(`/proc/${survivorPid}`); // still alive without the daemon

  await d.restart();

  assert.deepEqual(lines(await ok(['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Names}}'])), psBefore, 'every container listed once, none lost');
  assert.deepEqual(lines(await ok(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'])), imagesBefore, 'images unchanged');
  assert.deepEqual(lines(await ok(['volume', 'ls', '-q'])), [vol]);

  assert.equal(await ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', quitter]), 'exited 42');
  assert.match(await ok(['ps', '-a', '--filter', `name=${quitter}`, '--format', '{{.Status}}']), /^Exited \(42\)/);
  assert.equal(await ok(['inspect', '-f', '{{.State.Status}}', created]), 'created');
  assert.equal(await ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', exited]), 'exited 3');

  assert.equal(await ok(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', survivor]), `running ${survivorPid}`, 'the same process, not a restart');
  assert.equal(await ok(['exec', survivor, 'sh', '-c', 'echo via-exec > /data/f; cat /data/f']), 'via-exec');
  const before = (await ok(['logs', survivor])).split('\n').length;
  let after2 = before;
  for (let i = 0; i < 100 && after2 <= before; i++) {
    await new Promise((r) => setTimeout(r, 100));
    after2 = (await ok(['logs', survivor])).split('\n').length;
  }
  assert.ok(after2 > before, 'logs keep coming from the survivor after recovery');
  await ok(['stop', '-t', '5', survivor]);
  assert.equal(await ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', survivor]), 'exited 0');
  await assert.rejects(access(`/proc/${survivorPid}`), 'stop after recovery really ends the process');

  const fresh = await ok(['run', '-d', '--name', `fresh-${sfx}`, 'busybox', 'sleep', '30']);
  assert.match(fresh, /^[0-9a-f]{64}$/);
  assert.equal(await ok(['inspect', '-f', '{{.State.Status}}', `fresh-${sfx}`]), 'running');
  assert.equal(await ok(['run', '--rm', '-v', `${vol}:/data`, 'busybox', 'cat', '/data/f']), 'via-exec', 'volume data survived');
});
