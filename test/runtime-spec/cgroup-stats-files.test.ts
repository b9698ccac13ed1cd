// The stats readers on recorded kernel files, so the cgroup v2 layout (which
// this hybrid v1 test host cannot run containers on) is covered too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { statsFromV1Dirs, statsFromV2Dir } from '../../src/runtime/cgroups/stats.js';
import { oomKillCount } from '../../src/runtime/cgroups/lifecycle.js';

async function withFiles(files: Record<string, string>, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tug-cgfiles-'));
  try {
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('cgroup v2 files become Docker stats (usec -> ns, "max" -> host memory / no limit)', async () => {
  await withFiles({
    'memory.current': '4206592\n',
    'memory.max': 'max\n',
    'memory.stat': 'anon 1081344\nfile 2162688\ninactive_file 1622016\n',
    'cpu.stat': 'usage_usec 52000\nuser_usec 30000\nsystem_usec 22000\nnr_periods 40\nnr_throttled 7\nthrottled_usec 123\n',
    'pids.current': '3\n',
    'pids.max': '50\n',
    'io.stat': '254:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n',
  }, async (dir) => {
    const s = await statsFromV2Dir(dir);
    assert.equal(s.memory_stats.usage, 4206592);
    assert.equal(s.memory_stats.limit, totalmem());
    assert.equal(s.memory_stats.stats?.inactive_file, 1622016);
    assert.deepEqual(s.cpu_stats.cpu_usage, { total_usage: 52_000_000, usage_in_kernelmode: 22_000_000, usage_in_usermode: 30_000_000 });
    assert.deepEqual(s.cpu_stats.throttling_data, { periods: 40, throttled_periods: 7, throttled_time: 123_000 });
    assert.ok(s.cpu_stats.system_cpu_usage > 0);
    assert.deepEqual(s.pids_stats, { current: 3, limit: 50 });
    assert.deepEqual(s.blkio_stats.io_service_bytes_recursive, [
      { major: 254, minor: 0, op: 'read', value: 4096 },
      { major: 254, minor: 0, op: 'write', value: 8192 },
    ]);
    assert.equal(s.blkio_stats.io_serviced_recursive?.[1]?.value, 2);
  });
});

test('cgroup v1 files become Docker stats (ticks -> ns, per-cpu usage, blkio lines)', async () => {
  await withFiles({
    'memory.usage_in_bytes': '8388608\n',
    'memory.max_usage_in_bytes': '9000000\n',
    'memory.failcnt': '2\n',
    'memory.limit_in_bytes': '33554432\n',
    'memory.stat': 'cache 4096\nrss 8192\ntotal_inactive_file 4096\n',
    'cpu.stat': 'nr_periods 10\nnr_throttled 4\nthrottled_time 5000\n',
    'cpuacct.usage': '123456789\n',
    'cpuacct.usage_percpu': '100000000 23456789 \n',
    'cpuacct.stat': 'user 9\nsystem 3\n',
    'pids.current': '2\n',
    'pids.max': 'max\n',
    'blkio.throttle.io_service_bytes_recursive': '254:0 Read 512\n254:0 Write 1024\n254:0 Total 1536\nTotal 1536\n',
  }, async (dir) => {
    const s = await statsFromV1Dirs({ memory: dir, cpu: dir, cpuacct: dir, pids: dir, blkio: dir });
    assert.deepEqual([s.memory_stats.usage, s.memory_stats.max_usage, s.memory_stats.failcnt, s.memory_stats.limit], [8388608, 9000000, 2, 33554432]);
    assert.deepEqual(s.cpu_stats.cpu_usage, { total_usage: 123456789, percpu_usage: [100000000, 23456789], usage_in_kernelmode: 30_000_000, usage_in_usermode: 90_000_000 });
    assert.deepEqual(s.cpu_stats.throttling_data, { periods: 10, throttled_periods: 4, throttled_time: 5000 });
    assert.deepEqual(s.pids_stats, { current: 2, limit: undefined });
    assert.equal(s.blkio_stats.io_service_bytes_recursive?.length, 3);
    assert.equal(s.blkio_stats.io_serviced_recursive, null);
  });
});

test('oom_kill counters from v1 memory.oom_control and v2 memory.events', () => {
  assert.equal(oomKillCount('oom_kill_disable 0\nunder_oom 0\noom_kill 2\n'), 2);
  assert.equal(oomKillCount('low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\noom_group_kill 0\n'), 1);
  assert.equal(oomKillCount('oom_kill_disable 0\nunder_oom 0\n'), 0);
});
