// The cgroup API the runtime and engine use; see each module for details.
export type { CgroupStats, CgroupUsage, BlkioEntry } from './stats.js';
export { readCgroupStats, readCgroupUsage, systemCpuUsage } from './stats.js';
export { cgroupExists, listCgroupPids, readOomKilled, removeCgroup } from './lifecycle.js';
export { resourcesToOci, NANO_CPU_PERIOD_US } from './resources-to-oci.js';
export { isCgroupV2, controllerDir, allCgroupDirs } from './cgroup-fs.js';
