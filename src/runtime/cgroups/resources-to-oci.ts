// Docker's HostConfig resources -> OCI linux.resources (what runc writes into
// the cgroup at create, and what `runc update --r -` applies for docker update).
import type { ResourceSpec } from '../spec/resource-spec.js';
import type { OciLinuxResources } from '../spec/oci-runtime-types.js';
import { hasSwapAccounting, isCgroupV2 } from './cgroup-fs.js';

/** The CFS period Docker uses when --cpus is given. */
export const NANO_CPU_PERIOD_US = 100_000;
/** Kernel bounds for cpu.shares; Docker clamps to them rather than failing. */
const MIN_SHARES = 2;
const MAX_SHARES = 262_144;

export function resourcesToOci(r: ResourceSpec): OciLinuxResources {
  const out: OciLinuxResources = {};

  const memory: NonNullable<OciLinuxResources['memory']> = {};
  if (r.memory !== undefined && r.memory > 0) memory.limit = r.memory;
  if (r.memoryReservation !== undefined && r.memoryReservation > 0) memory.reservation = r.memoryReservation;
  if (r.memorySwap !== undefined && r.memorySwap !== 0) {
    if (hasSwapAccounting()) memory.swap = r.memorySwap;
  } else if (memory.limit !== undefined && hasSwapAccounting()) {
    // Docker: --memory without --memory-swap allows as much swap as memory.
    memory.swap = memory.limit * 2;
  }
  // cgroup v2 has no memory.swappiness; Docker leaves it out there too.
  if (r.memorySwappiness !== undefined && r.memorySwappiness >= 0 && !isCgroupV2()) memory.swappiness = r.memorySwappiness;
  if (Object.keys(memory).length > 0) out.memory = memory;

  const cpu: NonNullable<OciLinuxResources['cpu']> = {};
  if (r.cpuShares !== undefined && r.cpuShares > 0) cpu.shares = Math.min(MAX_SHARES, Math.max(MIN_SHARES, r.cpuShares));
  if (r.nanoCpus !== undefined && r.nanoCpus > 0) {
    cpu.period = NANO_CPU_PERIOD_US;
    cpu.quota = Math.round((r.nanoCpus * NANO_CPU_PERIOD_US) / 1e9);
  }
  if (r.cpuPeriod !== undefined && r.cpuPeriod > 0) cpu.period = r.cpuPeriod;
  if (r.cpuQuota !== undefined && r.cpuQuota !== 0) cpu.quota = r.cpuQuota;
  if (r.cpusetCpus) cpu.cpus = r.cpusetCpus;
  if (r.cpuRealtimePeriod !== undefined && r.cpuRealtimePeriod > 0) cpu.realtimePeriod = r.cpuRealtimePeriod;
  if (r.cpuRealtimeRuntime !== undefined && r.cpuRealtimeRuntime > 0) cpu.realtimeRuntime = r.cpuRealtimeRuntime;
  if (Object.keys(cpu).length > 0) out.cpu = cpu;

  // -1 writes "max", so an update can lift a limit again.
  if (r.pidsLimit !== undefined) out.pids = { limit: r.pidsLimit > 0 ? r.pidsLimit : -1 };
  return out;
}
