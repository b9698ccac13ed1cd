// A service's normalised config turned into the Docker create body for one of
// its containers, as docker compose maps each key (its convert.go), so the
// container the engine makes is the one `docker compose up` would make.
// Networks are left to the caller (they need the engine's network names and
// the other services' container ids); what cannot go in the body (a secret
// or config given inline) is returned as files to copy in before start.
import type { ComposeProject, ServiceConfig, ServiceVolumeConfig } from '../model/project-types.js';

export interface FileToCopy {
  /** Absolute path in the container. */
  target: string;
  content: string;
  mode: number;
  uid?: string;
  gid?: string;
}

export interface ContainerBody {
  body: Record<string, any>;
  /** Inline secrets/configs (content or environment sources), written with PUT /archive after create. */
  files: FileToCopy[];
}

export interface BodyContext {
  project: ComposeProject;
  /** The image reference the container runs (the service's image, or the one built for it). */
  image: string;
  labels: Record<string, string>;
  /** Resolves `service:X` (network_mode, pid, ipc) to a container id of X. */
  containerOf(service: string): string;
  /** Volumes of the container this one replaces, kept for anonymous volumes at the same path. */
  inheritedVolumes?: Array<{ name: string; target: string }>;
}

const NS_PER_S = 1_000_000_000;

export function containerBody(service: ServiceConfig, ctx: BodyContext): ContainerBody {
  const files: FileToCopy[] = [];
  const { mounts, binds } = volumeMounts(service, ctx);
  for (const ref of [...service.secrets.map((r) => ({ ...r, kind: 'secrets' as const })), ...service.configs.map((r) => ({ ...r, kind: 'configs' as const }))]) {
    const obj = ctx.project[ref.kind][ref.source];
    if (!obj) continue; // the loader refuses references to undefined secrets/configs
    if (obj.file) mounts.push({ Type: 'bind', Source: obj.file, Target: ref.target, ReadOnly: true });
    else files.push({ target: ref.target, content: obj.content ?? '', mode: ref.mode ?? 0o444, uid: ref.uid, gid: ref.gid });
  }
  const limits = service.deploy?.resources?.limits;
  const reservations = service.deploy?.resources?.reservations;
  const cpus = limits?.cpus ?? service.cpus;
  const hc: Record<string, any> = {
    Binds: binds.length ? binds : undefined,
    Mounts: mounts.length ? mounts : undefined,
    Tmpfs: service.tmpfs.length ? tmpfsMap(service.tmpfs) : undefined,
    PortBindings: portBindings(service),
    RestartPolicy: restartPolicy(service),
    Memory: limits?.memory ?? service.mem_limit,
    MemoryReservation: reservations?.memory ?? service.mem_reservation,
    NanoCpus: cpus !== undefined ? Math.round(cpus * NS_PER_S) : undefined,
    PidsLimit: limits?.pids ?? service.pids_limit,
    ShmSize: service.shm_size,
    Init: service.init,
    ReadonlyRootfs: service.read_only,
    Privileged: service.privileged,
    CapAdd: service.cap_add.length ? service.cap_add : undefined,
    CapDrop: service.cap_drop.length ? service.cap_drop : undefined,
    SecurityOpt: service.security_opt.length ? service.security_opt : undefined,
    Ulimits: Object.keys(service.ulimits).length
      ? Object.entries(service.ulimits).map(([Name, l]) => ({ Name, Soft: l.soft, Hard: l.hard }))
      : undefined,
    Sysctls: Object.keys(service.sysctls).length ? service.sysctls : undefined,
    ExtraHosts: service.extra_hosts.length ? service.extra_hosts : undefined,
    Dns: service.dns.length ? service.dns : undefined,
    DnsSearch: service.dns_search.length ? service.dns_search : undefined,
    DnsOptions: service.dns_opt.length ? service.dns_opt : undefined,
    PidMode: namespaceMode(service.pid, ctx),
    IpcMode: namespaceMode(service.ipc, ctx),
    LogConfig: service.logging ? { Type: service.logging.driver ?? '', Config: service.logging.options } : undefined,
    Links: links(service, ctx.project.name),
    MemorySwap: service.memswap_limit,
    MemorySwappiness: service.mem_swappiness,
    CpuShares: service.cpu_shares,
    CpuQuota: service.cpu_quota,
    CpuPeriod: service.cpu_period,
    CpusetCpus: service.cpuset,
    OomScoreAdj: service.oom_score_adj,
    OomKillDisable: service.oom_kill_disable,
    Devices: service.devices?.length ? service.devices.map(deviceOf) : undefined,
    GroupAdd: service.group_add?.length ? service.group_add : undefined,
    VolumesFrom: service.volumes_from?.length ? service.volumes_from.map((v) => volumesFromOf(v, ctx)) : undefined,
    UsernsMode: service.userns_mode,
    UTSMode: service.uts,
    CgroupParent: service.cgroup_parent,
    Runtime: service.runtime,
    StorageOpt: service.storage_opt,
    Annotations: service.annotations,
  };
  const body: Record<string, any> = {
    Image: ctx.image,
    Cmd: service.command === null ? [] : service.command,
    Entrypoint: service.entrypoint === null ? [] : service.entrypoint,
    Env: envList(service, ctx.project),
    Labels: ctx.labels,
    User: service.user,
    WorkingDir: service.working_dir,
    Hostname: service.hostname,
    Domainname: service.domainname,
    Tty: service.tty ?? false,
    OpenStdin: service.stdin_open ?? false,
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    StopSignal: service.stop_signal,
    StopTimeout: service.stop_grace_period !== undefined ? Math.ceil(service.stop_grace_period / NS_PER_S) : undefined,
    ExposedPorts: exposedPorts(service),
    Healthcheck: healthcheck(service),
    MacAddress: service.mac_address,
    HostConfig: dropUndefined(hc),
  };
  return { body: dropUndefined(body), files };
}

