// docker stats: samples in Docker's JSON shape, from the container's cgroup
// (via the runtime's cgroup reader) and its network namespace's /proc/net/dev,
// sent as dockerd sends them. Clients compute CPU % from a sample and the one
// before it (precpu_stats); with empty precpu_stats they divide the container's
// whole CPU time by the host's since boot, so a busy loop read 0.01%. Which
// samples carry a sample before them is the point of statsSamples below.
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpus } from 'node:os';
import { invalid } from '../errdefs.js';
import { readCgroupStats } from '../runtime/cgroups/index.js';
import type { ContainerRecord } from './container-record.js';
import type { Engine } from './engine.js';

/** dockerd's stats collector samples every second. */
const STATS_INTERVAL_MS = 1000;

/** The zero CPUStats, as Go encodes it: what a sample with nothing before it carries. */
const noCpu = (): Record<string, unknown> => ({
  cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
  throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
});
const ZERO_TIME = '0001-01-01T00:00:00Z';

/** Per-interface counters of a process's network namespace (/proc/PID/net/dev), loopback left out. */
export async function networkStats(pid: number): Promise<Record<string, Record<string, number>> | undefined> {
  if (!pid) return undefined;
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/net/dev`, 'utf8');
  } catch {
    return undefined;
  }
  const out: Record<string, Record<string, number>> = {};
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    out[m[1]!] = {
      rx_bytes: f[0]!, rx_packets: f[1]!, rx_errors: f[2]!, rx_dropped: f[3]!,
      tx_bytes: f[8]!, tx_packets: f[9]!, tx_errors: f[10]!, tx_dropped: f[11]!,
    };
  }
  return out;
}

/** One sample; prev (the sample before it) gives precpu_stats and preread. */
async function sample(c: ContainerRecord, prev?: Record<string, unknown>): Promise<Record<string, unknown>> {
  const base = { read: new Date().toISOString(), preread: (prev?.read as string) ?? ZERO_TIME, id: c.Id, name: c.Name, num_procs: 0 };
  if (!c.State.Running) {
    return { ...base, pids_stats: {}, blkio_stats: {}, storage_stats: {}, cpu_stats: noCpu(), precpu_stats: noCpu(), memory_stats: {} };
  }
  const s = await readCgroupStats(c.Tug.cgroupsPath);
  const networks = await networkStats(c.State.Pid);
  return {
    ...base,
    ...s,
    cpu_stats: { ...s.cpu_stats, online_cpus: s.cpu_stats.online_cpus || cpus().length },
    precpu_stats: (prev?.cpu_stats as object) ?? noCpu(),
    storage_stats: {},
    ...(networks ? { networks } : {}),
  };
}

export interface StatsOptions {
  /** Keep sending a sample every interval (the API's default). */
  stream: boolean;
  /** One sample at once, with empty precpu_stats (API 1.41+). */
  oneShot: boolean;
}

/**
 * The samples GET /containers/{id}/stats answers with, as dockerd's:
 * - one-shot: one sample now, precpu_stats empty;
 * - not streamed: a priming sample, then, one interval later, the sample
 *   that is sent, carrying the priming one's cpu_stats, so CPU % covers that
 *   second and not the container's whole life;
 * - streamed: a sample every interval, each carrying the one before (the
 *   first carries none), until the container is removed or signal aborts.
 * A container that is not running gets one empty sample when not streamed.
 * Bad options and an unknown container throw here, before anything is sent.
 */
export function statsSamples(engine: Engine, ref: string, opts: StatsOptions, signal: AbortSignal): AsyncGenerator<Record<string, unknown>> {
  if (opts.stream && opts.oneShot) throw invalid('cannot have stream=true and one-shot=true');
  const c = engine.containers.get(ref);
  return samples(engine, c, opts, signal);
}

async function* samples(engine: Engine, c: ContainerRecord, opts: StatsOptions, signal: AbortSignal): AsyncGenerator<Record<string, unknown>> {
  const wait = (): Promise<boolean> => sleep(STATS_INTERVAL_MS, true, { signal }).catch(() => false);
  if (!opts.stream) {
    if (opts.oneShot || !c.State.Running) {
      yield await sample(c);
      return;
    }
    const priming = await sample(c);
    if (!(await wait())) return;
    yield await sample(c, priming);
    return;
  }
  let prev: Record<string, unknown> | undefined;
  for (;;) {
    prev = await sample(c, prev);
    yield prev;
    if (!(await wait()) || !engine.containers.find(c.Id)) return;
  }
}
