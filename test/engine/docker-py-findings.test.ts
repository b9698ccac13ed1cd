// The Docker behaviours docker-py's own integration suite found tug lacking,
// driven through docker-py against a real tug daemon (py/suite_findings.py
// prints what it saw; the expectations are what dockerd 20.10 answers to the
// same script).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';

const pyDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/engine/py');
let d: TestDaemon;
let scratch: string;
let r: any;

before(async () => {
  d = await startTestDaemon();
  scratch = await mkdtemp(join(tmpdir(), 'tug-findings-'));
  const { stdout } = await promisify(execFile)('python3', [join(pyDir, 'suite_findings.py'), randomBytes(4).toString('hex'), scratch], {
    env: d.env,
    timeout: 240_000,
    maxBuffer: 16 << 20,
  });
  r = JSON.parse(stdout);
});
after(async () => {
  await d.stop();
  await rm(scratch, { recursive: true, force: true });
});

test('kill with SIGKILL returns once the container is dead', () => {
  assert.deepEqual(r.kill_states, Array(5).fill({ running: false, exit: 137 }), 'inspect right after kill shows it stopped, every time');
  assert.deepEqual(r.kill_running_listed, [], 'no killed container is listed as running');
});

test('docker cp reaches the volumes and bind mounts of a container that is not running', () => {
  assert.equal(r.cp_put_created, true, 'put_archive into a never-started container\'s volume');
  assert.deepEqual(r.cp_get_vol_stopped, { vol1: null, 'vol1/in.txt': 'inside\n', 'vol1/put.txt': 'put before start\n' });
  assert.deepEqual(r.cp_get_file_stopped, { 'in.txt': 'inside\n' });
  assert.equal(r.cp_stat_bind_stopped, 'host.txt');
  assert.equal(r.cp_put_bind_stopped, true);
  assert.deepEqual(r.cp_bind_host_files, ['host.txt', 'into-bind.txt'], 'a copy into a bind mount lands in its host directory');
  assert.deepEqual(r.cp_put_readonly, { status: 400, explanation: 'mounted volume is marked read-only' });
  assert.deepEqual(r.cp_readonly_host_files, [], 'nothing written through a read-only mount');
});

test('commit returns the Id and the image names its container, container config and parent', () => {
  assert.match(r.commit.id, /^sha256:[0-9a-f]{64}$/);
  assert.equal(r.commit.container, r.commit.container_id);
  assert.equal(r.commit.container_config_image, 'busybox');
  assert.equal(r.commit.parent, r.commit.busybox);
});

test('an Env entry without "=" is kept as sent and unsets the variable for the process', () => {
  assert.deepEqual(r.env_config, ['FOO', 'BAR=1', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
  assert.deepEqual(r.env_process, ['BAR=1', 'HOME=/root', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
  assert.deepEqual(r.exec_env, ['KEEP=1'], 'an exec\'s "DROP" unsets the container\'s DROP');
});

test('an exec created with tty gets a terminal; the start\'s Tty only chooses the framing', () => {
  assert.deepEqual(r.exec_tty_demux, ['out\r\nerr\r\n', null], 'terminal output, in stdout frames');
  assert.equal(r.exec_tty_raw, 'out\r\nerr\r\n');
});

test('LogConfig is kept as given and checked', () => {
  assert.deepEqual(r.log_json_opts, { Type: 'json-file', Config: { 'max-file': '100', 'max-size': '10m' } });
  assert.deepEqual(r.log_default_type, { Type: 'json-file', Config: { 'max-file': '100' } });
  assert.deepEqual(r.log_no_config, { Type: 'json-file', Config: {} });
  assert.deepEqual(r.log_unknown_driver, { status: 400, explanation: 'error looking up logging plugin asdf: plugin "asdf" not found' });
  assert.deepEqual(r.log_unknown_opt, { status: 400, explanation: "unknown log opt 'no-such-opt' for json-file log driver" });
});

test('container prune reports the space it reclaimed', () => {
  assert.equal(r.prune_other_label, null, 'a label filter nothing matches removes nothing');
  assert.equal(r.prune.deleted, true);
  assert.ok(r.prune.reclaimed >= 'hello\n'.length, `SpaceReclaimed counts what the container wrote: ${r.prune.reclaimed}`);
});

test('a container waiting to restart is removed only by force', () => {
  assert.equal(r.remove_restarting?.status, 409);
  assert.match(r.remove_restarting.explanation, /stop the container before/i);
  assert.deepEqual(r.left, [], 'the script removed what it made (force removes a restarting container)');
});
