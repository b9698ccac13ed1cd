// What it takes to make a container, typed: the one shape every caller of the
// engine's door (container-service.ts) speaks. A Docker create body becomes
// one in engine-api/create-body.ts; a pod and a Dockerfile RUN build one
// directly. Leaving a field out means what leaving it out of a Docker
// create request means: the image's value where Docker's merge() fills it in
// (image-merge.ts), the engine's default otherwise. The spec is checked in
// create-config.ts before anything is written.
import type { LogConfigSpec } from './log-config.js';
import type { HealthcheckConfig } from './health-config.js';
import type { PortBinding } from './container-record.js';

export interface ContainerSpec {
  /** Image reference or ID. */
  image: string;
  /** Without a name the engine draws one (adjective_noun). */
  name?: string;

  /** The process. Docker's ENTRYPOINT/CMD rules (image-merge.ts): null or absent inherits, [] keeps the image's ENTRYPOINT out, [''] means none. */
  entrypoint?: string[] | null;
  cmd?: string[] | null;
  /** KEY=value; the image's variables the spec does not set are kept. */
  env?: string[];
  /** '' or absent: the image's USER. */
  user?: string;
  /** '' or absent: the image's WORKDIR. */
  workingDir?: string;
  hostname?: string;
  domainname?: string;
  /** Merged over the image's labels. */
  labels?: Record<string, string>;
  stopSignal?: string;
  /** Seconds `stop` waits before SIGKILL (default 10). */
  stopTimeout?: number;
  /** Merged field by field over the image's; Test ['NONE'] turns it off. */
  healthcheck?: HealthcheckConfig;
  /** Port keys ('80', '53/udp') added to the image's EXPOSE list. */
  exposedPorts?: string[];
  /** Paths that get an anonymous volume, besides the image's VOLUMEs. */
  volumes?: string[];

  /** stdio: a terminal, an open stdin (closed after the first attach with stdinOnce), and what `docker run` attaches. */
  tty?: boolean;
  openStdin?: boolean;
  stdinOnce?: boolean;
  attachStdin?: boolean;
  attachStdout?: boolean;
  attachStderr?: boolean;
  /** [height, width] of the client's terminal, so the pty is sized from the start. */
  consoleSize?: [number, number];

  mounts?: MountsSpec;
  ports?: PortsSpec;
  resources?: ResourcesSpec;
  security?: SecuritySpec;
  network?: NetworkSpec;
  namespaces?: NamespacesSpec;
  restartPolicy?: RestartPolicySpec;
  /** HostConfig.LogConfig: the driver ('' for the default) and its options, checked in log-config.ts. */
  logConfig?: LogConfigSpec;
  /** Remove the container when it exits (docker run --rm). */
  autoRemove?: boolean;
  /** Docker's isolation technology: on Linux only '' or 'default' (echoed as given). */
  isolation?: string;
  /** HostConfig.VolumeDriver, echoed as given: tug's volumes are all 'local'. */
  volumeDriver?: string;
}

/** The three ways Docker names a mount, kept apart because inspect shows each as given. */
export interface MountsSpec {
  /** -v specs: '/host:/ctr[:opts]', 'volume:/ctr[:opts]', '/ctr' (anonymous volume). */
  binds?: string[];
  /** --mount entries. */
  mounts?: MountOption[];
  /** --tmpfs: destination → mount options. */
  tmpfs?: Record<string, string>;
  /** --volumes-from: 'container[:ro|rw]'; that container's mounts, read-only or writable as asked (default: as they are there). */
  volumesFrom?: string[] | null;
}

export interface MountOption {
  type: 'bind' | 'volume' | 'tmpfs' | string;
  /** Host path (bind), volume name ('' = anonymous), unused for tmpfs. */
  source?: string;
  target: string;
  readOnly?: boolean;
  tmpfs?: { sizeBytes?: number; mode?: number };
  /** Carried into inspect as given (tug applies neither propagation nor noCopy). */
  bindOptions?: { propagation?: string };
  /** subpath: mount this directory of the volume instead of its root (API 1.45). */
  volumeOptions?: { noCopy?: boolean; subpath?: string };
}

export interface PortsSpec {
  /** '80/tcp' → host bindings; HostPort '' picks a free port. */
  bindings?: Record<string, PortBinding[] | null>;
  /** Publish every exposed port on a free host port (-P). */
  publishAll?: boolean;
}

