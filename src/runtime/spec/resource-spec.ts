// Resource limits as Docker's HostConfig carries them (bytes, nano-CPUs, ...).
export interface ResourceSpec {
  memory?: number;
  /** Total of memory + swap; -1 = unlimited swap; 0/undefined with memory set = twice memory (Docker). */
  memorySwap?: number;
  memoryReservation?: number;
  nanoCpus?: number;
  cpuShares?: number;
  cpuPeriod?: number;
  cpuQuota?: number;
  cpusetCpus?: string;
  /** <= 0 means unlimited. */
  pidsLimit?: number;
  /** 0-100; cgroup v1 only (v2 has no per-cgroup swappiness). */
  memorySwappiness?: number;
  /** Microseconds of real-time CPU per period (cgroup v1 cpu.rt_*). */
  cpuRealtimePeriod?: number;
  cpuRealtimeRuntime?: number;
}
