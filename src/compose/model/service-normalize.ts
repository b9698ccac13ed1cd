// One service's validated YAML to the long form of project-types.ts, key by
// key, leaving out keys the file does not set (so a later file's merge can
// tell "not set" from "set to the default"). Relative paths resolve against
// `baseDir`: the project directory for -f files, the extended file's own
// directory for `extends: file:`, the include's project directory for include.

import * as path from 'node:path';
import type {
  BuildConfig, DeployConfig, DependsOnConfig, HealthcheckConfig, PortConfig, ServiceConfig, ServiceFileRef,
  ServiceNetworkConfig, ServiceVolumeConfig,
} from './project-types.js';
import { parsePortLong, parsePortString } from './ports.js';
import { shellSplit } from './shell-split.js';
import { parseDuration, parseSize } from './units.js';
import { parseVolumeLong, parseVolumeString, resolveHostPath } from './volumes.js';
import { Override, RESET, type SourceFile, sourceError } from './yaml-source.js';

/** A service as one file (or an extends chain) states it: only the keys it sets. */
export interface PartialService extends Partial<Omit<ServiceConfig, 'name' | 'build'>> {
  build?: Partial<BuildConfig>;
  /** raw: KEY=VALUE lines taken literally (format: raw), no quotes or interpolation. */
  env_file?: Array<{ path: string; required: boolean; raw?: boolean }>;
  extends?: { service: string; file?: string };
  /** Where the service came from, for error lines after the merge. */
  origin?: SourceFile;
  /** Every file that set part of it (merged -f files), oldest first. */
  sources?: SourceFile[];
  /** The directory its relative paths resolved against (extends of the same file reuses it). */
  baseDir?: string;
  /** Keys an override file tagged `!reset` (removed by the merge) or `!override` (replaced, not merged). */
  reset?: string[];
  override?: string[];
  /** List-form entries' paths ('depends_on.db' → 'services.web.depends_on[0]') so errors find their line. */
  refPaths?: Record<string, string>;
}

type Raw = Record<string, unknown>;

export const isObj = (v: unknown): v is Raw => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string => (v === null || v === undefined || typeof v === 'symbol' ? '' : String(v));
const bool = (v: unknown): boolean => v === true || (typeof v === 'string' && v.toLowerCase() === 'true');
const num = (v: unknown): number => Number(v);

export class Ctx {
  constructor(
    readonly src: SourceFile | undefined,
    readonly baseDir: string,
    readonly at: string,
  ) {}
  fail(key: string, msg: string): Error {
    return sourceError(this.src, key ? `${this.at}.${key}` : this.at, msg);
  }
  /** Runs a unit parser and names the key when it throws. */
  wrap<T>(key: string, f: () => T): T {
    try {
      return f();
    } catch (err) {
      if (err instanceof Error && err.name !== 'TugError') throw this.fail(key, err.message);
      throw err;
    }
  }
}

/** `KEY=VALUE` list or mapping to a map; `KEY` alone (or a null value) is null. */
export function listOrDict(v: unknown, sep = '='): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (Array.isArray(v)) {
    for (const item of v) {
      const s = str(item);
      const i = s.indexOf(sep);
      if (i < 0) out[s] = null;
      else out[s.slice(0, i)] = s.slice(i + 1);
    }
  } else if (isObj(v)) {
    for (const [k, val] of Object.entries(v)) {
      // An entry tagged !reset stays a marker the merge deletes the key for (finalize drops any left).
      out[k] = val === RESET ? (RESET as never) : val === null || val === undefined ? null : String(val);
    }
  }
  return out;
}

/** Labels, sysctls and the like: null values become ''. */
export function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(listOrDict(v))) out[k] = (val as unknown) === RESET ? val! : val ?? '';
  return out;
}

const strList = (v: unknown): string[] => (v === null || v === undefined ? [] : Array.isArray(v) ? v.map(str) : [str(v)]);

function command(v: unknown, ctx: Ctx, key: string): string[] | null | undefined {
  if (v === null || v === undefined) return undefined;
  if (Array.isArray(v)) return v.length === 0 ? null : v.map(str);
  return ctx.wrap(key, () => shellSplit(str(v)));
}

