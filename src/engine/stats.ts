// docker stats: one sample in Docker's JSON shape, from the container's cgroup
// (via the runtime's cgroup reader) and its network namespace's /proc/net/dev.
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { readCgroupStats } from '../runtime/cgroups/index.js';
import type { Engine } from './engine.js';

async function networkStats(pid: number): Promise<Record<string, Record<string, number>> | undefined> {
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

export async function containerStats(engine: Engine, id: string, prev?: Record<string, unknown>): Promise<Record<string, unknown>> {
  const c = engine.containers.get(id);
  const now = new Date().toISOString();
  const base = { read: now, preread: (prev?.read as string) ?? '0001-01-01T00:00:00Z', id: c.Id, name: c.Name, num_procs: 0 };
  if (!c.State.Running) {
    return { ...base, pids_stats: {}, blkio_stats: {}, storage_stats: {}, cpu_stats: { cpu_usage: { total_usage: 0 }, throttling_data: {} }, precpu_stats: { cpu_usage: { total_usage: 0 }, throttling_data: {} }, memory_stats: {} };
  }
  const s = await readCgroupStats(c.Tug.cgroupsPath);
  const networks = await networkStats(c.State.Pid);
  return {
    ...base,
    ...s,
    cpu_stats: { ...s.cpu_stats, online_cpus: s.cpu_stats.online_cpus || cpus().length },
    precpu_stats: (prev?.cpu_stats as object) ?? { cpu_usage: { total_usage: 0 }, throttling_data: {} },
    storage_stats: {},
    ...(networks ? { networks } : {}),
  };
}
