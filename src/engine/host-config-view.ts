// HostConfig as container inspect shows it on dockerd 20.10: every field, in
// dockerd's order, with tug's stored value where it keeps one and dockerd's
// zero value for the knobs tug does not offer (block I/O, kernel memory, Windows
// CPU counts). Clients read fields without checking that they exist:
// docker-compose 1.29.2 reads HostConfig.Links, LogConfig and friends on every
// `up`, and a field missing here is a KeyError there.
import type { HostConfig } from './container-record.js';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from '../runtime/spec/security-defaults.js';

/** Whether /proc and /sys are left unmasked (what the spec builder decides the same way). */
function unmasked(hc: HostConfig): boolean {
  return hc.Privileged || (hc.SecurityOpt ?? []).some((o) => o.replace(':', '=') === 'systempaths=unconfined');
}

/** Shown only when set, as dockerd's omitempty fields. */
const omitted = new Set(['Init', 'Tmpfs', 'Sysctls', 'Mounts']);

export function hostConfigView(hc: HostConfig): Record<string, unknown> {
  const open = unmasked(hc);
  const view: Record<string, unknown> = {
    Binds: hc.Binds,
    ContainerIDFile: '',
    // As given at create (log-config.ts). Whatever its driver, the log is conmon's
    // k8s-file, which behaves as json-file does (kept on disk, readable with
    // follow/since/tail). Records made before it was kept: json-file.
    LogConfig: hc.LogConfig ?? { Type: 'json-file', Config: {} },
    NetworkMode: hc.NetworkMode,
    PortBindings: hc.PortBindings,
    RestartPolicy: hc.RestartPolicy,
    AutoRemove: hc.AutoRemove,
    VolumeDriver: hc.VolumeDriver ?? '',
    VolumesFrom: hc.VolumesFrom ?? null,
    CapAdd: hc.CapAdd,
    CapDrop: hc.CapDrop,
    CgroupnsMode: hc.CgroupnsMode ?? '',
    Dns: hc.Dns ?? [],
    DnsOptions: hc.DnsOptions ?? [],
    DnsSearch: hc.DnsSearch ?? [],
    ExtraHosts: hc.ExtraHosts ?? null,
    GroupAdd: hc.GroupAdd ?? null,
    // Records made before the default was filled in at create kept ''.
    IpcMode: hc.IpcMode || 'private',
    Cgroup: '',
    Links: hc.Links ?? null,
    OomScoreAdj: hc.OomScoreAdj ?? 0,
    PidMode: hc.PidMode ?? '',
    Privileged: hc.Privileged,
    PublishAllPorts: hc.PublishAllPorts,
    ReadonlyRootfs: hc.ReadonlyRootfs,
    SecurityOpt: hc.SecurityOpt,
    ...(hc.Tmpfs ? { Tmpfs: hc.Tmpfs } : {}),
    UTSMode: hc.UTSMode ?? '',
    UsernsMode: hc.UsernsMode ?? '',
    ShmSize: hc.ShmSize,
    ...(hc.Sysctls ? { Sysctls: hc.Sysctls } : {}),
    Runtime: 'runc',
    ConsoleSize: hc.ConsoleSize ?? [0, 0],
    Isolation: hc.Isolation ?? '',
    CpuShares: hc.CpuShares,
    Memory: hc.Memory,
    NanoCpus: hc.NanoCpus,
    CgroupParent: '',
    BlkioWeight: 0,
    BlkioWeightDevice: null,
    BlkioDeviceReadBps: null,
    BlkioDeviceWriteBps: null,
    BlkioDeviceReadIOps: null,
    BlkioDeviceWriteIOps: null,
    CpuPeriod: hc.CpuPeriod,
    CpuQuota: hc.CpuQuota,
    CpuRealtimePeriod: hc.CpuRealtimePeriod ?? 0,
    CpuRealtimeRuntime: hc.CpuRealtimeRuntime ?? 0,
    CpusetCpus: hc.CpusetCpus,
    CpusetMems: '',
    Devices: hc.Devices ?? [],
    DeviceCgroupRules: hc.DeviceCgroupRules ?? null,
    DeviceRequests: null,
    KernelMemory: 0,
    KernelMemoryTCP: 0,
    MemoryReservation: hc.MemoryReservation,
    MemorySwap: hc.MemorySwap,
    MemorySwappiness: hc.MemorySwappiness ?? null,
    OomKillDisable: hc.OomKillDisable ?? false,
    PidsLimit: hc.PidsLimit,
    Ulimits: hc.Ulimits ?? null,
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
    ...(hc.Mounts ? { Mounts: hc.Mounts } : {}),
    // dockerd fills these in at create, and leaves them null when they are off.
    MaskedPaths: open ? null : [...DEFAULT_MASKED_PATHS],
    ReadonlyPaths: open ? null : [...DEFAULT_READONLY_PATHS],
    ...(hc.Init !== undefined && hc.Init !== null ? { Init: hc.Init } : {}),
  };
  // A field the record gains later shows too, after dockerd's.
  for (const [k, v] of Object.entries(hc)) if (!(k in view) && !omitted.has(k) && v !== undefined) view[k] = v;
  return view;
}
