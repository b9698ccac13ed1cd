// Volume mounts of one directory of a volume (VolumeOptions.Subpath, Engine
// API 1.45) through docker-py against a real tug daemon (py/volume_subpath.py).
// Found by docker-py's own VolumeBindTest.test_create_with_subpath_volume_mount.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';

const pyDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/engine/py');
let d: TestDaemon;
let r: any;

before(async () => {
  d = await startTestDaemon();
  const { stdout } = await promisify(execFile)('python3', [join(pyDir, 'volume_subpath.py'), randomBytes(4).toString('hex')], { env: d.env, timeout: 240_000 });
  r = JSON.parse(stdout);
});
after(async () => {
  await d.stop();
});

test('a volume mounted by its subpath shows that directory, and inspect keeps the option', () => {
  assert.equal(r.listing, 'f.txt\nhello');
  assert.deepEqual(r.host_config_mount, [{ Type: 'volume', Source: r.mount_point.Name, Target: '/mnt', ReadOnly: true, VolumeOptions: { Subpath: 'sub/dir' } }]);
  assert.deepEqual(r.mount_point, { Type: 'volume', Name: r.mount_point.Name, Destination: '/mnt', RW: false });
});

test('docker cp from a stopped container reads through the subpath', () => {
  assert.equal(r.cp_get, 'hello\n');
});

test('symlinks on the subpath resolve inside the volume, never to host paths', () => {
  assert.equal(r.abs_link, 'hello');
  assert.equal(r.host_etc?.status, 400);
  assert.match(r.host_etc.explanation, /^cannot access path host-etc in volume subpath-[0-9a-f]+: /);
});

test('a missing subpath fails the start; one that leaves the volume or is absolute is refused at create', () => {
  assert.deepEqual(r.missing?.status, 400);
  assert.match(r.missing.explanation, /^cannot access path nope in volume subpath-[0-9a-f]+: no such file or directory$/);
  assert.deepEqual(r.dot_dot, { status: 400, explanation: 'invalid mount config for type "volume": subpath must be a relative path within the volume: "sub/../../x"' });
  assert.deepEqual(r.absolute, { status: 400, explanation: 'invalid mount config for type "volume": subpath must be a relative path within the volume: "/sub"' });
});
