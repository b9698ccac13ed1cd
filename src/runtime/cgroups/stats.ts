// A container's resource usage in the shape of Docker's /containers/{id}/stats
// (moby api/types/stats.go), read straight from its cgroup on v1 or v2.
import { readFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { notFound } from '../../errdefs.js';
import { controllerDir, isCgroupV2 } from './cgroup-fs.js';
import { cgroupExists } from './lifecycle.js';

export interface BlkioEntry { major: number; minor: number; op: string; value: number }

export interface CgroupStats {
  memory_stats: {
    usage?: number;
    max_usage?: number;
    failcnt?: number;
    limit?: number;
    stats?: Record<string, number>;
  };
  cpu_stats: {
    cpu_usage: { total_usage: number; percpu_usage?: number[]; usage_in_kernelmode: number; usage_in_usermode: number };
    system_cpu_usage: number;
    online_cpus: number;
    throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
  };
  pids_stats: { current?: number; limit?: number };
  blkio_stats: {
    io_service_bytes_recursive: BlkioEntry[] | null;
    io_serviced_recursive: BlkioEntry[] | null;
    io_queue_recursive: BlkioEntry[] | null;
    io_service_time_recursive: BlkioEntry[] | null;
    io_wait_time_recursive: BlkioEntry[] | null;
    io_merged_recursive: BlkioEntry[] | null;
    io_time_recursive: BlkioEntry[] | null;
    sectors_recursive: BlkioEntry[] | null;
  };
}

/** USER_HZ: the unit of /proc/stat and cpuacct.stat (100 on every Linux ABI tug runs on). */
const CLOCK_TICKS = 100;
const NS_PER_TICK = 1e9 / CLOCK_TICKS;

async function read(dir: string | undefined, file: string): Promise<string | undefined> {
  if (!dir) return undefined;
  try {
    return await readFile(join(dir, file), 'utf8');
  } catch {
    return undefined; // controllers and files vary by kernel; a missing one is simply not reported
  }
}

function num(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (t === '' || t === 'max') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** "key value" lines (memory.stat, cpu.stat, cpuacct.stat, memory.events). */
function keyValues(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && Number.isFinite(Number(v))) out[k] = Number(v);
  }
  return out;
}

/** Host CPU time since boot in ns, from /proc/stat the way Docker computes it. */
export async function systemCpuUsage(): Promise<number> {
  const text = await readFile('/proc/stat', 'utf8');
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return 0;
  // user nice system idle iowait irq softirq, as moby's getSystemCPUUsage.
  const ticks = line.trim().split(/\s+/).slice(1, 8).reduce((s, f) => s + Number(f), 0);
  return ticks * NS_PER_TICK;
}

function capLimit(limit: number | undefined): number {
  const host = totalmem();
  return limit === undefined || limit > host ? host : limit;
}

function parseBlkioV1(text: string | undefined): BlkioEntry[] | null {
  if (text === undefined) return null;
  const out: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+):(\d+) (\w+) (\d+)$/.exec(line.trim());
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3], value: Number(m[4]) });
  }
  return out;
}

function parseIoStatV2(text: string | undefined): { bytes: BlkioEntry[]; ios: BlkioEntry[] } {
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const [dev, ...fields] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    const kv = Object.fromEntries(fields.map((f) => f.split('=')).map(([k, v]) => [k, Number(v)]));
    const [major, minor] = [Number(m[1]), Number(m[2])];
    bytes.push({ major, minor, op: 'read', value: kv.rbytes ?? 0 }, { major, minor, op: 'write', value: kv.wbytes ?? 0 });
    ios.push({ major, minor, op: 'read', value: kv.rios ?? 0 }, { major, minor, op: 'write', value: kv.wios ?? 0 });
  }
  return { bytes, ios };
}

const emptyBlkio = (): CgroupStats['blkio_stats'] => ({
  io_service_bytes_recursive: null,
  io_serviced_recursive: null,
  io_queue_recursive: null,
  io_service_time_recursive: null,
  io_wait_time_recursive: null,
  io_merged_recursive: null,
  io_time_recursive: null,
  sectors_recursive: null,
});

/** Stats from one cgroup v2 directory (exported for tests with recorded kernel files). */
export async function statsFromV2Dir(dir: string): Promise<CgroupStats> {
  const [memCur, memMax, memStat, cpuStat, pidsCur, pidsMax, ioStat] = await Promise.all([
    read(dir, 'memory.current'), read(dir, 'memory.max'), read(dir, 'memory.stat'), read(dir, 'cpu.stat'),
    read(dir, 'pids.current'), read(dir, 'pids.max'), read(dir, 'io.stat'),
  ]);
  const cpu = keyValues(cpuStat);
  const io = parseIoStatV2(ioStat);
  return {
    memory_stats: { usage: num(memCur), limit: capLimit(num(memMax)), stats: keyValues(memStat) },
    cpu_stats: {
      cpu_usage: {
        total_usage: (cpu.usage_usec ?? 0) * 1000,
        usage_in_kernelmode: (cpu.system_usec ?? 0) * 1000,
        usage_in_usermode: (cpu.user_usec ?? 0) * 1000,
      },
      system_cpu_usage: await systemCpuUsage(),
      online_cpus: cpus().length,
      throttling_data: { periods: cpu.nr_periods ?? 0, throttled_periods: cpu.nr_throttled ?? 0, throttled_time: (cpu.throttled_usec ?? 0) * 1000 },
    },
    pids_stats: { current: num(pidsCur), limit: num(pidsMax) },
    blkio_stats: { ...emptyBlkio(), io_service_bytes_recursive: io.bytes, io_serviced_recursive: io.ios },
  };
}

