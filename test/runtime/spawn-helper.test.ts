// Tools spawned through the spawn helper behave as spawned in-process:
// output, stdin, env, cwd, exit codes, spawn errors; and a lost helper is
// replaced by the next request; containers' conmons launched there.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { installSpawnHelper, uninstallSpawnHelper } from '../../src/runtime/spawner/spawn-helper.js';
import { runTool, spawnTool } from '../../src/util/exec-file.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { makeBundle, pathExists, randomId } from './bundle-helper.js';

after(() => uninstallSpawnHelper());

test('runTool through the helper: the helper is the parent; stdout, stdin, env, cwd and exit codes come back', async () => {
  const helper = installSpawnHelper()!;
  assert.ok(helper, 'installed');
  const ppid = await runTool('sh', ['-c', 'echo $PPID']);
  assert.equal(Number(ppid.stdout.trim()), helper.pid, 'spawned by the helper, not by this process');
  assert.notEqual(helper.pid, process.pid);
  const echo = await runTool('sh', ['-c', 'cat; echo "$TUG_X"; pwd'], { input: 'from-stdin\n', env: { ...process.env, TUG_X: 'env-value' }, cwd: tmpdir() });
  assert.equal(echo.stdout, `from-stdin\nenv-value\n${await realpath(tmpdir())}\n`);
  const bin = await spawnTool('sh', ['-c', 'printf "\\001\\377"'], {});
  assert.deepEqual([...bin.stdout], [1, 255]);
  const failed = await runTool('sh', ['-c', 'echo oops >&2; exit 3'], { allowFailure: true });
  assert.deepEqual([failed.code, failed.stderr], [3, 'oops\n']);
  await assert.rejects(runTool('sh', ['-c', 'echo why-it-failed >&2; exit 1']), /why-it-failed/);
  await assert.rejects(runTool('/nonexistent/tug-tool', []), (err: NodeJS.ErrnoException) => err.code === 'ENOENT');
  const killed = await spawnTool('sh', ['-c', 'kill -TERM $$'], {});
  assert.deepEqual([killed.code, killed.signal], [null, 'SIGTERM']);
});

test('a helper that dies fails what was in flight; the next request starts a new one', async () => {
  const helper = installSpawnHelper()!;
  await runTool('true', []);
  const first = helper.pid!;
  const dir = await mkdtemp(join(tmpdir(), 'tug-spawn-'));
  const pidFile = join(dir, 'pid');
  try {
    // The in-flight tool writes its PID, so the test can end it: SIGKILL of the helper orphans it.
    const inFlight = runTool('sh', ['-c', `echo $$ > ${pidFile}; exec sleep 30`]);
    let toolPid = 0;
    for (let i = 0; i < 200 && !toolPid; i++) {
      toolPid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
      if (!toolPid) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(toolPid > 0, 'the tool started');
    process.kill(first, 'SIGKILL'); // only the helper this test's process started
    await assert.rejects(inFlight, /spawn helper exited/);
    process.kill(toolPid, 'SIGKILL'); // and the tool it left behind
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const r = await runTool('sh', ['-c', 'echo $PPID']);
  assert.equal(Number(r.stdout.trim()), helper.pid);
  assert.notEqual(helper.pid, first);
});

test('a container through the helper: its conmon is launched there, the pid and exit code come back, and runc\'s error too', async () => {
  uninstallSpawnHelper();
  const helper = installSpawnHelper()!;
  assert.equal(helper.pid, undefined, 'no helper process before the first request');
  const b = await makeBundle(['sh', '-c', 'exit 7']);
  const bad = await makeBundle(['nosuch-binary']);
  const rt = new Runtime({ stateDir: b.stateDir });
  const id = randomId();
  const badId = randomId();
  try {
    const { pid } = await rt.create(id, { bundleDir: b.bundleDir, tty: false, openStdin: false, logPath: b.logPath });
    assert.ok(helper.pid, 'the create went through the helper');
    assert.deepEqual(await rt.state(id), { status: 'created', pid });
    await rt.start(id);
    assert.equal((await rt.waitExit(id)).exitCode, 7);
    const badRt = new Runtime({ stateDir: bad.stateDir });
    await assert.rejects(badRt.create(badId, { bundleDir: bad.bundleDir, tty: false, openStdin: false, logPath: bad.logPath }), /nosuch-binary/);
    assert.equal(await pathExists(badRt.layout.containerDir(badId)), false, 'a failed create leaves no monitor files');
  } finally {
    await rt.delete(id, { force: true });
    await b.cleanup();
    await bad.cleanup();
  }
});
