// The OCI runtime binary: TUG_RUNC chooses it. A missing runc stops the daemon
// at preflight with one line naming runc and the apt-get fix; a wrapper given
// through TUG_RUNC is the one conmon really runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, chmod, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startTestDaemon, tugBin } from '../helpers/tug-daemon.js';

interface Result { code: number; stdout: string; stderr: string }
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Result> {
  return new Promise((res) => {
    execFile(cmd, args, { env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as any).code === 'number' ? (err as any).code : -1) : 0;
      res({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

test('TUG_RUNC pointing at a missing file: the daemon refuses to start, naming runc and the fix', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tug-norunc-'));
  const bridge = `tugr${randomBytes(3).toString('hex')}`;
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, TUG_RUNC: join(dir, 'no', 'runc') };
    delete env.NODE_TEST_CONTEXT; // a plain daemon, not a test-runner child
    const r = await run(process.execPath, [tugBin, 'daemon', '--root', join(dir, 'root'), '--socket', join(dir, 'tug.sock'), '--bridge', bridge, '--subnet', '10.249.251.0/24', '--ui-addr', 'off'], env);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line: ${r.stderr}`);
    assert.match(lines[0]!, /runc/);
    assert.ok(lines[0]!.includes(join(dir, 'no', 'runc')), 'names the path it looked at');
    assert.match(lines[0]!, /apt-get install runc/);
    await assert.rejects(access(join(dir, 'tug.sock')), 'no socket was opened');
    await assert.rejects(access(join(dir, 'root')), 'no state was made');
    const link = await run('ip', ['link', 'show', bridge], process.env);
    assert.notEqual(link.code, 0, 'no bridge was made');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('TUG_RUNC pointing at a wrapper: containers run through it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tug-runcwrap-'));
  const wrapper = join(dir, 'runc-wrapper');
  const calls = join(dir, 'calls');
  await writeFile(wrapper, `#!/bin/sh\necho "$@" >> ${calls}\nexec /usr/bin/runc "$@"\n`);
  await chmod(wrapper, 0o755);
  const saved = process.env.TUG_RUNC;
  process.env.TUG_RUNC = wrapper; // the daemon inherits it at spawn
  let d;
  try {
    d = await startTestDaemon();
  } finally {
    if (saved === undefined) delete process.env.TUG_RUNC;
    else process.env.TUG_RUNC = saved;
  }
  try {
    const r = await run('docker', ['run', '--rm', 'busybox', 'echo', 'through-wrapper'], d.env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'through-wrapper');
    const log = await readFile(calls, 'utf8');
    assert.match(log, /\bcreate\b/, `runc create went through the wrapper: ${log}`);
  } finally {
    await d.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
