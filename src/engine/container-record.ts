// A container as the engine keeps it: Docker's inspect shape (so the API renders
// it with little translation) plus a few fields of tug's own under `Tug`.
import type { HealthcheckConfig } from './health-config.js';
import type { LogConfig } from './log-config.js';

export interface PortBinding {
  HostIp: string;
  HostPort: string;
}

export interface RestartPolicy {
  Name: '' | 'no' | 'always' | 'on-failure' | 'unless-stopped';
  MaximumRetryCount: number;
}

export interface MountPoint {
  Type: 'bind' | 'volume' | 'tmpfs';
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
  /** A volume's directory mounted instead of its root (VolumeOptions.Subpath): relative, cleaned. */
  Subpath?: string;
}

export interface ContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, object>;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[];
  Cmd: string[] | null;
  Healthcheck?: HealthcheckConfig;
  Image: string;
  Volumes: Record<string, object> | null;
  WorkingDir: string;
  Entrypoint: string[] | null;
  OnBuild?: null;
  Labels: Record<string, string>;
  StopSignal?: string;
  StopTimeout?: number;
  /** Asked-for MAC address of the interface on the default bridge. */
  MacAddress?: string;
}

export interface HostConfig {
  Binds: string[] | null;
  NetworkMode: string;
  PortBindings: Record<string, PortBinding[] | null>;
  RestartPolicy: RestartPolicy;
  AutoRemove: boolean;
  /** --mount entries as given (Docker's field names). */
  Mounts?: Array<Record<string, unknown>>;
  CapAdd: string[] | null;
  CapDrop: string[] | null;
  Privileged: boolean;
  PublishAllPorts: boolean;
  ReadonlyRootfs: boolean;
  SecurityOpt: string[] | null;
  Tmpfs?: Record<string, string>;
  Init?: boolean | null;
  Memory: number;
  MemorySwap: number;
  MemoryReservation: number;
  NanoCpus: number;
  CpuShares: number;
  CpuPeriod: number;
  CpuQuota: number;
  CpusetCpus: string;
  PidsLimit: number | null;
  ShmSize: number;
  Sysctls?: Record<string, string>;
  Ulimits?: Array<{ Name: string; Soft: number; Hard: number }> | null;
  OomKillDisable?: boolean;
  Devices?: Array<{ PathOnHost: string; PathInContainer: string; CgroupPermissions: string }>;
  GroupAdd?: string[] | null;
  ConsoleSize?: [number, number];
  ExtraHosts?: string[] | null;
  Dns?: string[];
  DnsSearch?: string[];
  DnsOptions?: string[];
  IpcMode?: string;
  PidMode?: string;
  /** '' or 'host'. */
  UTSMode?: string;
  /** 'private' or 'host' (filled with the engine's default at create). */
  CgroupnsMode?: string;
  Isolation?: string;
  VolumeDriver?: string;
  MemorySwappiness?: number | null;
  OomScoreAdj?: number;
  /** '' or 'host'. */
  UsernsMode?: string;
  CpuRealtimePeriod?: number;
  CpuRealtimeRuntime?: number;
  DeviceCgroupRules?: string[] | null;
  /** As given ('name[:ro|rw]'); the mounts themselves are copied into the record's Mounts at create. */
  VolumesFrom?: string[] | null;
  /** Docker's stored form: '/<linked name>:/<this name>/<alias>'. */
  Links?: string[] | null;
  /** As given at create (log-config.ts); absent in records made before it was kept: json-file. */
  LogConfig?: LogConfig;
}

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerState {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  /** Only for containers with a healthcheck (see health-monitor.ts). */
  Health?: HealthState;
}

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

/** One probe's result, as inspect shows it. */
export interface HealthLogEntry {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

export interface HealthState {
  Status: HealthStatus;
  FailingStreak: number;
  /** The last five results, oldest first. */
  Log: HealthLogEntry[];
}

export interface NetworkSettings {
  IPAddress: string;
  IPPrefixLen: number;
  Gateway: string;
  MacAddress: string;
  Ports: Record<string, PortBinding[] | null>;
  SandboxKey: string;
  /**
   * Endpoints on user-defined networks, by network name, in the order the
   * container joined them (the first is eth0 unless it is also on the default
   * bridge, whose address stays in the fields above). Absent in older records.
   */
  Networks?: Record<string, EndpointSettings>;
  /** What the create request asked of the default bridge's endpoint (IPAMConfig, DriverOpts), shown in inspect. */
  DefaultEndpoint?: Pick<EndpointSettings, 'IPAMConfig' | 'DriverOpts'>;
}

/** One endpoint, in Docker's shape; the live fields are empty while the container is not running. */
export interface EndpointSettings {
  IPAMConfig: { IPv4Address?: string; LinkLocalIPs?: string[] } | null;
  Links: string[] | null;
  /** As given (inspect adds the container's short id, as Docker does). */
  Aliases: string[] | null;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  MacAddress: string;
  DriverOpts: Record<string, string> | null;
  /** tug's own: the MAC asked for (--mac-address), used on every start; not rendered. */
  DesiredMacAddress?: string;
  /** tug's own: the address the endpoint last had, asked for again on the next start; not rendered. */
  LastIPAddress?: string;
}

export interface ContainerRecord {
  Id: string;
  Name: string; // with the leading '/', as Docker stores it
  Created: string;
  Path: string;
  Args: string[];
  Config: ContainerConfig;
  HostConfig: HostConfig;
  Image: string; // image ID
  State: ContainerState;
  RestartCount: number;
  NetworkSettings: NetworkSettings;
  Mounts: MountPoint[];
  LogPath: string;
  ResolvConfPath: string;
  HostnamePath: string;
  HostsPath: string;
  Tug: {
    cgroupsPath: string;
    /** Set by stop/kill through the API: restart policies other than `always` stay down. */
    manuallyStopped: boolean;
  };
}

export const zeroTime = '0001-01-01T00:00:00Z';

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}
