// Container lifecycle through real conmon + runc: create/start/wait, separate
// stdout/stderr, runc's own error for a missing binary, kill, pause/resume,
// top, update, delete. Each test builds its own bundle and state dir.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { Runtime } from '../../src/runtime/runtime.js';
import { isKind, TugError } from '../../src/errdefs.js';
import { makeBundle, randomId, collect, cgroupLeftovers, pathExists, type TestBundle } from './bundle-helper.js';

async function teardown(rt: Runtime, id: string, b: TestBundle): Promise<void> {
  await rt.delete(id, { force: true });
  assert.deepEqual(await cgroupLeftovers(b.cgroupName), [], 'cgroups removed');
  assert.equal(await pathExists(rt.layout.containerDir(id)), false, 'monitor files removed');
  await b.cleanup();
}

test('create, attach, start and wait: exit code 3, stdout and stderr kept apart', async () => {
  const b = await makeBundle(['sh', '-c', 'echo to-out; echo to-err >&2; exit 3']);
  const rt = new Runtime({ stateDir: b.stateDir });
  const id = randomId();
  try {
    const { pid } = await rt.create(id, { bundleDir: b.bundleDir, tty: false, openStdin: false, logPath: b.logPath });
    assert.ok(pid > 0);
    assert.deepEqual(await rt.state(id), { status: 'created', pid });
    const a = await rt.attach(id, { stdin: false });
    assert.equal(a.stdin, null);
    const out = collect(a.stdout);
    const err = collect(a.stderr);
    await rt.start(id);
    const exit = await rt.waitExit(id);
    assert.equal(exit.exitCode, 3);
    assert.equal(exit.oomKilled, false);
    assert.match(exit.finishedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    await Promise.all([out.ended, err.ended]);
    assert.equal(out.text(), 'to-out\n');
    assert.equal(err.text(), 'to-err\n');
    const log = await readFile(b.logPath, 'utf8');
    assert.match(log, /^\S+ stdout F to-out$/m);
    assert.match(log, /^\S+ stderr F to-err$/m);
    assert.deepEqual(await rt.readExit(id), exit);
    assert.equal((await rt.state(id)).status, 'stopped');
    await assert.rejects(
      rt.create(id, { bundleDir: b.bundleDir, tty: false, openStdin: false, logPath: b.logPath }),
      (e: unknown) => isKind(e, 'already-exists'),
    );
  } finally {
    await teardown(rt, id, b);
  }
});

test('a missing binary fails create with runc\'s message and leaves nothing behind', async () => {
  const b = await makeBundle(['nosuch-binary']);
  const rt = new Runtime({ stateDir: b.stateDir });
  const id = randomId();
  try {
    await assert.rejects(
      rt.create(id, { bundleDir: b.bundleDir, tty: false, openStdin: false, logPath: b.logPath }),
      (err: unknown) => {
        assert.ok(err instanceof TugError);
        assert.match(err.message, /exec: "nosuch-binary": executable file not found in \$PATH/);
        assert.equal(err.detail?.exitCode, 127);
        return true;
      },
    );
    assert.deepEqual(await rt.list(), []);
    assert.equal((await rt.state(id)).status, 'absent');
    assert.equal(await pathExists(rt.layout.containerDir(id)), false);
    assert.deepEqual(await readdir(rt.layout.exitDir), []);
    assert.deepEqual(await cgroupLeftovers(b.cgroupName), []);
  } finally {
    await b.cleanup();
  }
});

test('kill with SIGTERM (handled) and SIGKILL gives 143 and 137', async () => {
  const b1 = await makeBundle(['sh', '-c', 'trap "exit 143" TERM; echo ready; while true; do sleep 0.1; done']);
  const b2 = await makeBundle(['sleep', '1000']);
  const rt1 = new Runtime({ stateDir: b1.stateDir });
  const rt2 = new Runtime({ stateDir: b2.stateDir });
  const id1 = randomId();
  const id2 = randomId();
  try {
    await rt1.create(id1, { bundleDir: b1.bundleDir, tty: false, openStdin: false, logPath: b1.logPath });
    const a = await rt1.attach(id1, { stdin: false });
    const out = collect(a.stdout);
    await rt1.start(id1);
    await rt2.create(id2, { bundleDir: b2.bundleDir, tty: false, openStdin: false, logPath: b2.logPath });
    await rt2.start(id2);
    assert.equal((await rt2.state(id2)).status, 'running');
    // wait until the trap is installed
    while (!out.text().includes('ready')) await new Promise((r) => setTimeout(r, 20));
    await rt1.kill(id1, 'TERM');
    await rt2.kill(id2, 9);
    assert.equal((await rt1.waitExit(id1)).exitCode, 143);
    assert.equal((await rt2.waitExit(id2)).exitCode, 137);
    a.close();
    await assert.rejects(rt2.kill(id2, 'SIGNOPE'), (e: unknown) => isKind(e, 'invalid'));
  } finally {
    await teardown(rt1, id1, b1);
    await teardown(rt2, id2, b2);
  }
});

test('pause and resume; top lists the process; update changes resources', async () => {
  const b = await makeBundle(['sleep', '1000']);
  const rt = new Runtime({ stateDir: b.stateDir });
  const id = randomId();
  try {
    const { pid } = await rt.create(id, { bundleDir: b.bundleDir, tty: false, openStdin: false, logPath: b.logPath });
    await rt.start(id);
    await rt.pause(id);
    assert.deepEqual(await rt.state(id), { status: 'paused', pid });
    assert.deepEqual((await rt.list()).map((c) => [c.id, c.status]), [[id, 'paused']]);
    await assert.rejects(rt.delete(id), (e: unknown) => isKind(e, 'conflict'));
    await rt.resume(id);
    assert.deepEqual(await rt.state(id), { status: 'running', pid });

    const top = await rt.top(id);
    assert.deepEqual(top.Titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
    assert.equal(top.Processes.length, 1);
    assert.equal(top.Processes[0]![1], String(pid));
    assert.equal(top.Processes[0]![7], 'sleep 1000');

    await rt.update(id, { pids: { limit: 77 } });
    const limit = await readFile(`/sys/fs/cgroup/pids/${b.cgroupName}/pids.max`, 'utf8');
    assert.equal(limit.trim(), '77');
  } finally {
    await teardown(rt, id, b);
  }
});

test('a container killed by the OOM killer reports oomKilled and 137', async () => {
  const b = await makeBundle(['sh', '-c', 'x=$(head -c 60000000 /dev/zero | tr "\\0" a); echo survived'], {
    mutate: (spec) => (spec.linux.resources = { ...spec.linux.resources, memory: { limit: 16 * 1024 * 1024 } }),
  });
  const rt = new Runtime({ stateDir: b.stateDir });
  const id = randomId();
  try {
    await rt.create(id, { bundleDir: b.bundleDir, tty: false, openStdin: false, logPath: b.logPath });
    await rt.start(id);
    const exit = await rt.waitExit(id);
    assert.equal(exit.oomKilled, true);
    assert.equal(exit.exitCode, 137);
    assert.doesNotMatch(await readFile(b.logPath, 'utf8'), /survived/);
  } finally {
    await teardown(rt, id, b);
  }
});

test('force delete of a paused container, and several containers side by side', async () => {
  const bundles = await Promise.all([1, 2, 3, 4].map((n) => makeBundle(['sh', '-c', `echo c${n}; sleep 1000`])));
  const b0 = bundles[0]!;
  const rt = new Runtime({ stateDir: b0.stateDir });
  const ids = bundles.map(() => randomId());
  try {
    await Promise.all(
      bundles.map(async (b, i) => {
        await rt.create(ids[i]!, { bundleDir: b.bundleDir, tty: false, openStdin: false, logPath: b.logPath });
        await rt.start(ids[i]!);
      }),
    );
    assert.deepEqual((await rt.list()).map((c) => c.id).sort(), [...ids].sort());
    await rt.pause(ids[0]!);
    const waited = rt.waitExit(ids[0]!);
    await rt.delete(ids[0]!, { force: true });
    assert.equal((await waited).exitCode, 137);
    assert.equal((await rt.state(ids[0]!)).status, 'absent');
    assert.deepEqual(await cgroupLeftovers(b0.cgroupName), []);
    for (let i = 1; i < ids.length; i++) assert.equal((await rt.state(ids[i]!)).status, 'running');
  } finally {
    // the Runtime's stateDir lives in the first bundle's dir: remove that one last
    for (let i = ids.length - 1; i >= 0; i--) await teardown(rt, ids[i]!, bundles[i]!);
  }
});

test('a monitor killed on its own: waitExit waits for the container, then reports 255', async () => {
  const b = await makeBundle(['sleep', '1000']);
  const rt = new Runtime({ stateDir: b.stateDir });
  const id = randomId();
  try {
    await rt.create(id, { bundleDir: b.bundleDir, tty: false, openStdin: false, logPath: b.logPath });
    await rt.start(id);
    const conmonPid = Number(await readFile(rt.layout.conmonPidFile(id), 'utf8'));
    process.kill(conmonPid, 'SIGKILL');
    let settled = false;
    const waited = rt.waitExit(id).finally(() => (settled = true));
    // give the poll a few rounds: the container still runs, so no answer yet
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(settled, false);
    assert.equal((await rt.state(id)).status, 'running');
    await rt.kill(id, 'KILL');
    assert.equal((await waited).exitCode, 255);
  } finally {
    await teardown(rt, id, b);
  }
});

test('delete is idempotent and unknown ids are reported', async () => {
  const b = await makeBundle(['true']);
  const rt = new Runtime({ stateDir: b.stateDir });
  const id = randomId();
  try {
    await rt.delete(id);
    await rt.delete(id, { force: true });
    await assert.rejects(rt.waitExit(id), (e: unknown) => isKind(e, 'not-found'));
    await assert.rejects(rt.attach(id, { stdin: false }), (e: unknown) => isKind(e, 'not-found'));
    await assert.rejects(rt.start(id), (e: unknown) => isKind(e, 'not-found'));
    await assert.rejects(rt.create('../x', { bundleDir: b.bundleDir, tty: false, openStdin: false, logPath: b.logPath }), (e: unknown) =>
      isKind(e, 'invalid'),
    );
    assert.equal(await rt.readExit(id), null);
  } finally {
    await b.cleanup();
  }
});

test('timing: create + start + wait of `true`', async (t) => {
  const b = await makeBundle(['true']);
  const rt = new Runtime({ stateDir: b.stateDir });
  const id = randomId();
  try {
    const t0 = process.hrtime.bigint();
    await rt.create(id, { bundleDir: b.bundleDir, tty: false, openStdin: false, logPath: b.logPath });
    await rt.start(id);
    const exit = await rt.waitExit(id);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    assert.equal(exit.exitCode, 0);
    t.diagnostic(`create+start+wait of true: ${ms.toFixed(1)} ms`);
  } finally {
    await teardown(rt, id, b);
  }
});
