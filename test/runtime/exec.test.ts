// docker exec through conmon's exec mode: exit codes, separate streams, tty,
// stdin, and Docker's 126/127 for processes that cannot start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Runtime, type ExecProcess } from '../../src/runtime/runtime.js';
import { isKind } from '../../src/errdefs.js';
import { makeBundle, randomId, collect, until, cgroupLeftovers, pathExists } from './bundle-helper.js';

function proc(args: string[]): ExecProcess {
  return { args, env: ['PATH=/bin', 'HOME=/root'], cwd: '/', user: { uid: 0, gid: 0 }, terminal: false };
}

test('exec: non-tty and tty exit codes, stdout/stderr apart, stdin, missing binary', async () => {
  const b = await makeBundle(['sleep', '1000']);
  const rt = new Runtime({ stateDir: b.stateDir });
  const id = randomId();
  try {
    await rt.create(id, { bundleDir: b.bundleDir, tty: false, openStdin: false, logPath: b.logPath });
    await rt.start(id);

    const s1 = await rt.exec(id, proc(['sh', '-c', 'echo out; echo err >&2; exit 7']), { tty: false, stdin: false });
    assert.ok(s1.pid > 0);
    const o1 = collect(s1.stdout);
    const e1 = collect(s1.stderr);
    assert.equal(await s1.wait(), 7);
    assert.equal(o1.text(), 'out\n');
    assert.equal(e1.text(), 'err\n');

    const s2 = await rt.exec(id, proc(['sh', '-c', 'tty; read x; stty size; exit 5']), { tty: true, stdin: true });
    assert.equal(s2.stderr, null);
    const o2 = collect(s2.stdout);
    await until(() => o2.text().includes('/dev/pts/'), 'exec tty output');
    await s2.resize(90, 30);
    s2.stdin!.write('go\n');
    assert.equal(await s2.wait(), 5);
    assert.match(o2.text(), /^30 90\r?$/m);

    const s3 = await rt.exec(id, proc(['cat']), { tty: false, stdin: true });
    const o3 = collect(s3.stdout);
    s3.stdin!.end('piped\n');
    assert.equal(await s3.wait(), 0);
    assert.equal(o3.text(), 'piped\n');

    const s6 = await rt.exec(
      id,
      { ...proc(['sh', '-c', 'echo $(id -u):$(id -g):$(pwd):$FOO']), env: ['PATH=/bin', 'FOO=bar'], cwd: '/tmp', user: { uid: 65534, gid: 65534 } },
      { tty: false, stdin: false },
    );
    const o6 = collect(s6.stdout);
    assert.equal(await s6.wait(), 0);
    assert.equal(o6.text(), '65534:65534:/tmp:bar\n');

    const s4 = await rt.exec(id, proc(['nosuch']), { tty: false, stdin: false });
    const e4 = collect(s4.stderr);
    assert.equal(await s4.wait(), 127);
    await e4.ended;
    assert.match(e4.text(), /exec: "nosuch": executable file not found in \$PATH/);

    const s5 = await rt.exec(id, proc(['/etc/passwd']), { tty: false, stdin: false });
    const e5 = collect(s5.stderr);
    assert.equal(await s5.wait(), 126);
    await e5.ended;
    assert.match(e5.text(), /permission denied/);

    // exec sessions clean up after themselves
    const xdir = join(rt.layout.containerDir(id), 'x');
    assert.deepEqual(await readdir(xdir), []);
    // the container's own log is untouched by exec output
    assert.equal((await rt.state(id)).status, 'running');
  } finally {
    await rt.delete(id, { force: true });
    assert.deepEqual(await cgroupLeftovers(b.cgroupName), []);
    await b.cleanup();
  }
});

test('exec into a stopped or unknown container is refused', async () => {
  const b = await makeBundle(['true']);
  const rt = new Runtime({ stateDir: b.stateDir });
  const id = randomId();
  try {
    await assert.rejects(rt.exec(id, proc(['true']), { tty: false, stdin: false }), (e: unknown) => isKind(e, 'not-found'));
    await rt.create(id, { bundleDir: b.bundleDir, tty: false, openStdin: false, logPath: b.logPath });
    await rt.start(id);
    await rt.waitExit(id);
    await assert.rejects(rt.exec(id, proc(['true']), { tty: false, stdin: false }), (e: unknown) => isKind(e, 'conflict'));
  } finally {
    await rt.delete(id, { force: true });
    assert.equal(await pathExists(rt.layout.containerDir(id)), false);
    await b.cleanup();
  }
});
