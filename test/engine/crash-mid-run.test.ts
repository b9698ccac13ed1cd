// kill -9 of the daemon in the middle of several `docker run`s: whatever the
// interleaving, the restarted daemon holds each container once, in a state it
// can back up (running with a live process, or not running and holding no
// mount, netns or cgroup), and every one of them can be started and removed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, access } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';
import { runCommand, type CommandResult } from '../helpers/run-command.js';

let d: TestDaemon | undefined;

type Result = CommandResult;
const docker = (args: string[]): Promise<Result> => runCommand('docker', args, { env: d!.env, guardMs: 120_000 });
/** Mounts, netns and cgroups the daemon holds for one container id. */
async function heldFor(id: string): Promise<string[]> {
  const out: string[] = [];
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  for (const line of mountinfo.split('\n')) if (line.includes(d!.root) && line.includes(id)) out.push(`mount ${line.split(' ')[4]}`);
  if (await access(join(d!.root, 'network', 'netns', id)).then(() => true, () => false)) out.push('netns');
  const parent = `tug-${createHash('sha256').update(d!.root).digest('hex').slice(0, 10)}`;
  for (const ctrl of ['memory', 'cpu', 'pids']) {
    if (await access(`/sys/fs/cgroup/${ctrl}/${parent}/${id}`).then(() => true, () => false)) out.push(`cgroup ${ctrl}`);
  }
  return out;
}

after(async () => {
  await d?.stop();
});

test('kill -9 during parallel docker runs: consistent records, nothing held by containers that are not running', async () => {
  d = await startTestDaemon();
  const sfx = randomBytes(4).toString('hex');
  const names = Array.from({ length: 5 }, (_, i) => `mid${i}-${sfx}`);
  const runs = names.map((n, i) => docker(['run', '-d', '--name', n, '-v', `midvol${i}-${sfx}:/d`, 'busybox', 'sleep', '300']));
  // Crash as soon as the first record exists: the others are somewhere in create or start.
  for (let i = 0; i < 600; i++) {
    const ps = await docker(['ps', '-aq']);
    if (ps.stdout.trim()) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await d.crash();
  await Promise.all(runs); // the clients fail or finish; either way they are done
  await d.restart();

  const listed = (await docker(['ps', '-a', '--format', '{{.Names}}'])).stdout.split('\n').filter(Boolean);
  assert.ok(listed.length >= 1, 'the record that existed before the crash is still there');
  assert.equal(new Set(listed).size, listed.length, `no duplicates: ${listed.join(' ')}`);
  for (const n of listed) assert.ok(names.includes(n), `unexpected container ${n}`);

  for (const n of listed) {
    const [id, status, pid] = (await docker(['inspect', '-f', '{{.Id}} {{.State.Status}} {{.State.Pid}}', n])).stdout.trim().split(' ');
    if (status === 'running') {
      await access(`/proc/${pid}`);
      assert.equal((await docker(['exec', n, 'echo', 'ok'])).stdout.trim(), 'ok');
    } else {
      assert.match(status!, /^(created|exited)$/, `${n} is ${status}`);
      assert.deepEqual(await heldFor(id!), [], `${n} (${status}) holds nothing`);
      const start = await docker(['start', n]);
      assert.equal(start.code, 0, `${n} can be started after the crash: ${start.stderr}`);
      const ex = await docker(['exec', n, 'sh', '-c', 'echo ok > /d/f; cat /d/f']);
      const st = (await docker(['inspect', '-f', '{{json .State}}', n])).stdout;
      assert.equal(ex.stdout.trim(), 'ok', `exec in restarted ${n} (was ${status}): ${ex.code} ${ex.stderr} state ${st}`);
    }
  }
  const rm = await docker(['rm', '-f', ...listed]);
  assert.equal(rm.code, 0, rm.stderr);
  const ids = (await docker(['ps', '-aq'])).stdout.trim();
  assert.equal(ids, '', 'all removed');
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  assert.ok(!mountinfo.includes(d.root), 'no mount left under the daemon root');
  assert.deepEqual(await readdir(join(d.root, 'network', 'netns')).catch(() => []), []);
});
