// `tug compose config`: the normalised project printed as YAML, the way
// `docker compose config` prints it: the top level in the order name,
// services, networks, volumes, secrets, configs; a service's keys sorted
// (profiles first); empty lists, empty maps and false flags left out;
// durations as Go writes them ("1m30s"), sizes as byte counts in quotes,
// ports and volumes in their long form, an empty network attachment as null.

import { stringify } from 'yaml';
import type {
  BuildConfig, ComposeProject, FileObjectConfig, NetworkConfig, PortConfig, ServiceConfig, ServiceVolumeConfig, VolumeConfig,
} from './project-types.js';
import { formatDuration } from './units.js';

type Obj = Record<string, unknown>;

/** Drops undefined, empty lists, empty maps and `false`, as Go's omitempty does. */
function clean(o: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === false) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    out[k] = v;
  }
  return out;
}

const sorted = <T>(m: Record<string, T>): Record<string, T> =>
  Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
const bytes = (n: number | undefined): string | undefined => (n === undefined ? undefined : String(n));
const dur = (n: number | undefined): string | undefined => (n === undefined ? undefined : formatDuration(n));

function port(p: PortConfig): Obj {
  return clean({ mode: p.mode, host_ip: p.host_ip || undefined, target: p.target, published: p.published || undefined, protocol: p.protocol });
}

function volume(v: ServiceVolumeConfig): Obj {
  const out: Obj = { type: v.type, source: v.source, target: v.target, read_only: v.read_only };
  if (v.bind) out.bind = clean({ selinux: v.bind.selinux, propagation: v.bind.propagation, create_host_path: v.bind.create_host_path });
  if (v.volume) out.volume = clean({ nocopy: v.volume.nocopy, subpath: v.volume.subpath });
  if (v.tmpfs) out.tmpfs = clean({ size: bytes(v.tmpfs.size), mode: v.tmpfs.mode });
  const c = clean(out);
  // A named volume's empty options still print, as compose does (`volume: {}`).
  if (v.volume && !c.volume) c.volume = {};
  if (v.bind && !c.bind) c.bind = {};
  return c;
}

function build(b: BuildConfig): Obj {
  return clean({
    context: b.context,
    dockerfile: b.dockerfile,
    dockerfile_inline: b.dockerfile_inline,
    args: sorted(b.args),
    labels: sorted(b.labels),
    cache_from: b.cache_from,
    extra_hosts: b.extra_hosts,
    network: b.network,
    no_cache: b.no_cache,
    platforms: b.platforms,
    privileged: b.privileged,
    pull: b.pull,
    shm_size: bytes(b.shm_size),
    tags: b.tags,
    target: b.target,
  });
}

function service(s: ServiceConfig): Obj {
  const o: Obj = { ...s };
  delete o.name;
  o.build = s.build && build(s.build);
  o.ports = s.ports.map(port);
  o.volumes = s.volumes.map(volume);
  o.environment = sorted(s.environment);
  o.labels = sorted(s.labels);
  o.sysctls = sorted(s.sysctls);
  o.networks = sorted(Object.fromEntries(Object.entries(s.networks).map(([k, a]) => {
    const c = clean({ aliases: a.aliases, ipv4_address: a.ipv4_address, mac_address: a.mac_address, priority: a.priority });
    return [k, Object.keys(c).length === 0 ? null : c];
  })));
  o.depends_on = sorted(Object.fromEntries(Object.entries(s.depends_on).map(([k, d]) => [k, clean({ condition: d.condition, restart: d.restart, required: d.required })])));
  o.ulimits = sorted(Object.fromEntries(Object.entries(s.ulimits).map(([k, u]) => [k, u.soft === u.hard ? u.soft : { soft: u.soft, hard: u.hard }])));
  if (s.healthcheck) {
    const h = s.healthcheck;
    o.healthcheck = clean({
      test: h.test,
      timeout: dur(h.timeout),
      interval: dur(h.interval),
      retries: h.retries,
      start_period: dur(h.start_period),
      start_interval: dur(h.start_interval),
      disable: h.disable,
    });
  }
  if (s.deploy) {
    const d = s.deploy;
    const r = d.resources;
    o.deploy = clean({
      replicas: d.replicas,
      labels: d.labels && sorted(d.labels),
      resources: r && clean({
        limits: r.limits && clean({ cpus: r.limits.cpus, memory: bytes(r.limits.memory), pids: r.limits.pids }),
        reservations: r.reservations && clean({ cpus: r.reservations.cpus, memory: bytes(r.reservations.memory) }),
      }),
      restart_policy: d.restart_policy && clean({
        condition: d.restart_policy.condition,
        delay: dur(d.restart_policy.delay),
        max_attempts: d.restart_policy.max_attempts,
        window: dur(d.restart_policy.window),
      }),
    });
  }
  if (s.logging) o.logging = clean({ driver: s.logging.driver, options: sorted(s.logging.options) });
  for (const k of ['shm_size', 'mem_limit', 'mem_reservation', 'memswap_limit'] as const) o[k] = bytes(s[k]);
  o.stop_grace_period = dur(s.stop_grace_period);
  const c = clean(o);
  // `command: []` (clear the image's) prints as an empty list, as compose does.
  if (s.command === null) c.command = [];
  if (s.entrypoint === null) c.entrypoint = [];
  const keys = Object.keys(c).sort((a, b) => (a === 'profiles' ? -1 : b === 'profiles' ? 1 : a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(keys.map((k) => [k, c[k]]));
}

function network(n: NetworkConfig): Obj {
  return clean({
    name: n.name,
    driver: n.driver,
    driver_opts: sorted(n.driver_opts),
    ipam: n.ipam && clean({ driver: n.ipam.driver, config: n.ipam.config.map((c) => clean({ ...c })), options: n.ipam.options }),
    external: n.external,
    internal: n.internal,
    attachable: n.attachable,
    enable_ipv6: n.enable_ipv6,
    labels: sorted(n.labels),
  });
}

function volumeTop(v: VolumeConfig): Obj {
  return clean({ name: v.name, driver: v.driver, driver_opts: sorted(v.driver_opts), external: v.external, labels: sorted(v.labels) });
}

function fileObject(f: FileObjectConfig): Obj {
  return clean({ name: f.name, file: f.file, content: f.content, external: f.external });
}

const mapValues = <T>(m: Record<string, T>, f: (v: T) => Obj): Obj => sorted(Object.fromEntries(Object.entries(m).map(([k, v]) => [k, f(v)])));

/** What `tug compose config` prints (enabled services only, as compose): YAML, or the same document as JSON (--format json). */
export function renderConfig(project: ComposeProject, format: 'yaml' | 'json' = 'yaml'): string {
  const doc = clean({
    name: project.name,
    services: mapValues(project.services, service),
    networks: mapValues(project.networks, network),
    volumes: mapValues(project.volumes, volumeTop),
    secrets: mapValues(project.secrets, fileObject),
    configs: mapValues(project.configs, fileObject),
  });
  if (format === 'json') return `${JSON.stringify(doc, null, 2)}\n`;
  return stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });
}
