// The normalised Compose project: what a compose file (or several, merged,
// interpolated, with extends/include/profiles applied) means, in one shape.
// The loader (model/) produces it and nothing else; the runtime (project/)
// consumes it and never sees YAML. Every list or string form the spec allows
// is already turned into the long form here, as `docker compose config`
// prints it, so the runtime has one case per key.
//
// Field names follow the Compose Specification's long syntax (snake_case as
// in the file), so `tug compose config` can print this object as YAML.

export interface ComposeProject {
  /** Project name: -p, COMPOSE_PROJECT_NAME, the top-level `name`, or the directory's name; lower-cased, [a-z0-9_-]. */
  name: string;
  /** Absolute project directory (relative paths in the files resolve against it). */
  working_dir: string;
  /** Absolute paths of the files that were merged, in order. */
  config_files: string[];
  /** Services enabled by the active profiles, by name. */
  services: Record<string, ServiceConfig>;
  /** Services left out because none of their profiles is active (kept so `down` and `--remove-orphans` know them). */
  disabled_services: Record<string, ServiceConfig>;
  networks: Record<string, NetworkConfig>;
  volumes: Record<string, VolumeConfig>;
  secrets: Record<string, FileObjectConfig>;
  configs: Record<string, FileObjectConfig>;
  /** The variables interpolation used (.env, --env-file, the process environment). */
  environment: Record<string, string>;
  /** Warnings the loader met (unset variables, obsolete `version`), each once, for the CLI to print. */
  warnings?: string[];
}

export interface ServiceConfig {
  name: string;
  profiles?: string[];
  image?: string;
  build?: BuildConfig;
  pull_policy?: 'always' | 'never' | 'missing' | 'build' | 'if_not_present';
  /** Exec form only: the loader splits a string command with shell-words rules. null: `command: []` clears the image's. */
  command?: string[] | null;
  entrypoint?: string[] | null;
  /**
   * Merged from env_file (in order) then environment. A name given without a value already took the
   * host's (process environment, then .env) in the loader; null is left only when the host has none
   * either, and means "unset in the container".
   */
  environment: Record<string, string | null>;
  ports: PortConfig[];
  expose: string[];
  volumes: ServiceVolumeConfig[];
  /** Network name (the key in ComposeProject.networks) to the attachment; empty when network_mode is set. */
  networks: Record<string, ServiceNetworkConfig>;
  network_mode?: string;
  depends_on: Record<string, DependsOnConfig>;
  healthcheck?: HealthcheckConfig;
  restart?: string;
  deploy?: DeployConfig;
  labels: Record<string, string>;
  container_name?: string;
  user?: string;
  working_dir?: string;
  hostname?: string;
  domainname?: string;
  init?: boolean;
  read_only?: boolean;
  tmpfs: string[];
  cap_add: string[];
  cap_drop: string[];
  privileged?: boolean;
  security_opt: string[];
  ulimits: Record<string, { soft: number; hard: number }>;
  sysctls: Record<string, string>;
  /** 'host:ip' lines (host-gateway allowed). */
  extra_hosts: string[];
  dns: string[];
  dns_search: string[];
  dns_opt: string[];
  stop_signal?: string;
  /** Nanoseconds (the loader parses Compose durations). */
  stop_grace_period?: number;
  tty?: boolean;
  stdin_open?: boolean;
  secrets: ServiceFileRef[];
  configs: ServiceFileRef[];
  pid?: string;
  ipc?: string;
  shm_size?: number;
  mem_limit?: number;
  cpus?: number;
  logging?: { driver?: string; options: Record<string, string> };
  links: string[];
  external_links: string[];
  mac_address?: string;
  /** Engine keys passed through as the engine's HostConfig takes them. */
  platform?: string;
  /** `scale` (deploy.replicas is kept in deploy; the runtime takes deploy.replicas ?? scale ?? 1). */
  scale?: number;
  mem_reservation?: number;
  memswap_limit?: number;
  mem_swappiness?: number;
  cpu_shares?: number;
  cpu_quota?: number;
  cpu_period?: number;
  cpuset?: string;
  pids_limit?: number;
  oom_score_adj?: number;
  oom_kill_disable?: boolean;
  /** 'host:container[:permissions]' lines. */
  devices?: string[];
  group_add?: string[];
  volumes_from?: string[];
  userns_mode?: string;
  uts?: string;
  cgroup_parent?: string;
  runtime?: string;
  storage_opt?: Record<string, string>;
  annotations?: Record<string, string>;
  /** false: `up` does not attach to this service's logs. */
  attach?: boolean;
  /** Labels-free keys the runtime does not act on are refused by the loader, so nothing is silently ignored. */
}

