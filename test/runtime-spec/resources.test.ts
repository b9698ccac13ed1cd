// Resource limits proven against real runc containers and real cgroups.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeSandbox, runContainer, startContainer, destroyContainer, type Sandbox } from './harness.js';
import {
  cgroupExists,
  controllerDir,
  isCgroupV2,
  listCgroupPids,
  readCgroupStats,
  readOomKilled,
} from '../../src/runtime/cgroups/index.js';

let sb: Sandbox;
before(async () => {
  sb = await makeSandbox();
});
after(async () => {
  await sb.cleanup();
  assert.equal(await cgroupExists(sb.cgroupParent), false);
});

const MiB = 1024 * 1024;

async function cgroupFile(controller: string, cgroupsPath: string, v1File: string, v2File: string): Promise<string> {
  const dir = await controllerDir(controller, cgroupsPath);
  assert.ok(dir, `no ${controller} hierarchy`);
  return (await readFile(`${dir}/${isCgroupV2() ? v2File : v1File}`, 'utf8')).trim();
}

test('--memory: a process allocating past the limit is OOM-killed (137) and readOomKilled says so', async () => {
  // The shell keeps the whole command substitution in memory: 200 MiB against a 32 MiB limit.
  const r = await runContainer(sb, ['sh', '-c', 'x=$(head -c 200m /dev/zero | tr "\\0" a); echo survived ${#x}'], { resources: { memory: 32 * MiB } }, async (cg) => ({
    oom: await readOomKilled(cg),
    limit: await cgroupFile('memory', cg, 'memory.limit_in_bytes', 'memory.max'),
  }));
  assert.equal(r.code, 137, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout, /survived/);
  assert.equal(r.after.oom, true);
  assert.equal(r.after.limit, String(32 * MiB));
});

test('without a memory limit the same allocation succeeds and readOomKilled is false', async () => {
  const r = await runContainer(sb, ['sh', '-c', 'x=$(head -c 50m /dev/zero | tr "\\0" a); echo survived ${#x}'], {}, async (cg) => ({ oom: await readOomKilled(cg) }));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /survived 52428800/);
  assert.equal(r.after.oom, false);
});

test('--memory-swap sets the memory+swap limit; without it Docker allows swap equal to memory', async () => {
  const read = async (cg: string): Promise<Record<string, unknown>> => ({
    swap: await cgroupFile('memory', cg, 'memory.memsw.limit_in_bytes', 'memory.swap.max'),
  });
  const explicit = await runContainer(sb, ['true'], { resources: { memory: 32 * MiB, memorySwap: 96 * MiB } }, read);
  const implicit = await runContainer(sb, ['true'], { resources: { memory: 32 * MiB } }, read);
  // v1 holds memory+swap; v2 holds swap alone.
  assert.equal(explicit.after.swap, String(isCgroupV2() ? 64 * MiB : 96 * MiB));
  assert.equal(implicit.after.swap, String(isCgroupV2() ? 32 * MiB : 64 * MiB));
});

test('--cpus sets the CFS quota and a busy loop is throttled', async () => {
  const c = await startContainer(sb, ['sh', '-c', 'echo ready; while :; do :; done'], { resources: { nanoCpus: 0.1e9 } });
  try {
    await c.waitFor('ready');
    if (isCgroupV2()) assert.equal(await cgroupFile('cpu', c.cgroupsPath, '', 'cpu.max'), '10000 100000');
    else {
      assert.equal(await cgroupFile('cpu', c.cgroupsPath, 'cpu.cfs_quota_us', ''), '10000');
      assert.equal(await cgroupFile('cpu', c.cgroupsPath, 'cpu.cfs_period_us', ''), '100000');
    }
    // Bounded wait for the kernel to throttle the loop at least once.
    let throttled = 0;
    for (let i = 0; i < 300 && throttled === 0; i++) {
      await sleep(100);
      throttled = (await readCgroupStats(c.cgroupsPath)).cpu_stats.throttling_data.throttled_periods;
    }
    assert.ok(throttled > 0, 'the busy loop was never throttled');
    const stats = await readCgroupStats(c.cgroupsPath);
    assert.ok(stats.cpu_stats.cpu_usage.total_usage > 0);
    assert.ok(stats.cpu_stats.system_cpu_usage > stats.cpu_stats.cpu_usage.total_usage);
  } finally {
    assert.equal(await destroyContainer(sb, c), true);
  }
});

test('--cpu-shares is written to the cgroup', async () => {
  const r = await runContainer(sb, ['true'], { resources: { cpuShares: 512 } }, async (cg) => ({
    shares: await cgroupFile('cpu', cg, 'cpu.shares', 'cpu.weight'),
  }));
  // runc maps shares to v2 weight as 1 + (shares-2)*9999/262142.
  assert.equal(r.after.shares, isCgroupV2() ? String(1 + Math.floor(((512 - 2) * 9999) / 262142)) : '512');
});

test('--pids-limit bounds a fork bomb', async () => {
  // `echo` is a shell builtin, so each line is one successful fork; ash gives up at the first failed one.
  const script = 'for i in $(seq 50); do sleep 30 & echo started; done; echo all-forked';
  const limited = await runContainer(sb, ['sh', '-c', script], { resources: { pidsLimit: 10 } });
  const started = (limited.stdout.match(/started/g) ?? []).length;
  assert.ok(started < 10, `forked ${started} times despite a limit of 10`);
  assert.doesNotMatch(limited.stdout, /all-forked/);
  assert.match(limited.stderr, /can't fork/);
  const unlimited = await runContainer(sb, ['sh', '-c', script], {});
  assert.equal((unlimited.stdout.match(/started/g) ?? []).length, 50);
  assert.match(unlimited.stdout, /all-forked/);
});

test('readCgroupStats and listCgroupPids see a running container', async () => {
  // Two processes: the shell holding 8 MiB, and a sleep it waits for.
  const c = await startContainer(sb, ['sh', '-c', 'x=$(head -c 8m /dev/zero | tr "\\0" a); sleep 300 & echo ready; wait'], { resources: { memory: 64 * MiB, pidsLimit: 20 } });
  try {
    await c.waitFor('ready');
    const stats = await readCgroupStats(c.cgroupsPath);
    assert.ok((stats.memory_stats.usage ?? 0) > 0, 'memory usage is zero');
    assert.equal(stats.memory_stats.limit, 64 * MiB);
    assert.ok((stats.pids_stats.current ?? 0) >= 2, `pids.current ${stats.pids_stats.current}`);
    assert.equal(stats.pids_stats.limit, 20);
    assert.ok(stats.cpu_stats.online_cpus > 0);
    const pids = await listCgroupPids(c.cgroupsPath);
    assert.equal(pids.length, stats.pids_stats.current);
    assert.ok(pids.includes(c.child.pid!) === false, 'runc itself must not be in the container cgroup');
  } finally {
    assert.equal(await destroyContainer(sb, c), true);
  }
  await assert.rejects(readCgroupStats(c.cgroupsPath), /does not exist/);
  assert.deepEqual(await listCgroupPids(c.cgroupsPath), []);
});