function dropUndefined(o: Record<string, any>): Record<string, any> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** null values come from the environment interpolation saw (the host's), else are left unset. */
function envList(service: ServiceConfig, project: ComposeProject): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(service.environment)) {
    const value = v ?? project.environment[k];
    if (value !== undefined && value !== null) out.push(`${k}=${value}`);
  }
  return out;
}

function portBindings(service: ServiceConfig): Record<string, Array<{ HostIp: string; HostPort: string }>> | undefined {
  if (!service.ports.length) return undefined;
  const out: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const p of service.ports) {
    const key = `${p.target}/${p.protocol}`;
    (out[key] ??= []).push({ HostIp: p.host_ip, HostPort: p.published });
  }
  return out;
}

function exposedPorts(service: ServiceConfig): Record<string, object> | undefined {
  const keys = [...service.expose.map((e) => (e.includes('/') ? e : `${e}/tcp`)), ...service.ports.map((p) => `${p.target}/${p.protocol}`)];
  return keys.length ? Object.fromEntries(keys.map((k) => [k, {}])) : undefined;
}

function healthcheck(service: ServiceConfig): Record<string, unknown> | undefined {
  const h = service.healthcheck;
  if (!h) return undefined;
  if (h.disable) return { Test: ['NONE'] };
  return dropUndefined({ Test: h.test.length ? h.test : undefined, Interval: h.interval, Timeout: h.timeout, StartPeriod: h.start_period, StartInterval: h.start_interval, Retries: h.retries });
}

/** `restart` wins; else deploy.restart_policy as compose maps it (none → no, any → always). */
function restartPolicy(service: ServiceConfig): { Name: string; MaximumRetryCount: number } | undefined {
  if (service.restart) {
    const [name, max] = service.restart.split(':');
    return { Name: name === 'no' ? '' : name!, MaximumRetryCount: max ? Number(max) : 0 };
  }
  const rp = service.deploy?.restart_policy;
  if (!rp) return undefined;
  const name = rp.condition === 'none' ? '' : rp.condition === 'on-failure' ? 'on-failure' : 'always';
  return { Name: name, MaximumRetryCount: rp.max_attempts ?? 0 };
}

