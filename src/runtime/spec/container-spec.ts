// Build a container's OCI runtime config.json from what Docker's
// container-create carries, with Docker's defaults for everything the user did
// not say (moby daemon/oci_linux.go is the reference).
import { access, constants } from 'node:fs/promises';
import { isAbsolute, posix } from 'node:path';
import { invalid, unavailable } from '../../errdefs.js';
import { resourcesToOci } from '../cgroups/resources-to-oci.js';
import { isCgroupV2 } from '../cgroups/cgroup-fs.js';
import { effectiveCapabilities } from './capabilities.js';
import { customDevices, deviceRuleToOci, hostDevices } from './devices.js';
import { ulimitsToRlimits, validateSysctls } from './kernel-settings.js';
import type { OciMount, OciNamespace, OciRuntimeSpec, OciSeccomp } from './oci-runtime-types.js';
import { goArch, loadSeccompProfileFile, parseSeccompProfile, seccompToOci } from './seccomp.js';
import { parseSecurityOpts } from './security-opts.js';
import {
  DEFAULT_MASKED_PATHS,
  DEFAULT_READONLY_PATHS,
  defaultDeviceRules,
  defaultMounts,
  defaultSeccomp,
} from './security-defaults.js';
import { resolveUser } from './user.js';
import type { ResourceSpec } from './resource-spec.js';
import { validateResources } from './validate-resources.js';

export type { ResourceSpec } from './resource-spec.js';
export type { OciRuntimeSpec, OciLinuxResources } from './oci-runtime-types.js';
export { validateResources } from './validate-resources.js';

export interface MountSpec {
  type: 'bind' | 'tmpfs';
  source: string;
  destination: string;
  readonly: boolean;
  /** e.g. ['rprivate'] for binds; tmpfs 'size=64m,mode=1777' (comma lists are split). */
  options?: string[];
}

export interface ContainerSpecInput {
  id: string;
  /** Absolute path of the mounted overlay. */
  rootfs: string;
  /** Entrypoint + cmd, already combined by the engine. */
  args: string[];
  /** 'K=V'; PATH (if missing), HOSTNAME and TERM (tty) are added as Docker does. */
  env: string[];
  cwd: string;
  /** '' | 'uid' | 'uid:gid' | 'name' | 'name:group', resolved in the rootfs. */
  user: string;
  tty: boolean;
  openStdin: boolean;
  hostname: string;
  domainname?: string;
  readonlyRootfs: boolean;
  mounts: MountSpec[];
  /** 'none' = a new netns with only loopback. */
  network: { mode: 'path'; netnsPath: string } | { mode: 'host' } | { mode: 'none' };
  /** Host files bind-mounted at /etc/resolv.conf, /etc/hosts, /etc/hostname. */
  etcFiles?: { resolvConf?: string; hosts?: string; hostname?: string };
  resources: ResourceSpec;
  /** e.g. '/tug-<daemon-id>/<container-id>': unique per daemon. */
  cgroupsPath: string;
  privileged: boolean;
  capAdd: string[];
  capDrop: string[];
  securityOpt: string[];
  /** Run args under tini mounted at /sbin/docker-init. */
  init: boolean;
  sysctls?: Record<string, string>;
  ulimits?: Array<{ Name: string; Soft: number; Hard: number }>;
  devices?: Array<{ PathOnHost: string; PathInContainer: string; CgroupPermissions: string }>;
  /** /dev/shm size in bytes; default 64 MiB. */
  shmSize?: number;
  oomScoreAdj?: number;
  /** --pid host / --ipc host: no pid / ipc namespace of its own, as Docker leaves them out of the spec. */
  hostPid?: boolean;
  hostIpc?: boolean;
  /** --uts host: no UTS namespace of its own, so no hostname is set. */
  hostUts?: boolean;
  /** A cgroup namespace of its own ('private') or the host's; default: private on cgroup v2, host on v1 (Docker's). */
  cgroupns?: 'private' | 'host';
  /** --device-cgroup-rule lines ('c 42:* rmw'), allowed after the defaults. */
  deviceCgroupRules?: string[];
}

export const OCI_VERSION = '1.0.2';
export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** tini from Debian's `tini` package, statically linked so it runs in any image. */
export const TINI_HOST_PATH = '/usr/bin/tini-static';
export const INIT_PATH_IN_CONTAINER = '/sbin/docker-init';

/** Docker's CreateDaemonEnvironment: defaults first, then the user's values replace or append. */
export function containerEnv(userEnv: readonly string[], hostname: string, tty: boolean): string[] {
  const env = [DEFAULT_PATH_ENV, `HOSTNAME=${hostname}`];
  if (tty) env.push('TERM=xterm');
  for (const kv of userEnv) {
    const eq = kv.indexOf('=');
    const key = eq === -1 ? kv : kv.slice(0, eq);
    if (key === '') throw invalid(`invalid environment variable: "${kv}"`);
    if (eq === -1) continue; // a bare name means "pass through from the client"; the CLI resolves it, so nothing to add
    const i = env.findIndex((e) => e.startsWith(`${key}=`));
    if (i === -1) env.push(kv);
    else env[i] = kv;
  }
  return env;
}

