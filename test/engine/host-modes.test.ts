// HostConfig's namespace modes and kernel knobs against a real tug daemon,
// through the docker CLI and docker-py: --uts host, --cgroupns,
// --memory-swappiness, --device-cgroup-rule, isolation and the CPU real-time
// budget. Each is shown by inspect as dockerd shows it and applied to the
// container where Docker applies it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';
import { runCommand } from '../helpers/run-command.js';

const pyDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/engine/py');
const cgroupV1 = existsSync('/sys/fs/cgroup/memory/memory.swappiness');
let d: TestDaemon;
const sfx = randomBytes(3).toString('hex');

const docker = (...args: string[]): ReturnType<typeof runCommand> => runCommand('docker', args, { env: d.env });
async function ok(...args: string[]): Promise<string> {
  const r = await docker(...args);
  assert.equal(r.code, 0, `docker ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d?.stop();
});

test('--uts host: the host\'s hostname and UTS namespace; inspect shows UTSMode', async () => {
  const hostNs = await readlink('/proc/self/ns/uts');
  const out = await ok('run', '--rm', '--uts', 'host', 'busybox', 'sh', '-c', 'readlink /proc/self/ns/uts; hostname');
  assert.deepEqual(out.split('\n'), [hostNs, hostname()]);
  const priv = await ok('run', '--rm', 'busybox', 'readlink', '/proc/self/ns/uts');
  assert.notEqual(priv, hostNs);
  const id = await ok('create', '--uts', 'host', 'busybox');
  assert.equal(await ok('inspect', '-f', '{{.HostConfig.UTSMode}}', id), 'host');
  await ok('rm', id);
});

test('--cgroupns private|host: the container gets its own cgroup namespace or the host\'s', async () => {
  const hostNs = await readlink('/proc/self/ns/cgroup');
  const priv = await ok('run', '--rm', '--cgroupns', 'private', 'busybox', 'readlink', '/proc/self/ns/cgroup');
  assert.notEqual(priv, hostNs);
  const host = await ok('run', '--rm', '--cgroupns', 'host', 'busybox', 'readlink', '/proc/self/ns/cgroup');
  assert.equal(host, hostNs);
  const id = await ok('create', '--cgroupns', 'private', 'busybox');
  assert.equal(await ok('inspect', '-f', '{{.HostConfig.CgroupnsMode}}', id), 'private');
  await ok('rm', id);
});

test('--device-cgroup-rule: the rule lands in the container\'s device cgroup', { skip: !cgroupV1 && 'device cgroup allow list is readable on cgroup v1 only' }, async () => {
  const out = await ok('run', '--rm', '--device-cgroup-rule', 'c 42:* rmw', 'busybox', 'cat', '/sys/fs/cgroup/devices/devices.list');
  assert.match(out, /^c 42:\* rwm$/m, out);
  const plain = await ok('run', '--rm', 'busybox', 'cat', '/sys/fs/cgroup/devices/devices.list');
  assert.doesNotMatch(plain, /^c 42:/m);
});

test('--memory-swappiness: stored, shown and written to memory.swappiness', { skip: !cgroupV1 && 'memory.swappiness exists on cgroup v1 only' }, async () => {
  assert.equal(await ok('run', '--rm', '--memory-swappiness', '17', 'busybox', 'cat', '/sys/fs/cgroup/memory/memory.swappiness'), '17');
  const id = await ok('create', '--name', `swap-${sfx}`, '--memory-swappiness', '17', 'busybox');
  assert.equal(await ok('inspect', '-f', '{{json .HostConfig.MemorySwappiness}}', id), '17');
  await ok('rm', id);
});

test('docker-py host_config: swappiness, isolation, cpu_rt, device rules, uts and cgroupns as its suite sets them; bad values refused', async () => {
  const { stdout } = await promisify(execFile)('python3', [join(pyDir, 'host_modes.py'), sfx], { env: d.env, timeout: 240_000 });
  const r = JSON.parse(stdout);
  assert.deepEqual(r.defaults, {
    MemorySwappiness: null, UTSMode: '', CgroupnsMode: cgroupV1 ? 'host' : 'private', Isolation: '', DeviceCgroupRules: null,
    CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0, Links: null, VolumesFrom: null,
  }, 'a plain container shows the fields as dockerd does');
  assert.equal(r.swappiness.inspect, 40);
  if (cgroupV1) assert.equal(r.swappiness.cgroup, '40');
  assert.equal(r.isolation, 'default');
  assert.deepEqual(r.isolation_bad, [400, 'Invalid isolation: "hyperv" - linux only supports \'default\'']);
  assert.deepEqual(r.rt, [1000, 500]);
  if (existsSync('/sys/fs/cgroup/cpu/cpu.rt_runtime_us')) {
    assert.equal(r.rt_start[0], 500, 'a budget the kernel refuses is a server error, as on dockerd');
    assert.match(r.rt_start[1], /cpu\.rt_runtime_us: invalid argument/);
    assert.deepEqual(r.rt_state, ['created', 128]);
  }
  assert.deepEqual(r.rt_bad, [400, 'cpu real-time runtime cannot be higher than cpu real-time period']);
  assert.deepEqual(r.swappiness_bad, [400, 'Invalid value: 101, valid memory swappiness range is 0-100']);
  assert.deepEqual(r.rule, ['c 7:128 rwm']);
  assert.deepEqual(r.rule_bad, [400, 'invalid device cgroup format \'x 1:2 r\'']);
  assert.equal(r.uts, 'host');
  assert.equal(r.cgroupns, 'private');
  assert.deepEqual(r.names_left, [], 'a refused create leaves no container');
});
