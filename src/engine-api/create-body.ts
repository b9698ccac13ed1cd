// The Docker JSON of POST /containers/create and POST /containers/{id}/update
// turned into the engine's typed ContainerSpec / ContainerUpdate. Only the
// JSON's types are checked here (as dockerd's decoder does, with the messages
// clients know); what the values mean is checked by the engine, for every
// caller alike. A field the client did not send stays undefined, so the
// image's value or the engine's default applies.
import { invalid } from '../errdefs.js';
import type { HealthcheckConfig } from '../engine/health-config.js';
import type { PortBinding } from '../engine/container-record.js';
import type { LogConfigSpec } from '../engine/log-config.js';
import type { ContainerSpec, ContainerUpdate, EndpointSpec, MountOption, ResourcesSpec, RestartPolicySpec } from '../engine/container-spec.js';

/** The wire body: any JSON object, read field by field below. */
export interface CreateBody {
  Image?: unknown;
  HostConfig?: Record<string, unknown> | null;
  NetworkingConfig?: unknown;
  [key: string]: unknown;
}

export function containerSpecFromBody(body: unknown, name?: string): ContainerSpec {
  if (!body || typeof body !== 'object') throw invalid('config cannot be empty in order to create a container');
  const b = body as CreateBody;
  if (!b.Image) throw invalid('No image specified');
  const hc = (b.HostConfig ?? {}) as Record<string, unknown>;
  const spec: ContainerSpec = {
    image: String(b.Image),
    name,
    entrypoint: argvOf(b.Entrypoint, 'Entrypoint'),
    cmd: argvOf(b.Cmd, 'Cmd'),
    env: envOf(b.Env),
    user: stringOf(b.User, 'User'),
    workingDir: stringOf(b.WorkingDir, 'WorkingDir'),
    hostname: b.Hostname ? String(b.Hostname) : undefined,
    domainname: b.Domainname === undefined || b.Domainname === null ? undefined : String(b.Domainname),
    labels: labelsOf(b.Labels),
    stopSignal: stringOf(b.StopSignal, 'StopSignal'),
    stopTimeout: b.StopTimeout === undefined || b.StopTimeout === null ? undefined : (b.StopTimeout as number),
    healthcheck: healthcheckOf(b.Healthcheck),
    exposedPorts: Object.keys(objectOf(b.ExposedPorts, 'ExposedPorts')),
    volumes: Object.keys(objectOf(b.Volumes, 'Volumes')),
    tty: Boolean(b.Tty),
    openStdin: Boolean(b.OpenStdin),
    stdinOnce: Boolean(b.StdinOnce),
    attachStdin: Boolean(b.AttachStdin),
    attachStdout: b.AttachStdout === undefined || b.AttachStdout === null ? undefined : Boolean(b.AttachStdout),
    attachStderr: b.AttachStderr === undefined || b.AttachStderr === null ? undefined : Boolean(b.AttachStderr),
    consoleSize: hc.ConsoleSize as [number, number] | undefined,
    mounts: {
      binds: (hc.Binds as string[] | null | undefined) ?? undefined,
      mounts: mountsOf(hc.Mounts),
      tmpfs: hc.Tmpfs as Record<string, string> | undefined,
      volumesFrom: stringListOf(hc.VolumesFrom, 'VolumesFrom'),
    },
    ports: { bindings: portBindingsOf(hc.PortBindings), publishAll: Boolean(hc.PublishAllPorts) },
    resources: {
      ...resourcesOf(hc),
      shmSize: num(hc.ShmSize, 'ShmSize'),
      ulimits: hc.Ulimits as ResourcesSpec['ulimits'],
      oomKillDisable: Boolean(hc.OomKillDisable),
      memorySwappiness: hc.MemorySwappiness === null ? null : num(hc.MemorySwappiness, 'MemorySwappiness'),
      // docker-py spells these CPURealtime*; Go's decoder matches field names case-insensitively.
      cpuRealtimePeriod: num(hc.CpuRealtimePeriod ?? hc.CPURealtimePeriod, 'CpuRealtimePeriod'),
      cpuRealtimeRuntime: num(hc.CpuRealtimeRuntime ?? hc.CPURealtimeRuntime, 'CpuRealtimeRuntime'),
      oomScoreAdj: num(hc.OomScoreAdj, 'OomScoreAdj'),
    },
    security: {
      privileged: Boolean(hc.Privileged),
      readonlyRootfs: Boolean(hc.ReadonlyRootfs),
      capAdd: hc.CapAdd as string[] | null | undefined,
      capDrop: hc.CapDrop as string[] | null | undefined,
      securityOpt: hc.SecurityOpt as string[] | null | undefined,
      groupAdd: hc.GroupAdd as string[] | null | undefined,
      devices: (hc.Devices as NonNullable<ContainerSpec['security']>['devices'] | null) ?? undefined,
      sysctls: hc.Sysctls as Record<string, string> | undefined,
      init: hc.Init as boolean | null | undefined,
      deviceCgroupRules: stringListOf(hc.DeviceCgroupRules, 'DeviceCgroupRules'),
    },
    network: {
      mode: hc.NetworkMode === undefined || hc.NetworkMode === null ? undefined : String(hc.NetworkMode),
      extraHosts: hc.ExtraHosts as string[] | null | undefined,
      dns: (hc.Dns as string[] | null) ?? undefined,
      dnsSearch: (hc.DnsSearch as string[] | null) ?? undefined,
      dnsOptions: (hc.DnsOptions as string[] | null) ?? undefined,
      links: stringListOf(hc.Links, 'Links'),
      macAddress: macAddressOf(b),
      endpoints: endpointsOf(b.NetworkingConfig),
    },
    namespaces: {
      ipc: hc.IpcMode as string | undefined,
      pid: hc.PidMode as string | undefined,
      uts: stringOf(hc.UTSMode, 'HostConfig.UTSMode'),
      cgroupns: stringOf(hc.CgroupnsMode, 'HostConfig.CgroupnsMode'),
      userns: stringOf(hc.UsernsMode, 'HostConfig.UsernsMode'),
    },
    isolation: stringOf(hc.Isolation, 'HostConfig.Isolation'),
    volumeDriver: stringOf(hc.VolumeDriver, 'HostConfig.VolumeDriver'),
    restartPolicy: restartPolicyOf(hc.RestartPolicy),
    logConfig: logConfigOf(hc.LogConfig),
    autoRemove: Boolean(hc.AutoRemove),
  };
  return spec;
}