function extraHosts(v: unknown, ctx: Ctx, key: string): string[] {
  if (isObj(v)) {
    return Object.entries(v).flatMap(([h, ip]) => (Array.isArray(ip) ? ip.map((i) => `${h}:${str(i)}`) : [`${h}:${str(ip)}`]));
  }
  return strList(v).map((line) => {
    // "host:ip" or "host=ip" (the latter lets an IPv6 address keep its colons).
    const eq = line.indexOf('=');
    const colon = line.indexOf(':');
    const cut = eq >= 0 ? eq : colon;
    if (cut <= 0) throw ctx.fail(key, `invalid extra host "${line}": write host:ip`);
    return `${line.slice(0, cut)}:${line.slice(cut + 1)}`;
  });
}

/** The build keys a file sets; defaults (context ".", dockerfile "Dockerfile") come after the merge. */
export function normalizeBuild(v: unknown, ctx: Ctx): Partial<BuildConfig> {
  const raw: Raw = isObj(v) ? v : { context: v };
  for (const k of ['ssh', 'secrets', 'cache_to', 'additional_contexts', 'isolation', 'ulimits', 'entitlements']) {
    if (raw[k] !== undefined) throw ctx.fail(`build.${k}`, 'not supported by tug compose');
  }
  const out: Partial<BuildConfig> = {};
  if (raw.context !== undefined && raw.context !== null) out.context = resolveContext(str(raw.context), ctx.baseDir);
  if (raw.dockerfile !== undefined) out.dockerfile = str(raw.dockerfile);
  if (raw.args !== undefined) out.args = listOrDict(raw.args);
  if (raw.labels !== undefined) out.labels = stringMap(raw.labels);
  if (raw.cache_from !== undefined) out.cache_from = strList(raw.cache_from);
  if (raw.extra_hosts !== undefined) out.extra_hosts = extraHosts(raw.extra_hosts, ctx, 'build.extra_hosts');
  if (raw.target !== undefined) out.target = str(raw.target);
  if (raw.network !== undefined) out.network = str(raw.network);
  if (raw.shm_size !== undefined) out.shm_size = ctx.wrap('build.shm_size', () => parseSize(raw.shm_size));
  if (raw.dockerfile_inline !== undefined) out.dockerfile_inline = str(raw.dockerfile_inline);
  if (raw.no_cache !== undefined) out.no_cache = bool(raw.no_cache);
  if (raw.pull !== undefined) out.pull = bool(raw.pull);
  if (raw.privileged !== undefined) out.privileged = bool(raw.privileged);
  if (raw.tags !== undefined) out.tags = strList(raw.tags);
  if (raw.platforms !== undefined) out.platforms = strList(raw.platforms);
  return out;
}

/** A local context resolves against the base directory; a URL (git, http) stays as written. */
export function resolveContext(context: string, baseDir: string): string {
  return /^(https?:\/\/|git@|git:\/\/|github\.com\/)/.test(context) ? context : resolveHostPath(context, baseDir);
}

function healthcheck(v: Raw, ctx: Ctx): HealthcheckConfig {
  const out: HealthcheckConfig = { test: [] };
  if (typeof v.test === 'string') out.test = ['CMD-SHELL', v.test];
  else if (Array.isArray(v.test)) out.test = v.test.map(str);
  for (const k of ['interval', 'timeout', 'start_period', 'start_interval'] as const) {
    if (v[k] !== undefined && v[k] !== null) out[k] = ctx.wrap(`healthcheck.${k}`, () => parseDuration(v[k]));
  }
  if (v.retries !== undefined) out.retries = num(v.retries);
  if (v.disable !== undefined && bool(v.disable)) {
    out.disable = true;
    out.test = ['NONE'];
  }
  if (out.test.length > 0 && !['CMD', 'CMD-SHELL', 'NONE'].includes(out.test[0]!)) {
    throw ctx.fail('healthcheck.test', `a test list starts with "CMD", "CMD-SHELL" or "NONE", not "${out.test[0]}"`);
  }
  return out;
}

