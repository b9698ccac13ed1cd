// Turns a ContainerSpec plus the image's config into a validated container
// record. Everything a user can get wrong is checked here, before anything is
// written, so a bad request leaves nothing behind. (The Docker JSON is turned
// into a ContainerSpec in engine-api/create-body.ts.)
import { randomBytes } from 'node:crypto';
import { isAbsolute, posix } from 'node:path';
import { invalid, notFound } from '../errdefs.js';
import type { ContainerConfig, ContainerRecord, HostConfig, MountPoint, RestartPolicy } from './container-record.js';
import type { ContainerSpec, MountOption, MountsSpec, RestartPolicySpec } from './container-spec.js';
import { zeroTime } from './container-record.js';
import { mergeImageDefaults, type ImageDefaults } from './image-merge.js';
import { hostModesOf } from './host-modes.js';
import { validateLogConfig } from './log-config.js';
import { validateExtraHosts } from './extra-hosts.js';
import { isJoinMode } from './shared-namespaces.js';

export interface ImageInfo {
  id: string;
  config: ImageDefaults;
}

const validContainerName = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function validateName(name: string): string {
  if (!validContainerName.test(name)) throw invalid(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return name.startsWith('/') ? name : `/${name}`;
}

export function parseRestartPolicy(p: RestartPolicySpec | undefined, autoRemove: boolean): RestartPolicy {
  const name = p?.name ?? '';
  const max = p?.maximumRetryCount ?? 0;
  if (!['', 'no', 'always', 'on-failure', 'unless-stopped'].includes(name)) {
    throw invalid(`invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
  if (!Number.isInteger(max) || max < 0) throw invalid('invalid restart policy: maximum retry count cannot be negative');
  if (max > 0 && name !== 'on-failure') throw invalid(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
  if (autoRemove && name !== '' && name !== 'no') throw invalid('can\'t create \'AutoRemove\' container with restart policy');
  return { Name: name as RestartPolicy['Name'], MaximumRetryCount: max };
}

const portKey = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp|sctp))?$/;

export function normalizePortKey(k: string): string {
  const m = portKey.exec(k);
  if (!m) throw invalid(`invalid port specification: "${k}"`);
  const port = Number(m[1]);
  if (port < 1 || port > 65535) throw invalid(`invalid port specification: "${k}"`);
  return `${port}/${m[3] ?? 'tcp'}`;
}

function validatePortBindings(pb: HostConfig['PortBindings']): HostConfig['PortBindings'] {
  const out: HostConfig['PortBindings'] = {};
  for (const [k, v] of Object.entries(pb ?? {})) {
    const key = normalizePortKey(k);
    const list = (v ?? []).map((b) => {
      const hostPort = String(b?.HostPort ?? '');
      if (hostPort !== '' && !/^\d{1,5}$/.test(hostPort)) throw invalid(`invalid port specification: "${hostPort}"`);
      if (hostPort !== '' && (Number(hostPort) > 65535)) throw invalid(`invalid port specification: "${hostPort}"`);
      const hostIp = String(b?.HostIp ?? '');
      if (hostIp !== '' && !/^[\d.]+$|^[0-9a-fA-F:]+$/.test(hostIp)) throw invalid(`invalid IP address: ${hostIp}`);
      return { HostIp: hostIp, HostPort: hostPort };
    });
    out[key] = list;
  }
  return out;
}

/** Parses -v specs: '/host:/ctr[:ro|rw|z|Z]', 'name:/ctr[:ro]', '/ctr' (anonymous). */
export function parseBind(spec: string): { type: 'bind' | 'volume'; source: string; destination: string; rw: boolean; mode: string } {
  const parts = spec.split(':');
  let source = '';
  let destination: string;
  let mode = '';
  if (parts.length === 1) destination = parts[0]!;
  else if (parts.length === 2) {
    if (isAbsolute(parts[0]!) && !isAbsolute(parts[1]!)) {
      // '/ctr:ro' form
      destination = parts[0]!;
      mode = parts[1]!;
    } else {
      source = parts[0]!;
      destination = parts[1]!;
    }
  } else if (parts.length === 3) {
    source = parts[0]!;
    destination = parts[1]!;
    mode = parts[2]!;
  } else throw invalid(`invalid volume specification: '${spec}'`);
  if (!destination || !isAbsolute(destination)) throw invalid(`invalid volume specification: '${spec}': invalid mount config for type "bind": invalid mount path: '${destination}' mount path must be absolute`);
  if (destination === '/') throw invalid(`invalid volume specification: '${spec}': invalid mount config: destination can't be '/'`);
  const modes = mode ? mode.split(',') : [];
  for (const m of modes) {
    if (!['ro', 'rw', 'z', 'Z', 'nocopy', 'rprivate', 'private', 'rshared', 'shared', 'rslave', 'slave'].includes(m)) {
      throw invalid(`invalid mode: ${m}`);
    }
  }
  const rw = !modes.includes('ro');
  if (!source) return { type: 'volume', source: '', destination, rw, mode };
  return { type: isAbsolute(source) ? 'bind' : 'volume', source, destination, rw, mode };
}

export interface MountRequest {
  type: 'bind' | 'volume' | 'tmpfs';
  source: string; // host path, volume name ('' = anonymous) or '' for tmpfs
  destination: string;
  rw: boolean;
  mode: string;
  tmpfsOptions?: string;
  /** A volume's directory to mount instead of its root: relative, cleaned, inside the volume. */
  subpath?: string;
}

/**
 * VolumeOptions.Subpath cleaned ('a/./b/' is 'a/b'), or undefined for none;
 * refused when it is absolute or climbs out of the volume, as dockerd refuses it.
 */
function volumeSubpath(subpath: string | undefined): string | undefined {
  if (!subpath) return undefined;
  const clean = posix.normalize(subpath).replace(/\/+$/, '');
  if (posix.isAbsolute(subpath) || clean === '..' || clean.startsWith('../')) {
    throw invalid(`invalid mount config for type "volume": subpath must be a relative path within the volume: "${subpath}"`);
  }
  return clean === '.' ? undefined : clean;
}

export function collectMounts(spec: MountsSpec | undefined, imageVolumes: Record<string, object> | null | undefined): MountRequest[] {
  const mounts: MountRequest[] = [];
  const seen = new Set<string>();
  const add = (m: MountRequest): void => {
    if (seen.has(m.destination)) throw invalid(`Duplicate mount point: ${m.destination}`);
    seen.add(m.destination);
    mounts.push(m);
  };
  for (const b of spec?.binds ?? []) add(parseBind(b));
  for (const m of spec?.mounts ?? []) {
    const { type, target } = m;
    if (!target || !isAbsolute(target)) throw invalid(`invalid mount config for type "${type}": invalid mount path: '${target}' mount path must be absolute`);
    if (type === 'bind') {
      const src = m.source ?? '';
      if (!src || !isAbsolute(src)) throw invalid(`invalid mount config for type "bind": invalid mount path: '${src}' mount path must be absolute`);
      add({ type: 'bind', source: src, destination: target, rw: !m.readOnly, mode: m.readOnly ? 'ro' : '' });
    } else if (type === 'volume') {
      const subpath = volumeSubpath(m.volumeOptions?.subpath);
      add({ type: 'volume', source: m.source ?? '', destination: target, rw: !m.readOnly, mode: m.readOnly ? 'ro' : '', ...(subpath ? { subpath } : {}) });
    } else if (type === 'tmpfs') {
      const opts: string[] = [];
      if (m.tmpfs?.sizeBytes) opts.push(`size=${m.tmpfs.sizeBytes}`);
      if (m.tmpfs?.mode) opts.push(`mode=${m.tmpfs.mode.toString(8)}`);
      add({ type: 'tmpfs', source: '', destination: target, rw: !m.readOnly, mode: '', tmpfsOptions: opts.join(',') });
    } else throw invalid(`invalid mount config: mount type unknown: "${type}"`);
  }
  for (const [dest, opts] of Object.entries(spec?.tmpfs ?? {})) {
    if (!isAbsolute(dest)) throw invalid(`invalid mount config for type "tmpfs": invalid mount path: '${dest}' mount path must be absolute`);
    add({ type: 'tmpfs', source: '', destination: dest, rw: true, mode: '', tmpfsOptions: opts });
  }
  // Image VOLUMEs not covered by an explicit mount become anonymous volumes.
  for (const dest of Object.keys(imageVolumes ?? {})) {
    if (!seen.has(dest)) add({ type: 'volume', source: '', destination: dest, rw: true, mode: '' });
  }
  return mounts;
}

const networkModes = new Set(['', 'default', 'bridge', 'host', 'none']);

/** A --mount entry as inspect shows it (HostConfig.Mounts): Docker's field names, only what was given. */
function mountView(m: MountOption): Record<string, unknown> {
  return {
    Type: m.type,
    ...(m.source !== undefined ? { Source: m.source } : {}),
    Target: m.target,
    ...(m.readOnly ? { ReadOnly: true } : {}),
    ...(m.bindOptions ? { BindOptions: { ...(m.bindOptions.propagation !== undefined ? { Propagation: m.bindOptions.propagation } : {}) } } : {}),
    ...(m.volumeOptions
      ? { VolumeOptions: { ...(m.volumeOptions.noCopy !== undefined ? { NoCopy: m.volumeOptions.noCopy } : {}), ...(m.volumeOptions.subpath ? { Subpath: m.volumeOptions.subpath } : {}) } }
      : {}),
    ...(m.tmpfs ? { TmpfsOptions: { ...(m.tmpfs.sizeBytes !== undefined ? { SizeBytes: m.tmpfs.sizeBytes } : {}), ...(m.tmpfs.mode !== undefined ? { Mode: m.tmpfs.mode } : {}) } } : {}),
  };
}

export function buildRecord(opts: {
  id?: string;
  name: string;
  spec: ContainerSpec;
  image: ImageInfo;
  imageRef: string;
  /** The user-defined network the mode names, already resolved by the engine (container-networking.ts). */
  userNetwork?: string;
}): { record: Omit<ContainerRecord, 'Mounts' | 'LogPath' | 'ResolvConfPath' | 'HostnamePath' | 'HostsPath' | 'Tug'>; mounts: MountRequest[] } {
  const s = opts.spec;
  const ic = opts.image.config;
  const res = s.resources ?? {};
  const sec = s.security ?? {};
  const net = s.network ?? {};
  const id = opts.id ?? randomBytes(32).toString('hex');

  // The image's config fills what the request leaves empty (USER, CMD, ENV, ...), as dockerd's merge() does.
  const merged = mergeImageDefaults(s, ic);
  const argv = [...(merged.Entrypoint ?? []), ...(merged.Cmd ?? [])];

  const networkMode = net.mode ?? 'default';
  // 'container:<ref>' joins another container's namespace (checked and pinned to its id in shared-namespaces.ts).
  if (!networkModes.has(networkMode) && !isJoinMode(networkMode) && networkMode !== opts.userNetwork) throw notFound(`network ${networkMode} not found`);
  const autoRemove = Boolean(s.autoRemove);
  const restart = parseRestartPolicy(s.restartPolicy, autoRemove);
  const portBindings = validatePortBindings(s.ports?.bindings ?? {});
  const exposed: Record<string, object> = {};
  for (const k of Object.keys(merged.ExposedPorts)) exposed[normalizePortKey(k)] = {};
  for (const k of Object.keys(portBindings)) exposed[k] = {};
  if ((networkMode === 'host' || networkMode === 'none') && Object.keys(portBindings).length) {
    // Docker accepts but ignores published ports in host mode; in none mode there is nothing to publish to.
    if (networkMode === 'none') throw invalid('conflicting options: port publishing and the container type network mode');
  }

  validateExtraHosts(net.extraHosts);

  const hc: HostConfig = {
    Binds: s.mounts?.binds ?? null,
    NetworkMode: networkMode === 'default' ? 'bridge' : networkMode,
    PortBindings: portBindings,
    RestartPolicy: restart,
    LogConfig: validateLogConfig(s.logConfig),
    AutoRemove: autoRemove,
    Mounts: s.mounts?.mounts?.map(mountView),
    CapAdd: sec.capAdd ?? null,
    CapDrop: sec.capDrop ?? null,
    Privileged: Boolean(sec.privileged),
    PublishAllPorts: Boolean(s.ports?.publishAll),
    ReadonlyRootfs: Boolean(sec.readonlyRootfs),
    SecurityOpt: sec.securityOpt ?? null,
    Tmpfs: s.mounts?.tmpfs,
    Init: sec.init ?? null,
    Memory: res.memory ?? 0,
    MemorySwap: res.memorySwap ?? 0,
    MemoryReservation: res.memoryReservation ?? 0,
    NanoCpus: res.nanoCpus ?? 0,
    CpuShares: res.cpuShares ?? 0,
    CpuPeriod: res.cpuPeriod ?? 0,
    CpuQuota: res.cpuQuota ?? 0,
    CpusetCpus: res.cpusetCpus ?? '',
    PidsLimit: res.pidsLimit ?? null,
    ShmSize: res.shmSize || 64 * 1024 * 1024,
    Sysctls: sec.sysctls,
    Ulimits: res.ulimits ?? null,
    OomKillDisable: Boolean(res.oomKillDisable),
    // --device: passed to the spec builder, which adds the nodes and their cgroup rules.
    Devices: sec.devices ?? [],
    GroupAdd: sec.groupAdd ?? null,
    // [height, width] of the client's terminal: `docker run -t` sizes the pty from the start.
    ConsoleSize: s.consoleSize,
    // /etc/hosts and /etc/resolv.conf settings (--add-host, --dns, --dns-search, --dns-option).
    ExtraHosts: net.extraHosts ?? null,
    Dns: net.dns ?? [],
    DnsSearch: net.dnsSearch ?? [],
    DnsOptions: net.dnsOptions ?? [],
    // 'private', 'shareable', 'host' or 'container:<ref>': a pod's containers share the sandbox's IPC namespace.
    // dockerd 20.10 fills its default IPC mode in at create: 'private'.
    IpcMode: s.namespaces?.ipc || 'private',
    // '' (private), 'host' or 'container:<ref>'.
    PidMode: s.namespaces?.pid ?? '',
    ...hostModesOf(s),
    // Both resolved against the other containers in lifecycle.ts (volumes-from.ts, links.ts).
    VolumesFrom: s.mounts?.volumesFrom ?? null,
    Links: s.network?.links ?? null,
  };
  if (hc.NanoCpus && (hc.CpuQuota || hc.CpuPeriod)) {
    throw invalid('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  }
  const mounts = collectMounts(s.mounts, merged.Volumes);

  const config: ContainerConfig = {
    Hostname: s.hostname || (hc.NetworkMode === 'host' ? '' : id.slice(0, 12)),
    Domainname: s.domainname ?? '',
    User: merged.User,
    AttachStdin: Boolean(s.attachStdin),
    AttachStdout: s.attachStdout ?? true,
    AttachStderr: s.attachStderr ?? true,
    ExposedPorts: Object.keys(exposed).length ? exposed : undefined,
    Tty: Boolean(s.tty),
    OpenStdin: Boolean(s.openStdin),
    StdinOnce: Boolean(s.stdinOnce),
    Env: merged.Env,
    Cmd: merged.Cmd,
    Healthcheck: merged.Healthcheck,
    Image: opts.imageRef,
    Volumes: Object.keys(merged.Volumes).length ? merged.Volumes : null,
    WorkingDir: merged.WorkingDir,
    Entrypoint: merged.Entrypoint,
    // A container never has ONBUILD triggers; dockerd shows the field as null.
    OnBuild: null,
    Labels: merged.Labels,
    StopSignal: merged.StopSignal,
    StopTimeout: s.stopTimeout,
    ...(net.macAddress ? { MacAddress: checkMacAddress(net.macAddress, hc.NetworkMode) } : {}),
  };
  if (config.WorkingDir && !config.WorkingDir.startsWith('/')) {
    throw invalid(`the working directory '${config.WorkingDir}' is invalid, it needs to be an absolute path`);
  }
  if (config.StopSignal !== undefined) validateSignalName(config.StopSignal);

  return {
    record: {
      Id: id,
      Name: opts.name,
      Created: new Date().toISOString(),
      Path: argv[0]!,
      Args: argv.slice(1),
      Config: config,
      HostConfig: hc,
      Image: opts.image.id,
      State: {
        Status: 'created',
        Running: false,
        Paused: false,
        Restarting: false,
        OOMKilled: false,
        Dead: false,
        Pid: 0,
        ExitCode: 0,
        Error: '',
        StartedAt: zeroTime,
        FinishedAt: zeroTime,
      },
      RestartCount: 0,
      NetworkSettings: { IPAddress: '', IPPrefixLen: 0, Gateway: '', MacAddress: '', Ports: {}, SandboxKey: '' },
    },
    mounts,
  };
}

/** A unicast, colon-separated MAC, only where the container gets an interface of its own. */
function checkMacAddress(mac: string, networkMode: string): string {
  if (!/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(mac)) throw invalid(`invalid MAC address: ${mac}`);
  if (networkMode === 'host' || networkMode === 'none' || isJoinMode(networkMode)) {
    throw invalid('conflicting options: mac-address and the network mode');
  }
  return mac;
}

const signalNames = new Set([
  'HUP', 'INT', 'QUIT', 'ILL', 'TRAP', 'ABRT', 'BUS', 'FPE', 'KILL', 'USR1', 'SEGV', 'USR2', 'PIPE', 'ALRM', 'TERM',
  'STKFLT', 'CHLD', 'CONT', 'STOP', 'TSTP', 'TTIN', 'TTOU', 'URG', 'XCPU', 'XFSZ', 'VTALRM', 'PROF', 'WINCH', 'IO', 'PWR', 'SYS',
]);

export function validateSignalName(s: string): void {
  const n = Number(s);
  if (Number.isInteger(n) && n > 0 && n < 65) return;
  const name = s.toUpperCase().replace(/^SIG/, '');
  if (signalNames.has(name) || /^RTMIN(\+\d+)?$|^RTMAX(-\d+)?$/.test(name)) return;
  throw invalid(`Invalid signal: ${s}`);
}

export type { MountPoint };

