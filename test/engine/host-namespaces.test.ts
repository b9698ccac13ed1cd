// docker run --pid host / --ipc host / --pid container:<id> against a tug
// daemon with the real docker CLI: the container shares the host's (or the
// other container's) namespace instead of getting its own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';
import { runCommand } from '../helpers/run-command.js';

let d: TestDaemon;
const sfx = randomBytes(3).toString('hex');

const docker = (...args: string[]): ReturnType<typeof runCommand> => runCommand('docker', args, { env: d.env });
async function ok(...args: string[]): Promise<string> {
  const r = await docker(...args);
  assert.equal(r.code, 0, `docker ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** POST /containers/create with a raw body: the CLI checks some modes itself before sending. */
function createRaw(body: object): Promise<{ status: number; message: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: d.socket, path: '/v1.45/containers/create', method: 'POST', headers: { 'Content-Type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (b: Buffer) => (text += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, message: (JSON.parse(text) as { message?: string; Id?: string }).message ?? '' }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d?.stop();
});

test('--pid host: the container sees host processes and is in the host PID namespace', async () => {
  const hostNs = await readlink('/proc/self/ns/pid');
  const out = await ok('run', '--rm', '--pid', 'host', 'busybox', 'sh', '-c', `readlink /proc/self/ns/pid; test -d /proc/${process.pid} && echo sees-test-pid`);
  assert.deepEqual(out.split('\n'), [hostNs, 'sees-test-pid']);
  const created = await ok('create', '--pid', 'host', 'busybox');
  assert.equal(await ok('inspect', '-f', '{{.HostConfig.PidMode}}', created), 'host');
  await ok('rm', created);
  // Without it: a namespace of its own, where the test's PID is not visible.
  const priv = await ok('run', '--rm', 'busybox', 'sh', '-c', `readlink /proc/self/ns/pid; test -d /proc/${process.pid} && echo sees-test-pid || echo private`);
  assert.notEqual(priv.split('\n')[0], hostNs);
  assert.equal(priv.split('\n')[1], 'private');
});

test('--ipc host: the host IPC namespace and the host /dev/shm', async () => {
  const hostNs = await readlink('/proc/self/ns/ipc');
  const file = `/dev/shm/tug-ipc-${sfx}`;
  await writeFile(file, 'shared');
  try {
    const out = await ok('run', '--rm', '--ipc', 'host', 'busybox', 'sh', '-c', `readlink /proc/self/ns/ipc; cat /dev/shm/tug-ipc-${sfx}; echo; echo back > /dev/shm/tug-ipc-${sfx}-back`);
    assert.deepEqual(out.split('\n'), [hostNs, 'shared']);
    const priv = await ok('run', '--rm', 'busybox', 'sh', '-c', `readlink /proc/self/ns/ipc; test -e /dev/shm/tug-ipc-${sfx} && echo leaked || echo private`);
    assert.notEqual(priv.split('\n')[0], hostNs);
    assert.equal(priv.split('\n')[1], 'private');
    assert.equal(await readFile(`${file}-back`, 'utf8'), 'back\n', 'what the container writes to /dev/shm lands on the host');
  } finally {
    await rm(file, { force: true });
    await rm(`${file}-back`, { force: true });
  }
});

test('--pid container:<name> joins the other container\'s PID namespace', async () => {
  const target = `pid-target-${sfx}`;
  await ok('run', '-d', '--name', target, 'busybox', 'sleep', '4242');
  try {
    const out = await ok('run', '--rm', '--pid', `container:${target}`, 'busybox', 'ps', '-o', 'pid,args');
    assert.match(out, /^\s*1\s+sleep 4242$/m, out);
    assert.equal(await ok('inspect', '-f', '{{.HostConfig.PidMode}}', (await ok('create', '--name', `pid-joiner-${sfx}`, '--pid', `container:${target}`, 'busybox')).trim()),
      `container:${await ok('inspect', '-f', '{{.Id}}', target)}`, 'the mode is pinned to the target\'s full id');
  } finally {
    await docker('rm', '-f', target, `pid-joiner-${sfx}`);
  }
});

test('bad PID modes are refused in Docker\'s words', async () => {
  const bogus = await createRaw({ Image: 'busybox', HostConfig: { PidMode: 'bogus' } });
  assert.deepEqual(bogus, { status: 400, message: 'invalid PID mode: bogus' });
  const missing = await createRaw({ Image: 'busybox', HostConfig: { PidMode: `container:nope-${sfx}` } });
  assert.equal(missing.status, 400);
  assert.match(missing.message, new RegExp(`PidMode: No such container: nope-${sfx}`));
});