const depth = (p: string): number => p.split('/').filter(Boolean).length;

function checkDestination(dest: string): string {
  if (!posix.isAbsolute(dest)) throw invalid(`invalid mount config: mount destination "${dest}" is not an absolute path`);
  const clean = posix.normalize(dest).replace(/\/$/, '');
  if (clean === '') throw invalid('invalid mount config: destination can\'t be \'/\'');
  return clean;
}

const PROPAGATIONS = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'];

function userMountToOci(m: MountSpec): OciMount {
  const destination = checkDestination(m.destination);
  const extra = (m.options ?? []).flatMap((o) => o.split(',')).map((o) => o.trim()).filter(Boolean);
  if (m.type === 'bind') {
    if (!isAbsolute(m.source)) throw invalid(`invalid mount config for type "bind": bind source path "${m.source}" must be absolute`);
    // The readonly flag decides ro/rw; SELinux relabel flags (z, Z) mean nothing without SELinux.
    const options = ['rbind', ...extra.filter((o) => !['bind', 'rbind', 'ro', 'rw', 'z', 'Z'].includes(o))];
    if (!options.some((o) => PROPAGATIONS.includes(o))) options.push('rprivate');
    options.push(m.readonly ? 'ro' : 'rw');
    return { destination, type: 'bind', source: m.source, options };
  }
  if (m.type === 'tmpfs') {
    // Docker's --tmpfs defaults; user options come later so e.g. 'exec' wins over 'noexec'.
    const options = ['nosuid', 'nodev', 'noexec', ...extra];
    if (m.readonly) options.push('ro');
    return { destination, type: 'tmpfs', source: 'tmpfs', options };
  }
  throw invalid(`invalid mount config: mount type "${(m as MountSpec).type}" is not supported`);
}

function etcFileMounts(etc: ContainerSpecInput['etcFiles'], readonly: boolean): OciMount[] {
  const out: OciMount[] = [];
  const add = (source: string | undefined, destination: string): void => {
    if (!source) return;
    if (!isAbsolute(source)) throw invalid(`etc file source "${source}" must be an absolute path`);
    out.push({ destination, type: 'bind', source, options: ['rbind', 'rprivate', readonly ? 'ro' : 'rw'] });
  };
  add(etc?.resolvConf, '/etc/resolv.conf');
  add(etc?.hostname, '/etc/hostname');
  add(etc?.hosts, '/etc/hosts');
  return out;
}

async function seccompFor(opt: ReturnType<typeof parseSecurityOpts>['seccomp'], privileged: boolean, caps: string[]): Promise<OciSeccomp | undefined> {
  // Docker runs privileged containers without any filter, even a custom one.
  if (opt === 'unconfined' || privileged) return undefined;
  if (typeof opt === 'object') {
    const profile = 'json' in opt ? parseSeccompProfile(opt.json) : await loadSeccompProfileFile(opt.path);
    return seccompToOci(profile, caps, goArch());
  }
  return defaultSeccomp(caps);
}

function namespacesFor(net: ContainerSpecInput['network'], host: { pid?: boolean; ipc?: boolean; uts?: boolean } = {}, cgroupns?: 'private' | 'host'): OciNamespace[] {
  const ns: OciNamespace[] = [];
  if (!host.pid) ns.push({ type: 'pid' });
  if (!host.ipc) ns.push({ type: 'ipc' });
  if (!host.uts) ns.push({ type: 'uts' });
  ns.push({ type: 'mount' });
  if (net.mode === 'path') {
    if (!isAbsolute(net.netnsPath)) throw invalid(`network namespace path "${net.netnsPath}" must be absolute`);
    ns.push({ type: 'network', path: net.netnsPath });
  } else if (net.mode === 'none') {
    ns.push({ type: 'network' });
  } else if (net.mode !== 'host') {
    throw invalid(`unknown network mode "${(net as { mode: string }).mode}"`);
  }
  // Docker's default on cgroup v2 is a private cgroup namespace; v1 hosts share the host's.
  if ((cgroupns ?? (isCgroupV2() ? 'private' : 'host')) === 'private') ns.push({ type: 'cgroup' });
  return ns;
}

