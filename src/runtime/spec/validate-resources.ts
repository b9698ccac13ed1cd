// Refuse resource settings Docker refuses, with Docker's own wording so users
// and scripts see the messages they know (moby daemon/daemon_unix.go).
import { availableParallelism } from 'node:os';
import { invalid } from '../../errdefs.js';
import type { ResourceSpec } from './resource-spec.js';

const MIN_MEMORY = 6 * 1024 * 1024;

function checkInteger(name: string, v: number | undefined): void {
  if (v !== undefined && !Number.isSafeInteger(v)) throw invalid(`${name} must be an integer, got ${v}`);
}

/** Parse a cpuset list ("0-2,4") into CPU numbers; throws on bad syntax. */
export function parseCpuList(list: string): number[] {
  const out = new Set<number>();
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw invalid(`Invalid value ${list} for cpuset cpus`);
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    if (b < a) throw invalid(`Invalid value ${list} for cpuset cpus`);
    for (let i = a; i <= b; i++) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}

export function validateResources(r: ResourceSpec, cpuCount: number = availableParallelism()): void {
  for (const k of ['memory', 'memorySwap', 'memoryReservation', 'nanoCpus', 'cpuShares', 'cpuPeriod', 'cpuQuota', 'pidsLimit'] as const) {
    checkInteger(k, r[k]);
  }
  const memory = r.memory ?? 0;
  const swap = r.memorySwap ?? 0;
  const reservation = r.memoryReservation ?? 0;

  if (memory !== 0 && memory < MIN_MEMORY) throw invalid('Minimum memory limit allowed is 6MB');
  if (swap < -1) throw invalid('Invalid value for memory-swap: use -1 for unlimited swap or a number of bytes');
  if (swap > 0 && memory === 0) throw invalid('You should always set the Memory limit when using Memoryswap limit, see usage');
  if (memory > 0 && swap > 0 && swap < memory) throw invalid('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (reservation !== 0 && reservation < MIN_MEMORY) throw invalid('Minimum memory reservation allowed is 6MB');
  if (memory > 0 && reservation > 0 && memory < reservation) {
    throw invalid('Minimum memory limit can not be less than memory reservation limit, see usage');
  }

  const nano = r.nanoCpus ?? 0;
  if (nano > 0 && (r.cpuPeriod ?? 0) > 0) throw invalid('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano > 0 && (r.cpuQuota ?? 0) > 0) throw invalid('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (nano < 0 || nano > cpuCount * 1e9) {
    throw invalid(`Range of CPUs is from 0.01 to ${cpuCount}.00, as there are only ${cpuCount} CPUs available`);
  }
  if (nano > 0 && nano < 1e7) throw invalid(`Range of CPUs is from 0.01 to ${cpuCount}.00, as there are only ${cpuCount} CPUs available`);
  const period = r.cpuPeriod ?? 0;
  if (period !== 0 && (period < 1000 || period > 1_000_000)) {
    throw invalid('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  }
  const quota = r.cpuQuota ?? 0;
  if (quota > 0 && quota < 1000) throw invalid('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if (quota < -1) throw invalid('CPU cfs quota must be -1 (unlimited) or at least 1000');
  if ((r.cpuShares ?? 0) < 0) throw invalid(`Invalid CPU shares ${r.cpuShares}: must not be negative`);

  if (r.cpusetCpus) {
    const cpus = parseCpuList(r.cpusetCpus);
    if (cpus.some((c) => c >= cpuCount)) {
      throw invalid(`Requested CPUs are not available - requested ${r.cpusetCpus}, available: 0-${cpuCount - 1}`);
    }
  }
}