/** POST /containers/{id}/update: a field counts as given unless absent, null, 0 or "" (what clients send for "unchanged"). */
export function containerUpdateFromBody(body: unknown): ContainerUpdate {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const given = (v: unknown): boolean => v !== undefined && v !== null && v !== 0 && v !== '';
  const resources: NonNullable<ContainerUpdate['resources']> = {};
  for (const k of ['Memory', 'MemorySwap', 'MemoryReservation', 'NanoCpus', 'CpuShares', 'CpuPeriod', 'CpuQuota', 'PidsLimit'] as const) {
    if (given(b[k])) resources[camel(k) as 'memory'] = b[k] as number;
  }
  if (given(b.CpusetCpus)) resources.cpusetCpus = String(b.CpusetCpus);
  const rp = b.RestartPolicy as { Name?: unknown } | null | undefined;
  return { resources, restartPolicy: rp && rp.Name !== undefined ? restartPolicyOf(rp) : undefined };
}

const camel = (k: string): string => k[0]!.toLowerCase() + k.slice(1);

function resourcesOf(hc: Record<string, unknown>): ResourcesSpec {
  return {
    memory: num(hc.Memory, 'Memory'),
    memorySwap: num(hc.MemorySwap, 'MemorySwap'),
    memoryReservation: num(hc.MemoryReservation, 'MemoryReservation'),
    nanoCpus: num(hc.NanoCpus, 'NanoCpus'),
    cpuShares: num(hc.CpuShares, 'CpuShares'),
    cpuPeriod: num(hc.CpuPeriod, 'CpuPeriod'),
    cpuQuota: num(hc.CpuQuota, 'CpuQuota'),
    cpusetCpus: String(hc.CpusetCpus ?? ''),
    pidsLimit: (hc.PidsLimit as number | null | undefined) ?? null,
  };
}

