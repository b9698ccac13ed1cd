// Resource limits that bite, through the real docker CLI against a tug daemon:
// memory (OOM kill, swap), CPU quota (throttling) and shares, pids.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, access } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';
import { runCommand, type CommandResult } from '../helpers/run-command.js';

let d: TestDaemon;
const made: string[] = [];

type Result = CommandResult;
const docker = (args: string[]): Promise<Result> => runCommand('docker', args, { env: d.env, guardMs: 120_000 });
function uniq(prefix: string): string {
  const n = `${prefix}-${randomBytes(4).toString('hex')}`;
  made.push(n);
  return n;
}
/** The container's cgroup dir for one v1 controller, as the daemon names it. */
function cgroupDir(controller: string, id: string): string {
  const parent = `tug-${createHash('sha256').update(d.root).digest('hex').slice(0, 10)}`;
  return `/sys/fs/cgroup/${controller}/${parent}/${id}`;
}

before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  if (made.length) await docker(['rm', '-f', ...made]);
  await d.stop();
});

test('--memory 32m: allocating 200MB gets the container OOM-killed (137, OOMKilled true)', async () => {
  const name = uniq('oom');
  const r = await docker(['run', '--name', name, '--memory', '32m', 'busybox', 'sh', '-c', 'x=$(head -c 209715200 /dev/zero | tr "\\0" a); echo survived']);
  // The shell itself (pid 1) holds the 200MB, so the OOM killer takes the container's main process.
  assert.equal(r.code, 137, `exit ${r.code}: ${r.stderr}`);
  assert.doesNotMatch(r.stdout, /survived/);
  const st = await docker(['inspect', '-f', '{{.State.OOMKilled}} {{.State.ExitCode}} {{.HostConfig.Memory}}', name]);
  assert.equal(st.stdout.trim(), `true 137 ${32 * 1024 * 1024}`);
});

test('--memory-swap sets memsw limit; --memory alone leaves the container room for what it asks', async () => {
  const r = await docker(['run', '--rm', '--memory', '32m', '--memory-swap', '64m', 'busybox', 'sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), [String(32 << 20), String(64 << 20)]);
  // A 16MB allocation fits under 32MB: the limit does not kill honest work.
  const ok = await docker(['run', '--rm', '--memory', '32m', 'busybox', 'sh', '-c', 'head -c 16777216 /dev/zero | tail > /dev/null; echo survived']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout.trim(), 'survived');
});

test('--cpus 0.5: cfs quota 50000 on the host cgroup, and a busy loop gets throttled', async () => {
  const name = uniq('cpu');
  // Busy rounds until the kernel reports throttling, bounded at 100 rounds.
  const script = 'for r in $(seq 100); do i=0; while [ $i -lt 50000 ]; do i=$((i+1)); done; t=$(awk "/nr_throttled/{print \\$2}" /sys/fs/cgroup/cpu/cpu.stat); [ "$t" -gt 0 ] && break; done; echo throttled=$t; sleep 30';
  const run = await docker(['run', '-d', '--name', name, '--cpus', '0.5', '--cpu-shares', '512', 'busybox', 'sh', '-c', script]);
  assert.equal(run.code, 0, run.stderr);
  const id = run.stdout.trim();
  assert.equal((await readFile(`${cgroupDir('cpu', id)}/cpu.cfs_quota_us`, 'utf8')).trim(), '50000');
  assert.equal((await readFile(`${cgroupDir('cpu', id)}/cpu.cfs_period_us`, 'utf8')).trim(), '100000');
  assert.equal((await readFile(`${cgroupDir('cpu', id)}/cpu.shares`, 'utf8')).trim(), '512');
  let logs = '';
  for (let i = 0; i < 600 && !/throttled=/.test(logs); i++) {
    await new Promise((r) => setTimeout(r, 200));
    logs = (await docker(['logs', name])).stdout;
  }
  const m = /throttled=(\d+)/.exec(logs);
  assert.ok(m, `no throttle report in logs: ${logs}`);
  assert.ok(Number(m[1]) > 0, 'nr_throttled > 0');
  const hostStat = await readFile(`${cgroupDir('cpu', id)}/cpu.stat`, 'utf8');
  assert.ok(Number(/nr_throttled (\d+)/.exec(hostStat)![1]) > 0, 'the host sees the throttling too');
  const insp = await docker(['inspect', '-f', '{{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}}', name]);
  assert.equal(insp.stdout.trim(), '500000000 512');
  await docker(['rm', '-f', name]);
  await assert.rejects(access(cgroupDir('cpu', id)), 'the cgroup goes away with the container');
});

test('--pids-limit 10: a fork loop fails past the limit', async () => {
  const name = uniq('pids');
  const r = await docker(['run', '--name', name, '--pids-limit', '10', 'busybox', 'sh', '-c', 'cat /sys/fs/cgroup/pids/pids.max; for i in $(seq 30); do sleep 30 & done; echo all-forked']);
  assert.equal(r.stdout.split('\n')[0], '10');
  assert.doesNotMatch(r.stdout, /all-forked/);
  assert.match(r.stderr, /can't fork|Resource temporarily unavailable/);
  assert.notEqual(r.code, 0);
  const insp = await docker(['inspect', '-f', '{{.HostConfig.PidsLimit}}', name]);
  assert.equal(insp.stdout.trim(), '10');
});