export interface V1Dirs { memory?: string; cpu?: string; cpuacct?: string; pids?: string; blkio?: string }

/** Stats from one directory per v1 controller (exported for tests with recorded kernel files). */
export async function statsFromV1Dirs(dirs: V1Dirs): Promise<CgroupStats> {
  const { memory: memDir, cpu: cpuDir, cpuacct: acctDir, pids: pidsDir, blkio: blkDir } = dirs;
  const [usage, maxUsage, failcnt, limit, memStat, cpuStat, acctUsage, acctPercpu, acctStat, pidsCur, pidsMax, blkBytes, blkIos] = await Promise.all([
    read(memDir, 'memory.usage_in_bytes'), read(memDir, 'memory.max_usage_in_bytes'), read(memDir, 'memory.failcnt'),
    read(memDir, 'memory.limit_in_bytes'), read(memDir, 'memory.stat'), read(cpuDir, 'cpu.stat'),
    read(acctDir, 'cpuacct.usage'), read(acctDir, 'cpuacct.usage_percpu'), read(acctDir, 'cpuacct.stat'),
    read(pidsDir, 'pids.current'), read(pidsDir, 'pids.max'),
    read(blkDir, 'blkio.throttle.io_service_bytes_recursive').then(async (t) => t ?? read(blkDir, 'blkio.throttle.io_service_bytes')),
    read(blkDir, 'blkio.throttle.io_serviced_recursive').then(async (t) => t ?? read(blkDir, 'blkio.throttle.io_serviced')),
  ]);
  const cpu = keyValues(cpuStat);
  const acct = keyValues(acctStat);
  const percpu = acctPercpu?.trim() ? acctPercpu.trim().split(/\s+/).map(Number) : undefined;
  return {
    memory_stats: {
      usage: num(usage),
      max_usage: num(maxUsage),
      failcnt: num(failcnt),
      limit: capLimit(num(limit)),
      stats: keyValues(memStat),
    },
    cpu_stats: {
      cpu_usage: {
        total_usage: num(acctUsage) ?? 0,
        ...(percpu ? { percpu_usage: percpu } : {}),
        usage_in_kernelmode: (acct.system ?? 0) * NS_PER_TICK,
        usage_in_usermode: (acct.user ?? 0) * NS_PER_TICK,
      },
      system_cpu_usage: await systemCpuUsage(),
      online_cpus: cpus().length,
      throttling_data: { periods: cpu.nr_periods ?? 0, throttled_periods: cpu.nr_throttled ?? 0, throttled_time: cpu.throttled_time ?? 0 },
    },
    pids_stats: { current: num(pidsCur), limit: num(pidsMax) },
    blkio_stats: { ...emptyBlkio(), io_service_bytes_recursive: parseBlkioV1(blkBytes), io_serviced_recursive: parseBlkioV1(blkIos) },
  };
}

/** CPU and memory only: what the kubelet's resource metrics need, in a third of the file reads. */
export interface CgroupUsage {
  /** Cumulative CPU time, ns. */
  cpuNs: number;
  memoryUsage: number;
  /** memory.stat */
  memoryStats: Record<string, number>;
}

export async function readCgroupUsage(cgroupsPath: string): Promise<CgroupUsage> {
  if (isCgroupV2()) {
    const dir = await controllerDir('', cgroupsPath);
    const [cur, stat, cpu] = await Promise.all([read(dir, 'memory.current'), read(dir, 'memory.stat'), read(dir, 'cpu.stat')]);
    if (cur === undefined && cpu === undefined) throw notFound(`cgroup ${cgroupsPath} does not exist`);
    return { cpuNs: (keyValues(cpu).usage_usec ?? 0) * 1000, memoryUsage: num(cur) ?? 0, memoryStats: keyValues(stat) };
  }
  const [memDir, acctDir] = await Promise.all([controllerDir('memory', cgroupsPath), controllerDir('cpuacct', cgroupsPath)]);
  const [usage, stat, acct] = await Promise.all([read(memDir, 'memory.usage_in_bytes'), read(memDir, 'memory.stat'), read(acctDir, 'cpuacct.usage')]);
  if (usage === undefined && acct === undefined) throw notFound(`cgroup ${cgroupsPath} does not exist`);
  return { cpuNs: num(acct) ?? 0, memoryUsage: num(usage) ?? 0, memoryStats: keyValues(stat) };
}

export async function readCgroupStats(cgroupsPath: string): Promise<CgroupStats> {
  if (!(await cgroupExists(cgroupsPath))) throw notFound(`cgroup ${cgroupsPath} does not exist`);
  if (isCgroupV2()) return statsFromV2Dir((await controllerDir('', cgroupsPath))!);
  const [memory, cpu, cpuacct, pids, blkio] = await Promise.all(
    ['memory', 'cpu', 'cpuacct', 'pids', 'blkio'].map((c) => controllerDir(c, cgroupsPath)),
  );
  return statsFromV1Dirs({ memory, cpu, cpuacct, pids, blkio });
}