function restartPolicyOf(v: unknown): RestartPolicySpec | undefined {
  if (v === undefined || v === null) return undefined;
  const p = v as { Name?: unknown; MaximumRetryCount?: unknown };
  const max = p.MaximumRetryCount;
  return {
    name: p.Name === undefined || p.Name === null ? undefined : String(p.Name),
    // Not a number: NaN, which the engine refuses as it refuses any non-integer count.
    maximumRetryCount: max === undefined || max === null ? undefined : typeof max === 'number' ? max : NaN,
  };
}

function logConfigOf(v: unknown): LogConfigSpec | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid('HostConfig.LogConfig must be an object');
  const lc = v as { Type?: unknown; Config?: unknown };
  return {
    type: stringOf(lc.Type, 'HostConfig.LogConfig.Type'),
    config: objectOf(lc.Config, 'HostConfig.LogConfig.Config') as Record<string, string>,
  };
}

function mountsOf(v: unknown): MountOption[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw invalid('HostConfig.Mounts must be an array');
  return v.map((raw: unknown) => {
    const m = (raw ?? {}) as Record<string, unknown>;
    const t = m.TmpfsOptions as { SizeBytes?: number; Mode?: number } | undefined;
    const bo = m.BindOptions as { Propagation?: string } | undefined;
    const vo = m.VolumeOptions as { NoCopy?: boolean; Subpath?: unknown } | undefined;
    return {
      type: String(m.Type ?? 'volume'),
      source: m.Source === undefined || m.Source === null ? undefined : String(m.Source),
      target: String(m.Target ?? m.Destination ?? ''),
      readOnly: Boolean(m.ReadOnly),
      tmpfs: t ? { sizeBytes: t.SizeBytes, mode: t.Mode } : undefined,
      bindOptions: bo ? { propagation: bo.Propagation } : undefined,
      volumeOptions: vo ? { noCopy: vo.NoCopy, subpath: vo.Subpath === undefined || vo.Subpath === null ? undefined : stringOf(vo.Subpath, 'Mounts.VolumeOptions.Subpath') } : undefined,
    };
  });
}

function portBindingsOf(v: unknown): Record<string, PortBinding[] | null> | undefined {
  if (v === undefined || v === null) return undefined;
  const out: Record<string, PortBinding[] | null> = {};
  for (const [k, list] of Object.entries(v as Record<string, unknown>)) {
    if (list === null || list === undefined) out[k] = null;
    else if (!Array.isArray(list)) throw invalid(`invalid port specification: "${k}"`);
    else out[k] = list.map((b: { HostIp?: unknown; HostPort?: unknown } | null) => ({ HostIp: String(b?.HostIp ?? ''), HostPort: String(b?.HostPort ?? '') }));
  }
  return out;
}

function num(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`invalid value for HostConfig.${field}: ${String(v)}`);
  return v;
}

/** Go's strslice: a string is a one-element list; null/absent stays null. */
function argvOf(v: unknown, field: string): string[] | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw invalid(`${field} must be a string or an array of strings`);
}

function stringListOf(v: unknown, field: string): string[] | null | undefined {
  if (v === undefined || v === null) return v as null | undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw invalid(`HostConfig.${field} must be an array of strings`);
  return v as string[];
}