function deploy(v: Raw, ctx: Ctx): DeployConfig {
  const out: DeployConfig = {};
  if (v.mode !== undefined && str(v.mode) !== 'replicated') throw ctx.fail('deploy.mode', `"${str(v.mode)}" is not supported: tug runs replicated services`);
  if (v.replicas !== undefined) out.replicas = num(v.replicas);
  if (v.labels !== undefined) out.labels = stringMap(v.labels);
  for (const k of ['placement', 'update_config', 'rollback_config', 'endpoint_mode']) {
    if (v[k] !== undefined) throw ctx.fail(`deploy.${k}`, 'not supported by tug compose (swarm only)');
  }
  if (isObj(v.resources)) {
    const r = v.resources;
    out.resources = {};
    if (isObj(r.limits)) {
      const l = r.limits;
      const lim: NonNullable<NonNullable<DeployConfig['resources']>['limits']> = {};
      if (l.cpus !== undefined) lim.cpus = num(l.cpus);
      if (l.memory !== undefined) lim.memory = ctx.wrap('deploy.resources.limits.memory', () => parseSize(l.memory));
      if (l.pids !== undefined) lim.pids = num(l.pids);
      out.resources.limits = lim;
    }
    if (isObj(r.reservations)) {
      const l = r.reservations;
      if (l.devices !== undefined || l.generic_resources !== undefined) {
        throw ctx.fail('deploy.resources.reservations', 'device and generic resource reservations are not supported by tug compose');
      }
      const res: NonNullable<NonNullable<DeployConfig['resources']>['reservations']> = {};
      if (l.cpus !== undefined) res.cpus = num(l.cpus);
      if (l.memory !== undefined) res.memory = ctx.wrap('deploy.resources.reservations.memory', () => parseSize(l.memory));
      out.resources.reservations = res;
    }
  }
  if (isObj(v.restart_policy)) {
    const p = v.restart_policy;
    const rp: NonNullable<DeployConfig['restart_policy']> = {};
    if (p.condition !== undefined) {
      const c = str(p.condition);
      if (c !== 'none' && c !== 'on-failure' && c !== 'any') throw ctx.fail('deploy.restart_policy.condition', `must be none, on-failure or any, not "${c}"`);
      rp.condition = c;
    }
    if (p.max_attempts !== undefined) rp.max_attempts = num(p.max_attempts);
    if (p.delay !== undefined) rp.delay = ctx.wrap('deploy.restart_policy.delay', () => parseDuration(p.delay));
    if (p.window !== undefined) rp.window = ctx.wrap('deploy.restart_policy.window', () => parseDuration(p.window));
    out.restart_policy = rp;
  }
  return out;
}

function fileRefs(v: unknown, kind: 'secrets' | 'configs'): ServiceFileRef[] {
  return (Array.isArray(v) ? v : []).map((item) => {
    const r: Raw = isObj(item) ? item : { source: item };
    const source = str(r.source);
    let target = r.target === undefined ? source : str(r.target);
    if (!target.startsWith('/')) target = kind === 'secrets' ? `/run/secrets/${target}` : `/${target}`;
    const out: ServiceFileRef = { source, target };
    if (r.uid !== undefined) out.uid = str(r.uid);
    if (r.gid !== undefined) out.gid = str(r.gid);
    if (r.mode !== undefined) out.mode = num(r.mode);
    return out;
  });
}

const RESTART = /^(no|always|unless-stopped|on-failure(:\d+)?)$/;
const CONDITIONS = new Set(['service_started', 'service_healthy', 'service_completed_successfully']);

