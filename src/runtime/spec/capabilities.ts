// Linux capability names and Docker's --cap-add / --cap-drop arithmetic.
import { readFile } from 'node:fs/promises';
import { invalid } from '../../errdefs.js';

/** Every capability the kernel knows, indexed by its bit number. */
export const ALL_CAPABILITY_NAMES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT',
  'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
  'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** Docker's default set (moby oci/caps/defaults.go); CapEff 00000000a80425fb. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

let hostCapsPromise: Promise<string[]> | undefined;

/**
 * The capabilities a container may hold on this host: those the kernel knows
 * (cap_last_cap) AND that are in our own bounding set. runc fails the whole
 * start if asked to raise a capability outside its bounding set, which happens
 * when tug itself runs inside a restricted sandbox, so "all" means "all we have".
 */
export function hostCapabilities(): Promise<string[]> {
  hostCapsPromise ??= (async () => {
    let last = ALL_CAPABILITY_NAMES.length - 1;
    try {
      last = Math.min(last, Number.parseInt(await readFile('/proc/sys/kernel/cap_last_cap', 'utf8'), 10));
    } catch { /* keep the full list */ }
    let bounding = (1n << 64n) - 1n;
    try {
      const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(await readFile('/proc/self/status', 'utf8'));
      if (m) bounding = BigInt('0x' + m[1]);
    } catch { /* assume everything */ }
    return ALL_CAPABILITY_NAMES.filter((_, bit) => bit <= last && (bounding >> BigInt(bit)) & 1n);
  })();
  return hostCapsPromise;
}

/** 'net_admin' / 'NET_ADMIN' / 'CAP_NET_ADMIN' -> 'CAP_NET_ADMIN'; 'all' -> 'ALL'. */
export function normalizeCapability(name: string): string {
  const upper = name.trim().toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!ALL_CAPABILITY_NAMES.includes(full)) throw invalid(`unknown capability: "${full}"`);
  return full;
}

/**
 * Docker's TweakCapabilities: ALL in cap-add means every capability minus the
 * drops; ALL in cap-drop means only the adds; otherwise defaults - drops + adds.
 */
export async function effectiveCapabilities(capAdd: string[], capDrop: string[], privileged: boolean): Promise<string[]> {
  const all = await hostCapabilities();
  if (privileged) return [...all];
  const adds = capAdd.map(normalizeCapability);
  const drops = capDrop.map(normalizeCapability);
  let caps: string[];
  if (adds.includes('ALL')) caps = all.filter((c) => !drops.includes(c));
  else if (drops.includes('ALL')) caps = adds;
  else caps = [...DEFAULT_CAPABILITIES.filter((c) => !drops.includes(c)), ...adds];
  caps = [...new Set(caps)].filter((c) => c !== 'ALL');
  // Say so plainly instead of letting runc fail with "operation not permitted".
  const missing = caps.filter((c) => !all.includes(c));
  if (missing.length > 0) throw invalid(`capability ${missing.join(', ')} is not available on this host`);
  return caps;
}