/** NetworkingConfig.EndpointsConfig: per network, the endpoint's aliases, static address, MAC, links and driver options. */
export function endpointsOf(v: unknown): Record<string, EndpointSpec> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid('NetworkingConfig must be an object');
  const eps = (v as { EndpointsConfig?: unknown }).EndpointsConfig;
  if (eps === undefined || eps === null) return undefined;
  if (typeof eps !== 'object' || Array.isArray(eps)) throw invalid('NetworkingConfig.EndpointsConfig must be an object');
  const out: Record<string, EndpointSpec> = {};
  for (const [net, raw] of Object.entries(eps as Record<string, unknown>)) out[net] = endpointSpecOf(raw, `EndpointsConfig.${net}`);
  return Object.keys(out).length ? out : undefined;
}

/** One EndpointSettings body (create's EndpointsConfig entry, or connect's EndpointConfig). */
export function endpointSpecOf(raw: unknown, where: string): EndpointSpec {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalid(`${where} must be an object`);
  const e = raw as Record<string, unknown>;
  const ipam = e.IPAMConfig as Record<string, unknown> | null | undefined;
  if (ipam !== undefined && ipam !== null && (typeof ipam !== 'object' || Array.isArray(ipam))) throw invalid(`${where}.IPAMConfig must be an object`);
  const list = (x: unknown, f: string): string[] | undefined => {
    if (x === undefined || x === null) return undefined;
    if (!Array.isArray(x) || !x.every((s) => typeof s === 'string')) throw invalid(`${where}.${f} must be an array of strings`);
    return x as string[];
  };
  const opts = e.DriverOpts;
  if (opts !== undefined && opts !== null && (typeof opts !== 'object' || Array.isArray(opts))) throw invalid(`${where}.DriverOpts must be an object`);
  return {
    aliases: list(e.Aliases, 'Aliases'),
    ipv4Address: stringOf(ipam?.IPv4Address, `${where}.IPAMConfig.IPv4Address`) || undefined,
    linkLocalIps: list(ipam?.LinkLocalIPs, 'IPAMConfig.LinkLocalIPs'),
    macAddress: stringOf(e.MacAddress, `${where}.MacAddress`) || undefined,
    links: list(e.Links, 'Links'),
    driverOpts: (opts as Record<string, string> | null | undefined) ?? undefined,
  };
}

/** API < 1.44 sends Config.MacAddress; 1.44+ sends it per endpoint (the default bridge's is the one tug applies). */
function macAddressOf(b: CreateBody): string | undefined {
  const legacy = stringOf(b.MacAddress, 'MacAddress');
  if (legacy) return legacy;
  const eps = (b.NetworkingConfig as { EndpointsConfig?: Record<string, { MacAddress?: unknown } | null> } | null | undefined)?.EndpointsConfig;
  for (const ep of Object.values(eps ?? {})) {
    const mac = stringOf(ep?.MacAddress, 'EndpointsConfig.MacAddress');
    if (mac) return mac;
  }
  return undefined;
}

function stringOf(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(`${field} must be a string`);
  return v;
}

function envOf(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw invalid('Env must be an array of "KEY=value" strings');
  for (const e of v) if (typeof e !== 'string') throw invalid(`invalid environment variable: ${String(e)}`);
  return v as string[];
}

function objectOf(v: unknown, field: string): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(`${field} must be an object`);
  return v as Record<string, unknown>;
}

function labelsOf(v: unknown): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  const labels = objectOf(v, 'Labels');
  for (const [k, val] of Object.entries(labels)) if (typeof val !== 'string') throw invalid(`label ${k} must be a string`);
  return labels as Record<string, string>;
}

function healthcheckOf(hc: unknown): HealthcheckConfig | undefined {
  if (hc === undefined || hc === null) return undefined;
  if (typeof hc !== 'object' || Array.isArray(hc)) throw invalid('Healthcheck must be an object');
  return hc as HealthcheckConfig;
}