/** Normalises one service mapping; `ctx.at` is its path (services.web). */
export function normalizeService(tagged: Raw, ctx: Ctx): PartialService {
  const s: PartialService = { origin: ctx.src, sources: ctx.src ? [ctx.src] : [], baseDir: ctx.baseDir };
  const raw: Raw = {};
  for (const [k, v] of Object.entries(tagged)) {
    if (v === RESET) (s.reset ??= []).push(k);
    else if (v instanceof Override) {
      (s.override ??= []).push(k);
      raw[k] = v.value;
    } else raw[k] = v;
  }
  const has = (k: string): boolean => raw[k] !== undefined && raw[k] !== null;
  const strKeys = [
    'image', 'container_name', 'user', 'working_dir', 'hostname', 'domainname', 'stop_signal', 'pid', 'ipc',
    'network_mode', 'mac_address', 'platform', 'cpuset', 'userns_mode', 'uts', 'cgroup_parent', 'runtime',
  ] as const;
  for (const k of strKeys) if (has(k)) s[k] = str(raw[k]);
  const boolKeys = ['init', 'read_only', 'privileged', 'tty', 'stdin_open', 'oom_kill_disable', 'attach'] as const;
  for (const k of boolKeys) if (has(k)) s[k] = bool(raw[k]);
  const numKeys = ['cpus', 'scale', 'mem_swappiness', 'cpu_shares', 'cpu_quota', 'cpu_period', 'pids_limit', 'oom_score_adj'] as const;
  for (const k of numKeys) if (has(k)) s[k] = num(raw[k]);
  const sizeKeys = ['shm_size', 'mem_limit', 'mem_reservation', 'memswap_limit'] as const;
  for (const k of sizeKeys) if (has(k)) s[k] = ctx.wrap(k, () => (str(raw[k]) === '-1' ? -1 : parseSize(raw[k])));

  if (has('restart')) {
    const r = str(raw.restart);
    if (!RESTART.test(r)) throw ctx.fail('restart', `"${r}" is not a restart policy: use no, always, unless-stopped or on-failure[:N]`);
    s.restart = r;
  }
  if (has('pull_policy')) {
    const p = str(raw.pull_policy);
    if (!['always', 'never', 'missing', 'build', 'if_not_present'].includes(p)) {
      throw ctx.fail('pull_policy', `"${p}" is not a pull policy: use always, never, missing or build`);
    }
    s.pull_policy = p as ServiceConfig['pull_policy'];
  }
  if (has('profiles')) s.profiles = strList(raw.profiles);
  if (has('build')) s.build = normalizeBuild(raw.build, ctx);
  if ('command' in raw) {
    const c = command(raw.command, ctx, 'command');
    if (c !== undefined) s.command = c;
  }
  if ('entrypoint' in raw) {
    const c = command(raw.entrypoint, ctx, 'entrypoint');
    if (c !== undefined) s.entrypoint = c;
  }
  if (has('environment')) s.environment = listOrDict(raw.environment);
  if (has('env_file')) {
    s.env_file = (Array.isArray(raw.env_file) ? raw.env_file : [raw.env_file]).map((e) => {
      const r: Raw = isObj(e) ? e : { path: e };
      if (r.format !== undefined && str(r.format) !== 'raw' && str(r.format) !== '') {
        throw ctx.fail('env_file', `format "${str(r.format)}" is not supported`);
      }
      const entry: { path: string; required: boolean; raw?: boolean } = {
        path: resolveHostPath(str(r.path), ctx.baseDir),
        required: r.required === undefined ? true : bool(r.required),
      };
      if (str(r.format) === 'raw') entry.raw = true;
      return entry;
    });
  }
  if (has('ports')) {
    s.ports = (raw.ports as unknown[]).flatMap((p, i): PortConfig[] =>
      ctx.wrap(`ports[${i}]`, () => (isObj(p) ? [parsePortLong(p)] : parsePortString(str(p)))),
    );
  }
  if (has('expose')) s.expose = strList(raw.expose);
  if (has('volumes')) {
    s.volumes = (raw.volumes as unknown[]).map((v, i): ServiceVolumeConfig =>
      ctx.wrap(`volumes[${i}]`, () => (isObj(v) ? parseVolumeLong(v, ctx.baseDir) : parseVolumeString(str(v), ctx.baseDir))),
    );
  }
  if (has('networks')) {
    const nets: Record<string, ServiceNetworkConfig> = {};
    if (Array.isArray(raw.networks)) {
      raw.networks.forEach((n, i) => {
        nets[str(n)] = { aliases: [] };
        (s.refPaths ??= {})[`networks.${str(n)}`] = `${ctx.at}.networks[${i}]`;
      });
    }
    else {
      for (const [n, cfg] of Object.entries(raw.networks as Raw)) {
        const c: Raw = isObj(cfg) ? cfg : {};
        const att: ServiceNetworkConfig = { aliases: strList(c.aliases) };
        if (c.ipv4_address !== undefined) att.ipv4_address = str(c.ipv4_address);
        if (c.priority !== undefined) att.priority = num(c.priority);
        if (c.mac_address !== undefined) att.mac_address = str(c.mac_address);
        for (const k of ['ipv6_address', 'link_local_ips', 'driver_opts', 'gw_priority', 'interface_name']) {
          if (c[k] !== undefined) throw ctx.fail(`networks.${n}.${k}`, 'not supported by tug compose');
        }
        nets[n] = att;
      }
    }
    s.networks = nets;
  }
  if (has('depends_on')) {
    const deps: Record<string, DependsOnConfig> = {};
    if (Array.isArray(raw.depends_on)) {
      raw.depends_on.forEach((d, i) => {
        deps[str(d)] = { condition: 'service_started', restart: false, required: true };
        (s.refPaths ??= {})[`depends_on.${str(d)}`] = `${ctx.at}.depends_on[${i}]`;
      });
    } else {
      for (const [d, cfg] of Object.entries(raw.depends_on as Raw)) {
        const c: Raw = isObj(cfg) ? cfg : {};
        const condition = c.condition === undefined ? 'service_started' : str(c.condition);
        if (!CONDITIONS.has(condition)) {
          throw ctx.fail(`depends_on.${d}.condition`, `"${condition}" is not a condition: use service_started, service_healthy or service_completed_successfully`);
        }
        deps[d] = {
          condition: condition as DependsOnConfig['condition'],
          restart: c.restart === undefined ? false : bool(c.restart),
          required: c.required === undefined ? true : bool(c.required),
        };
      }
    }
    s.depends_on = deps;
  }
  if (has('healthcheck')) s.healthcheck = healthcheck(raw.healthcheck as Raw, ctx);
  if (has('deploy')) s.deploy = deploy(raw.deploy as Raw, ctx);
  if (has('labels')) s.labels = stringMap(raw.labels);
  if (has('annotations')) s.annotations = stringMap(raw.annotations);
  if (has('sysctls')) s.sysctls = stringMap(raw.sysctls);
  if (has('storage_opt')) s.storage_opt = stringMap(raw.storage_opt);
  for (const k of ['tmpfs', 'cap_add', 'cap_drop', 'security_opt', 'dns', 'dns_search', 'dns_opt', 'links', 'external_links', 'group_add', 'volumes_from'] as const) {
    if (has(k)) s[k] = strList(raw[k]);
  }
  if (has('devices')) {
    s.devices = (raw.devices as unknown[]).map((d) => {
      if (!isObj(d)) return str(d);
      const target = d.target === undefined ? str(d.source) : str(d.target);
      return `${str(d.source)}:${target}${d.permissions !== undefined ? `:${str(d.permissions)}` : ''}`;
    });
  }
  if (has('extra_hosts')) s.extra_hosts = extraHosts(raw.extra_hosts, ctx, 'extra_hosts');
  if (has('ulimits')) {
    const u: Record<string, { soft: number; hard: number }> = {};
    for (const [k, v] of Object.entries(raw.ulimits as Raw)) {
      u[k] = isObj(v) ? { soft: num(v.soft), hard: num(v.hard) } : { soft: num(v), hard: num(v) };
    }
    s.ulimits = u;
  }
  if (has('stop_grace_period')) s.stop_grace_period = ctx.wrap('stop_grace_period', () => parseDuration(raw.stop_grace_period));
  if (has('secrets')) s.secrets = fileRefs(raw.secrets, 'secrets');
  if (has('configs')) s.configs = fileRefs(raw.configs, 'configs');
  if (has('logging')) {
    const l = raw.logging as Raw;
    s.logging = { options: isObj(l.options) ? stringMap(l.options) : {} };
    if (l.driver !== undefined) s.logging.driver = str(l.driver);
  }
  if (has('extends')) {
    const e: Raw = isObj(raw.extends) ? raw.extends : { service: raw.extends };
    if (e.service === undefined) throw ctx.fail('extends', 'extends needs a service');
    s.extends = { service: str(e.service) };
    // The file is named relative to the file that names it (not the project directory).
    if (e.file !== undefined) s.extends.file = path.resolve(ctx.src ? path.dirname(ctx.src.path) : ctx.baseDir, str(e.file));
  }
  return s;
}