/** cgroup limits; 0 or absent means none. */
export interface ResourcesSpec {
  memory?: number;
  memorySwap?: number;
  memoryReservation?: number;
  nanoCpus?: number;
  cpuShares?: number;
  cpuPeriod?: number;
  cpuQuota?: number;
  cpusetCpus?: string;
  pidsLimit?: number | null;
  /** /dev/shm size in bytes (default 64 MiB). */
  shmSize?: number;
  ulimits?: Array<{ Name: string; Soft: number; Hard: number }> | null;
  oomKillDisable?: boolean;
  /** 0-100 (cgroup v1 memory.swappiness); null or -1: the kernel's, inherited. */
  memorySwappiness?: number | null;
  /** Microseconds (cgroup v1 cpu.rt_period_us / cpu.rt_runtime_us). */
  cpuRealtimePeriod?: number;
  cpuRealtimeRuntime?: number;
  /** -1000..1000, the process's /proc/self/oom_score_adj. */
  oomScoreAdj?: number;
}

export interface SecuritySpec {
  privileged?: boolean;
  readonlyRootfs?: boolean;
  capAdd?: string[] | null;
  capDrop?: string[] | null;
  /** Docker's --security-opt values (seccomp=..., no-new-privileges, apparmor=..., ...). */
  securityOpt?: string[] | null;
  /** Supplementary groups, by name (looked up in the image) or number. */
  groupAdd?: string[] | null;
  devices?: Array<{ PathOnHost: string; PathInContainer: string; CgroupPermissions: string }>;
  sysctls?: Record<string, string>;
  /** Run an init as PID 1. */
  init?: boolean | null;
  /** --device-cgroup-rule: 'c 42:* rmw' lines added to the device cgroup's allow list. */
  deviceCgroupRules?: string[] | null;
}

export interface NetworkSpec {
  /** 'bridge' (default), 'host', 'none', 'container:<ref>' or a user-defined network's name or id. */
  mode?: string;
  /**
   * Per network (name or id): the endpoint's settings. The mode's network comes
   * first whatever the order here; other networks are joined too, in order.
   */
  endpoints?: Record<string, EndpointSpec>;
  /** 'name:ip' lines for /etc/hosts. */
  extraHosts?: string[] | null;
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  /** --link 'name:alias' (or 'name'): /etc/hosts lines and the legacy link variables. */
  links?: string[] | null;
  /** The interface's MAC address on the default bridge. */
  macAddress?: string;
}

export interface EndpointSpec {
  /** Extra names on the network (user-defined networks only). */
  aliases?: string[];
  /** A static address in the network's subnet (user-configured subnets only). */
  ipv4Address?: string;
  /** Kept and shown as given (tug adds no link-local address). */
  linkLocalIps?: string[];
  macAddress?: string;
  /** 'name:alias' legacy links, kept as given. */
  links?: string[];
  driverOpts?: Record<string, string>;
}

export interface NamespacesSpec {
  /** '' (private), 'shareable', 'host', 'container:<ref>' or 'ns:<pinned namespace file>'. */
  ipc?: string;
  /** '' (private), 'host', 'container:<ref>' or 'ns:<path>'. */
  pid?: string;
  /** '' (private), 'host' or 'ns:<pinned namespace file>'. */
  uts?: string;
  /** '' (the engine's default: private on cgroup v2, host on v1), 'private' or 'host'. */
  cgroupns?: string;
  /** '' or 'host': tug has no user-namespace remapping, so both mean the host's user namespace, as on a dockerd without userns-remap. */
  userns?: string;
}

export interface RestartPolicySpec {
  /** '', 'no', 'always', 'on-failure' or 'unless-stopped' (checked at create). */
  name?: string;
  maximumRetryCount?: number;
}

/** What `update` may change on a container, live: only the fields given. */
export interface ContainerUpdate {
  resources?: Pick<ResourcesSpec, 'memory' | 'memorySwap' | 'memoryReservation' | 'nanoCpus' | 'cpuShares' | 'cpuPeriod' | 'cpuQuota' | 'cpusetCpus' | 'pidsLimit'>;
  restartPolicy?: RestartPolicySpec;
}
