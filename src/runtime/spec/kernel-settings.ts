// --sysctl and --ulimit: only namespaced sysctls may be set (anything else
// would change the host), and ulimits map to OCI rlimits.
import { invalid } from '../../errdefs.js';
import type { OciRlimit } from './oci-runtime-types.js';

const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

export function validateSysctls(sysctls: Record<string, string>, hostNetwork: boolean): void {
  for (const key of Object.keys(sysctls)) {
    if (key.startsWith('net.')) {
      if (hostNetwork) throw invalid(`sysctl "${key}" not allowed in host network namespace`);
      continue;
    }
    if (IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.')) continue;
    throw invalid(`sysctl '${key}' is not whitelisted: only namespaced sysctls (net.*, fs.mqueue.*, IPC kernel.*) can be set`);
  }
}

const RLIMITS = new Set(['as', 'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

/**
 * -1 means unlimited. The kernel's RLIM_INFINITY is 2^64-1, which a JS number
 * cannot carry through JSON exactly; 2^63 serialises cleanly, fits runc's
 * uint64, and is as good as unlimited for every resource.
 */
const UNLIMITED = 2 ** 63;
const limitValue = (v: number): number => (v === -1 ? UNLIMITED : v);

export function ulimitsToRlimits(ulimits: ReadonlyArray<{ Name: string; Soft: number; Hard: number }>): OciRlimit[] {
  const byType = new Map<string, OciRlimit>();
  for (const u of ulimits) {
    const name = u.Name.toLowerCase();
    if (!RLIMITS.has(name)) throw invalid(`invalid ulimit type: ${u.Name}`);
    if (!Number.isSafeInteger(u.Soft) || !Number.isSafeInteger(u.Hard)) throw invalid(`invalid ulimit ${u.Name}: soft and hard must be integers`);
    if (u.Soft < -1 || u.Hard < -1) throw invalid(`invalid ulimit ${u.Name}: use -1 for unlimited or a positive number`);
    if (u.Soft > u.Hard && u.Hard !== -1) throw invalid(`ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`);
    // Later entries win, like repeated --ulimit flags.
    byType.set(name, { type: `RLIMIT_${name.toUpperCase()}`, soft: limitValue(u.Soft), hard: limitValue(u.Hard) });
  }
  return [...byType.values()];
}
