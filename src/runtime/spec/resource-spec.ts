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
}
