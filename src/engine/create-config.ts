// Turns a Docker /containers/create body plus the image's config into a
// validated container record. Everything a user can get wrong is checked here,
// before anything is written, so a bad request leaves nothing behind.
import { randomBytes } from 'node:crypto';
import { isAbsolute } from 'node:path';
import { invalid, notFound } from '../errdefs.js';
import type { ContainerConfig, ContainerRecord, HostConfig, MountPoint, RestartPolicy } from './container-record.js';
import { zeroTime } from './container-record.js';
import { mergeImageDefaults, type ImageDefaults } from './image-merge.js';

export interface ImageInfo {
  id: string;
  config: ImageDefaults;
}

const validContainerName = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function validateName(name: string): string {
  if (!validContainerName.test(name)) throw invalid(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return name.startsWith('/') ? name : `/${name}`;
}

export function parseRestartPolicy(p: Partial<RestartPolicy> | undefined, autoRemove: boolean): RestartPolicy {
  const name = (p?.Name ?? '') as string;
  const max = p?.MaximumRetryCount ?? 0;
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
}

export function collectMounts(hc: HostConfig, imageVolumes: Record<string, object> | null | undefined): MountRequest[] {
  const mounts: MountRequest[] = [];
  const seen = new Set<string>();
  const add = (m: MountRequest): void => {
    if (seen.has(m.destination)) throw invalid(`Duplicate mount point: ${m.destination}`);
    seen.add(m.destination);
    mounts.push(m);
  };
  for (const b of hc.Binds ?? []) add(parseBind(b));
  for (const m of hc.Mounts ?? []) {
    const type = String(m.Type ?? 'volume');
    const target = String(m.Target ?? m.Destination ?? '');
    if (!target || !isAbsolute(target)) throw invalid(`invalid mount config for type "${type}": invalid mount path: '${target}' mount path must be absolute`);
    if (type === 'bind') {
      const src = String(m.Source ?? '');
      if (!src || !isAbsolute(src)) throw invalid(`invalid mount config for type "bind": invalid mount path: '${src}' mount path must be absolute`);
      add({ type: 'bind', source: src, destination: target, rw: !m.ReadOnly, mode: m.ReadOnly ? 'ro' : '' });
    } else if (type === 'volume') {
      add({ type: 'volume', source: String(m.Source ?? ''), destination: target, rw: !m.ReadOnly, mode: m.ReadOnly ? 'ro' : '' });
    } else if (type === 'tmpfs') {
      const opts: string[] = [];
      const t = (m.TmpfsOptions ?? {}) as { SizeBytes?: number; Mode?: number };
      if (t.SizeBytes) opts.push(`size=${t.SizeBytes}`);
      if (t.Mode) opts.push(`mode=${t.Mode.toString(8)}`);
      add({ type: 'tmpfs', source: '', destination: target, rw: !m.ReadOnly, mode: '', tmpfsOptions: opts.join(',') });
    } else throw invalid(`invalid mount config: mount type unknown: "${type}"`);
  }
  for (const [dest, opts] of Object.entries(hc.Tmpfs ?? {})) {
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

export interface CreateBody extends Partial<ContainerConfig> {
  HostConfig?: Partial<HostConfig>;
  NetworkingConfig?: unknown;
  [key: string]: unknown;
}

export function buildRecord(opts: {
  id?: string;
  name: string;
  body: CreateBody;
  image: ImageInfo;
  imageRef: string;
}): { record: Omit<ContainerRecord, 'Mounts' | 'LogPath' | 'ResolvConfPath' | 'HostnamePath' | 'HostsPath' | 'Tug'>; mounts: MountRequest[] } {
  const b = opts.body;
  const ic = opts.image.config;
  const hcIn = b.HostConfig ?? {};
  const id = opts.id ?? randomBytes(32).toString('hex');

  // The image's config fills what the request leaves empty (USER, CMD, ENV, ...), as dockerd's merge() does.
  const merged = mergeImageDefaults(b, ic);
  const argv = [...(merged.Entrypoint ?? []), ...(merged.Cmd ?? [])];

  const networkMode = String(hcIn.NetworkMode ?? 'default');
  // 'container:<ref>' joins another container's namespace (checked and pinned to its id in shared-namespaces.ts).
  if (!networkModes.has(networkMode) && !networkMode.startsWith('container:')) throw notFound(`network ${networkMode} not found`);
  const autoRemove = Boolean(hcIn.AutoRemove);
  const restart = parseRestartPolicy(hcIn.RestartPolicy, autoRemove);
  const portBindings = validatePortBindings(hcIn.PortBindings ?? {});
  const exposed: Record<string, object> = {};
  for (const k of Object.keys(merged.ExposedPorts)) exposed[normalizePortKey(k)] = {};
  for (const k of Object.keys(portBindings)) exposed[k] = {};
  if ((networkMode === 'host' || networkMode === 'none') && Object.keys(portBindings).length) {
    // Docker accepts but ignores published ports in host mode; in none mode there is nothing to publish to.
    if (networkMode === 'none') throw invalid('conflicting options: port publishing and the container type network mode');
  }

  const hc: HostConfig = {
    Binds: hcIn.Binds ?? null,
    NetworkMode: networkMode === 'default' ? 'bridge' : networkMode,
    PortBindings: portBindings,
    RestartPolicy: restart,
    AutoRemove: autoRemove,
    Mounts: hcIn.Mounts,
    CapAdd: hcIn.CapAdd ?? null,
    CapDrop: hcIn.CapDrop ?? null,
    Privileged: Boolean(hcIn.Privileged),
    PublishAllPorts: Boolean(hcIn.PublishAllPorts),
    ReadonlyRootfs: Boolean(hcIn.ReadonlyRootfs),
    SecurityOpt: hcIn.SecurityOpt ?? null,
    Tmpfs: hcIn.Tmpfs,
    Init: hcIn.Init ?? null,
    Memory: num(hcIn.Memory, 'Memory'),
    MemorySwap: num(hcIn.MemorySwap, 'MemorySwap'),
    MemoryReservation: num(hcIn.MemoryReservation, 'MemoryReservation'),
    NanoCpus: num(hcIn.NanoCpus, 'NanoCpus'),
    CpuShares: num(hcIn.CpuShares, 'CpuShares'),
    CpuPeriod: num(hcIn.CpuPeriod, 'CpuPeriod'),
    CpuQuota: num(hcIn.CpuQuota, 'CpuQuota'),
    CpusetCpus: String(hcIn.CpusetCpus ?? ''),
    PidsLimit: hcIn.PidsLimit ?? null,
    ShmSize: num(hcIn.ShmSize, 'ShmSize') || 64 * 1024 * 1024,
    Sysctls: hcIn.Sysctls,
    Ulimits: hcIn.Ulimits ?? null,
    OomKillDisable: Boolean(hcIn.OomKillDisable),
    // --device: passed to the spec builder, which adds the nodes and their cgroup rules.
    Devices: hcIn.Devices ?? [],
    GroupAdd: hcIn.GroupAdd ?? null,
    // [height, width] of the client's terminal: `docker run -t` sizes the pty from the start.
    ConsoleSize: hcIn.ConsoleSize,
    // /etc/hosts and /etc/resolv.conf settings (--add-host, --dns, --dns-search, --dns-option).
    ExtraHosts: hcIn.ExtraHosts ?? null,
    Dns: hcIn.Dns ?? [],
    DnsSearch: hcIn.DnsSearch ?? [],
    DnsOptions: hcIn.DnsOptions ?? [],
    // '' (private), 'shareable' or 'container:<ref>': a pod's containers share the sandbox's IPC namespace.
    IpcMode: hcIn.IpcMode ?? '',
    // '' (private), 'host' or 'container:<ref>'.
    PidMode: hcIn.PidMode ?? '',
  };
  if (hc.NanoCpus && (hc.CpuQuota || hc.CpuPeriod)) {
    throw invalid('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  }
  const mounts = collectMounts(hc, merged.Volumes);

  const config: ContainerConfig = {
    Hostname: b.Hostname || (hc.NetworkMode === 'host' ? '' : id.slice(0, 12)),
    Domainname: b.Domainname ?? '',
    User: merged.User,
    AttachStdin: Boolean(b.AttachStdin),
    AttachStdout: b.AttachStdout ?? true,
    AttachStderr: b.AttachStderr ?? true,
    ExposedPorts: Object.keys(exposed).length ? exposed : undefined,
    Tty: Boolean(b.Tty),
    OpenStdin: Boolean(b.OpenStdin),
    StdinOnce: Boolean(b.StdinOnce),
    Env: merged.Env,
    Cmd: merged.Cmd,
    Healthcheck: merged.Healthcheck,
    Image: opts.imageRef,
    Volumes: Object.keys(merged.Volumes).length ? merged.Volumes : null,
    WorkingDir: merged.WorkingDir,
    Entrypoint: merged.Entrypoint,
    Labels: merged.Labels,
    StopSignal: merged.StopSignal,
    StopTimeout: b.StopTimeout,
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

function num(v: unknown, field: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`invalid value for HostConfig.${field}: ${String(v)}`);
  return v;
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