export async function buildOciSpec(input: ContainerSpecInput): Promise<OciRuntimeSpec> {
  if (!isAbsolute(input.rootfs)) throw invalid(`rootfs "${input.rootfs}" must be an absolute path`);
  if (input.args.length === 0 || input.args[0] === '') throw invalid('No command specified');
  const cwd = input.cwd || '/';
  if (!posix.isAbsolute(cwd)) throw invalid(`the working directory '${cwd}' is invalid, it needs to be an absolute path`);
  if (input.oomScoreAdj !== undefined && (!Number.isInteger(input.oomScoreAdj) || input.oomScoreAdj < -1000 || input.oomScoreAdj > 1000)) {
    throw invalid(`Invalid value ${input.oomScoreAdj}, range for oom score adj is [-1000, 1000]`);
  }
  validateResources(input.resources);
  const security = parseSecurityOpts(input.securityOpt);
  const caps = await effectiveCapabilities(input.capAdd, input.capDrop, input.privileged);
  const user = await resolveUser(input.rootfs, input.user);
  const hostNetwork = input.network.mode === 'host';

  // Sysctls: Docker's defaults for a private netns, then the domain name, then the user's.
  const sysctl: Record<string, string> = {};
  if (!hostNetwork) {
    // Unprivileged ports and ping work inside a container's own netns, as in Docker 20.10+.
    sysctl['net.ipv4.ip_unprivileged_port_start'] = '0';
    sysctl['net.ipv4.ping_group_range'] = '0 2147483647';
  }
  if (input.domainname) sysctl['kernel.domainname'] = input.domainname;
  if (input.sysctls) {
    validateSysctls(input.sysctls, hostNetwork);
    Object.assign(sysctl, input.sysctls);
  }

  // Mounts: defaults, minus any the user replaces, then the user's sorted parents-first.
  const userMounts = [...input.mounts.map(userMountToOci), ...etcFileMounts(input.etcFiles, input.readonlyRootfs)];
  let args = [...input.args];
  if (input.init) {
    try {
      await access(TINI_HOST_PATH, constants.X_OK);
    } catch {
      throw unavailable(`--init needs ${TINI_HOST_PATH} (Debian package tini), which is not installed`);
    }
    userMounts.push({ destination: INIT_PATH_IN_CONTAINER, type: 'bind', source: TINI_HOST_PATH, options: ['bind', 'rprivate', 'ro'] });
    args = [INIT_PATH_IN_CONTAINER, '--', ...args];
  }
  const seen = new Set<string>();
  for (const m of userMounts) {
    if (seen.has(m.destination)) throw invalid(`Duplicate mount point: ${m.destination}`);
    seen.add(m.destination);
  }
  userMounts.sort((a, b) => depth(a.destination) - depth(b.destination));
  const mounts = [
    ...defaultMounts({ shmSize: input.shmSize, privileged: input.privileged })
      .filter((m) => !seen.has(m.destination))
      // Host IPC: the host's /dev/shm, as Docker bind-mounts it (shared memory is files there).
      .map((m) => (input.hostIpc && m.destination === '/dev/shm' ? { destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'rprivate'] } : m)),
    ...userMounts,
  ];

  const resources = resourcesToOci(input.resources);
  const custom = await customDevices(input.devices ?? []);
  const devices = input.privileged ? [...(await hostDevices()), ...custom.devices] : custom.devices;
  resources.devices = input.privileged
    ? [{ allow: true, access: 'rwm' }]
    : [...defaultDeviceRules(), ...custom.rules, ...(input.deviceCgroupRules ?? []).map(deviceRuleToOci)];

  const unmasked = input.privileged || security.unmaskSystemPaths;
  const seccomp = await seccompFor(security.seccomp, input.privileged, caps);

  const spec: OciRuntimeSpec = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: input.tty,
      user: { uid: user.uid, gid: user.gid, ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}) },
      args,
      env: containerEnv(input.env, input.hostname, input.tty),
      cwd,
      // Inheritable and ambient stay empty (moby after CVE-2022-24769).
      capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] },
      noNewPrivileges: security.noNewPrivileges,
    },
    root: { path: input.rootfs, readonly: input.readonlyRootfs },
    // runc refuses a hostname without a UTS namespace of its own.
    ...(input.hostUts ? {} : { hostname: input.hostname }),
    mounts,
    linux: {
      namespaces: namespacesFor(input.network, { pid: input.hostPid, ipc: input.hostIpc, uts: input.hostUts }, input.cgroupns),
      cgroupsPath: input.cgroupsPath,
      resources,
      maskedPaths: unmasked ? [] : [...DEFAULT_MASKED_PATHS],
      readonlyPaths: unmasked ? [] : [...DEFAULT_READONLY_PATHS],
    },
  };
  if (input.ulimits?.length) spec.process.rlimits = ulimitsToRlimits(input.ulimits);
  if (input.oomScoreAdj !== undefined) spec.process.oomScoreAdj = input.oomScoreAdj;
  if (devices.length) spec.linux.devices = devices;
  if (Object.keys(sysctl).length) spec.linux.sysctl = sysctl;
  if (seccomp) spec.linux.seccomp = seccomp;
  return spec;
}
