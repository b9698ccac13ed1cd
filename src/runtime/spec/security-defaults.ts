// Docker's defaults for what a container may see and do (moby oci/defaults.go
// and daemon/oci_linux.go): capabilities, masked and read-only /proc and /sys
// paths, the standard mounts, the device allow-list and the seccomp profile.
import type { OciDeviceCgroup, OciMount, OciSeccomp } from './oci-runtime-types.js';
import { seccompToOci, goArch } from './seccomp.js';
import { dockerDefaultSeccompProfile } from './seccomp-default.js';

export { DEFAULT_CAPABILITIES, ALL_CAPABILITY_NAMES, hostCapabilities } from './capabilities.js';

/** Hidden behind /dev/null (files) or an empty read-only tmpfs (dirs) by runc. */
export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const DEFAULT_READONLY_PATHS: readonly string[] = [
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
];

/** Docker's default /dev/shm size: 64 MiB. */
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

/** The mounts every container gets, in mount order. */
export function defaultMounts(opts: { shmSize?: number; privileged?: boolean } = {}): OciMount[] {
  const shm = opts.shmSize && opts.shmSize > 0 ? opts.shmSize : DEFAULT_SHM_SIZE;
  // Privileged containers get /sys and the cgroup tree writable, as in Docker.
  const sysMode = opts.privileged ? 'rw' : 'ro';
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', sysMode] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', sysMode] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shm}`] },
  ];
}

const c = (major: number | undefined, minor: number | undefined, access = 'rwm'): OciDeviceCgroup => {
  const rule: OciDeviceCgroup = { allow: true, type: 'c', access };
  if (major !== undefined) rule.major = major;
  if (minor !== undefined) rule.minor = minor;
  return rule;
};

/** Device cgroup rules for an unprivileged container: deny all, then allow the usual nodes. */
export function defaultDeviceRules(): OciDeviceCgroup[] {
  return [
    { allow: false, access: 'rwm' },
    c(undefined, undefined, 'm'), // mknod of any char device (it still cannot be opened)
    { allow: true, type: 'b', access: 'm' },
    c(1, 3), // /dev/null
    c(1, 5), // /dev/zero
    c(1, 7), // /dev/full
    c(1, 8), // /dev/random
    c(1, 9), // /dev/urandom
    c(5, 0), // /dev/tty
    c(5, 1), // /dev/console
    c(5, 2), // /dev/ptmx
    c(136, undefined), // /dev/pts/*
    c(10, 200), // /dev/net/tun
  ];
}

/** Docker's default seccomp profile, filtered for a container's bounding caps and this arch. */
export function defaultSeccomp(caps: readonly string[], arch: string = goArch()): OciSeccomp {
  return seccompToOci(dockerDefaultSeccompProfile(), caps, arch);
}