export interface BuildConfig {
  /** Absolute path of the context directory. */
  context: string;
  /** Relative to the context, as the engine's build API takes it. */
  dockerfile: string;
  args: Record<string, string | null>;
  target?: string;
  labels: Record<string, string>;
  cache_from: string[];
  network?: string;
  extra_hosts: string[];
  shm_size?: number;
  dockerfile_inline?: string;
  no_cache?: boolean;
  pull?: boolean;
  privileged?: boolean;
  /** Extra tags for the built image (the first tag is the service's image, or <project>-<service>). */
  tags?: string[];
  platforms?: string[];
}

export interface PortConfig {
  target: number;
  /** '' or a port or range as written ('8000', '8000-8001'); '' means an ephemeral host port. */
  published: string;
  host_ip: string;
  protocol: 'tcp' | 'udp';
  mode: 'ingress' | 'host';
}

export interface ServiceVolumeConfig {
  type: 'volume' | 'bind' | 'tmpfs';
  /** Volume key (project-scoped name resolved by the runtime), absolute host path for bind, absent for tmpfs or an anonymous volume. */
  source?: string;
  target: string;
  read_only: boolean;
  bind?: { create_host_path: boolean; propagation?: string; selinux?: 'z' | 'Z' };
  volume?: { nocopy: boolean; subpath?: string };
  tmpfs?: { size?: number; mode?: number };
}

export interface ServiceNetworkConfig {
  aliases: string[];
  ipv4_address?: string;
  priority?: number;
  mac_address?: string;
}

export interface DependsOnConfig {
  condition: 'service_started' | 'service_healthy' | 'service_completed_successfully';
  restart: boolean;
  required: boolean;
}

export interface HealthcheckConfig {
  /** As Docker's HEALTHCHECK test: ['CMD', ...], ['CMD-SHELL', s] or ['NONE']. */
  test: string[];
  /** Nanoseconds. */
  interval?: number;
  timeout?: number;
  start_period?: number;
  start_interval?: number;
  retries?: number;
  disable?: boolean;
}

export interface DeployConfig {
  replicas?: number;
  resources?: {
    limits?: { cpus?: number; memory?: number; pids?: number };
    reservations?: { cpus?: number; memory?: number };
  };
  restart_policy?: { condition?: 'none' | 'on-failure' | 'any'; max_attempts?: number; delay?: number; window?: number };
  labels?: Record<string, string>;
}

export interface ServiceFileRef {
  source: string;
  /** Absolute path inside the container (/run/secrets/<source> by default for secrets, /<source> for configs). */
  target: string;
  uid?: string;
  gid?: string;
  mode?: number;
}

export interface NetworkConfig {
  /** The engine network's name: <project>_<key> unless `name` is given or it is external. */
  name: string;
  external: boolean;
  driver?: string;
  driver_opts: Record<string, string>;
  internal: boolean;
  attachable: boolean;
  enable_ipv6: boolean;
  ipam?: { driver?: string; config: Array<{ subnet?: string; ip_range?: string; gateway?: string; aux_addresses?: Record<string, string> }>; options?: Record<string, string> };
  labels: Record<string, string>;
}

export interface VolumeConfig {
  /** The engine volume's name: <project>_<key> unless `name` is given or it is external. */
  name: string;
  external: boolean;
  driver?: string;
  driver_opts: Record<string, string>;
  labels: Record<string, string>;
}

export interface FileObjectConfig {
  name: string;
  /** Absolute path of the file source. */
  file?: string;
  /** Inline content (configs' `content`) or an environment variable's value (`environment`). */
  content?: string;
  external: boolean;
}

/** Options the loader takes, from the command line and environment (compose's global flags). */
export interface LoadOptions {
  /** -f files in order; empty means discover compose.yaml, compose.yml, docker-compose.yml, docker-compose.yaml from the working directory upward. */
  files: string[];
  projectName?: string;
  projectDirectory?: string;
  /** --env-file paths; empty means <project dir>/.env if it exists. */
  envFiles: string[];
  /** --profile values; when empty the loader takes COMPOSE_PROFILES (process environment, then .env), comma-separated. '*' enables all. */
  profiles: string[];
  /** The process environment (wins over .env, as in Compose). */
  env: Record<string, string | undefined>;
  cwd: string;
  /** Services named on the command line: enabled whatever their profiles, with what they depend on. */
  services?: string[];
  /** Read by a file named '-' (compose's `-f -`); the CLI passes process.stdin's text. */
  stdin?: string;
}