function namespaceMode(mode: string | undefined, ctx: BodyContext): string | undefined {
  if (mode?.startsWith('service:')) return `container:${ctx.containerOf(mode.slice('service:'.length))}`;
  return mode;
}

/** links: 'svc[:alias]' to the service's first container, as compose v2 writes them. */
function links(service: ServiceConfig, project: string): string[] | undefined {
  const out = service.links.map((l) => {
    const [svc, alias] = l.split(':');
    return `${project}-${svc}-1:${alias ?? svc}`;
  });
  out.push(...service.external_links.map((l) => (l.includes(':') ? l : `${l}:${l}`)));
  return out.length ? out : undefined;
}

/** 'host:container[:permissions]' as the engine's Devices entry. */
function deviceOf(spec: string): { PathOnHost: string; PathInContainer: string; CgroupPermissions: string } {
  const [host, inner, perms] = spec.split(':');
  return { PathOnHost: host!, PathInContainer: inner || host!, CgroupPermissions: perms || 'rwm' };
}

/** volumes_from: 'service[:ro|rw]' names the service's first container; 'container:name[:mode]' a container. */
function volumesFromOf(spec: string, ctx: BodyContext): string {
  if (spec.startsWith('container:')) return spec.slice('container:'.length);
  const [svc, mode] = spec.split(':');
  return `${ctx.containerOf(svc!)}${mode ? `:${mode}` : ''}`;
}

function tmpfsMap(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of list) {
    const i = t.indexOf(':');
    out[i < 0 ? t : t.slice(0, i)] = i < 0 ? '' : t.slice(i + 1);
  }
  return out;
}

/**
 * Named volumes and tmpfs go in Mounts; binds that may create their host path
 * go in Binds (the engine makes a missing directory only for those, as
 * Docker does). An anonymous volume reuses the replaced container's volume
 * at the same path, so recreating keeps its data as compose does.
 */
function volumeMounts(service: ServiceConfig, ctx: BodyContext): { mounts: Array<Record<string, unknown>>; binds: string[] } {
  const mounts: Array<Record<string, unknown>> = [];
  const binds: string[] = [];
  const targets = new Set<string>();
  for (const v of service.volumes) {
    targets.add(v.target);
    if (v.type === 'bind' && (v.bind?.create_host_path ?? true) && !v.bind?.propagation) {
      binds.push(`${v.source}:${v.target}:${v.read_only ? 'ro' : 'rw'}${v.bind?.selinux ? `,${v.bind.selinux}` : ''}`);
      continue;
    }
    const kept = v.type === 'volume' && !v.source ? ctx.inheritedVolumes?.find((i) => i.target === v.target) : undefined;
    mounts.push(kept ? { ...mountOf(v, ctx), Source: kept.name } : mountOf(v, ctx));
  }
  for (const inherited of ctx.inheritedVolumes ?? []) {
    if (!targets.has(inherited.target)) mounts.push({ Type: 'volume', Source: inherited.name, Target: inherited.target });
  }
  return { mounts, binds };
}

function mountOf(v: ServiceVolumeConfig, ctx: BodyContext): Record<string, unknown> {
  if (v.type === 'tmpfs') {
    return { Type: 'tmpfs', Target: v.target, ReadOnly: v.read_only, TmpfsOptions: v.tmpfs ? dropUndefined({ SizeBytes: v.tmpfs.size, Mode: v.tmpfs.mode }) : undefined };
  }
  if (v.type === 'bind') {
    return { Type: 'bind', Source: v.source, Target: v.target, ReadOnly: v.read_only, BindOptions: v.bind?.propagation ? { Propagation: v.bind.propagation } : undefined };
  }
  const named = v.source ? (ctx.project.volumes[v.source]?.name ?? v.source) : undefined;
  const opts = dropUndefined({ NoCopy: v.volume?.nocopy || undefined, Subpath: v.volume?.subpath });
  return dropUndefined({ Type: 'volume', Source: named, Target: v.target, ReadOnly: v.read_only, VolumeOptions: Object.keys(opts).length ? opts : undefined });
}
