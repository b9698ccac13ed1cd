// The last loader step: merged partial services become full ServiceConfigs
// (env_file read, defaults filled, implicit dependencies added), the default
// network appears when a service uses it, profiles split enabled from
// disabled services, and references are checked: depends_on targets, cycles,
// networks, volumes, secrets and configs a service names, image or build.

import * as path from 'node:path';
import { invalid } from '../../errdefs.js';
import { findCycle } from './dependency-order.js';
import { readDotenv } from './dotenv.js';
import type { Model } from './load-project.js';
import type { BuildConfig, ComposeProject, DependsOnConfig, ServiceConfig } from './project-types.js';
import { normalizeNetwork } from './resources.js';
import type { PartialService } from './service-normalize.js';
import { errorAtAny, RESET } from './yaml-source.js';

export interface FinalizeOptions {
  name: string;
  projectDir: string;
  files: string[];
  env: Record<string, string>;
  profiles: string[];
  services: string[];
}

async function environmentOf(p: PartialService, env: Record<string, string>): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {};
  for (const f of p.env_file ?? []) {
    let vars: Record<string, string>;
    try {
      vars = await readDotenv(f.path, f.path, (n) => env[n], f.raw === true);
    } catch (err) {
      if (!f.required && /not found/.test((err as Error).message)) continue;
      throw err;
    }
    Object.assign(out, vars);
  }
  Object.assign(out, p.environment ?? {});
  for (const [k, v] of Object.entries(out)) if ((v as unknown) === RESET) delete out[k];
  // A name without a value takes the host's (process or .env), else stays unset.
  for (const [k, v] of Object.entries(out)) if (v === null && env[k] !== undefined) out[k] = env[k]!;
  return out;
}

function buildOf(b: Partial<BuildConfig>, baseDir: string, env: Record<string, string>): BuildConfig {
  const args = withoutResets(b.args ?? {});
  for (const [k, v] of Object.entries(args)) if (v === null && env[k] !== undefined) args[k] = env[k]!;
  return {
    ...b,
    context: b.context ?? baseDir,
    dockerfile: b.dockerfile ?? 'Dockerfile',
    args,
    labels: withoutResets(b.labels ?? {}),
    cache_from: b.cache_from ?? [],
    extra_hosts: b.extra_hosts ?? [],
  };
}

function withoutResets<T>(m: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(m).filter(([, v]) => (v as unknown) !== RESET));
}

const dep = (): DependsOnConfig => ({ condition: 'service_started', restart: false, required: true });

async function serviceOf(name: string, p: PartialService, opts: FinalizeOptions): Promise<ServiceConfig> {
  const {
    env_file: _ef, extends: _ex, origin: _o, sources: _src, baseDir, reset: _r, override: _ov, refPaths: _rp, build, environment: _env, ...rest
  } = p;
  const s: ServiceConfig = {
    name,
    ...rest,
    environment: await environmentOf(p, opts.env),
    ports: p.ports ?? [],
    expose: p.expose ?? [],
    volumes: p.volumes ?? [],
    networks: p.networks ?? {},
    depends_on: { ...(p.depends_on ?? {}) },
    labels: withoutResets(p.labels ?? {}),
    tmpfs: p.tmpfs ?? [],
    cap_add: p.cap_add ?? [],
    cap_drop: p.cap_drop ?? [],
    security_opt: p.security_opt ?? [],
    ulimits: p.ulimits ?? {},
    sysctls: withoutResets(p.sysctls ?? {}),
    extra_hosts: p.extra_hosts ?? [],
    dns: p.dns ?? [],
    dns_search: p.dns_search ?? [],
    dns_opt: p.dns_opt ?? [],
    secrets: p.secrets ?? [],
    configs: p.configs ?? [],
    links: p.links ?? [],
    external_links: p.external_links ?? [],
  };
  if (build) s.build = buildOf(build, baseDir ?? opts.projectDir, opts.env);
  if (s.annotations) s.annotations = withoutResets(s.annotations);
  if (s.storage_opt) s.storage_opt = withoutResets(s.storage_opt);
  const where = `services.${name}`;
  if (s.network_mode !== undefined && p.networks !== undefined && Object.keys(p.networks).length > 0) {
    throw errorAtAny(p.sources ?? [], `${where}.network_mode`, `service "${name}" declares mutually exclusive network_mode and networks`);
  }
  if (s.network_mode === undefined && p.networks === undefined) s.networks = { default: { aliases: [] } };
  // What a service shares with another service makes it depend on it, as in Compose.
  const implicit: string[] = [];
  for (const l of s.links) implicit.push(l.split(':')[0]!);
  for (const mode of [s.network_mode, s.ipc, s.pid]) if (mode?.startsWith('service:')) implicit.push(mode.slice(8));
  for (const v of s.volumes_from ?? []) if (!v.startsWith('container:')) implicit.push(v.split(':')[0]!);
  for (const d of implicit) s.depends_on[d] ??= dep();
  if (s.scale !== undefined && s.deploy?.replicas !== undefined && s.scale !== s.deploy.replicas) {
    throw errorAtAny(p.sources ?? [], `${where}.scale`, `services.${name}: scale (${s.scale}) and deploy.replicas (${s.deploy.replicas}) differ; set one`);
  }
  if (!s.image && !s.build) {
    throw errorAtAny(p.sources ?? [], where, `service "${name}" has neither an image nor a build context specified`);
  }
  return s;
}

function isEnabled(s: ServiceConfig, profiles: string[]): boolean {
  if (!s.profiles || s.profiles.length === 0) return true;
  if (profiles.includes('*')) return true;
  return s.profiles.some((p) => profiles.includes(p));
}

export async function finalizeProject(model: Model, opts: FinalizeOptions): Promise<ComposeProject> {
  const all: Record<string, ServiceConfig> = {};
  for (const [name, p] of Object.entries(model.services)) all[name] = await serviceOf(name, p, opts);

  const usesDefault = Object.values(all).some((s) => 'default' in s.networks);
  if (usesDefault && !model.networks.default) model.networks.default = normalizeNetwork(opts.name, 'default', {}, undefined);

  // Profiles: services without any are on; named services are on with what they need.
  for (const n of opts.services) if (!all[n]) throw invalid(`no such service: ${n}`);
  const enabled = new Set(Object.keys(all).filter((n) => isEnabled(all[n]!, opts.profiles)));
  const pullIn = (n: string): void => {
    for (const d of Object.keys(all[n]!.depends_on)) {
      if (all[d] && !enabled.has(d)) {
        enabled.add(d);
        pullIn(d);
      }
    }
  };
  for (const n of opts.services) {
    enabled.add(n);
    pullIn(n);
  }
  const services: Record<string, ServiceConfig> = {};
  const disabled: Record<string, ServiceConfig> = {};
  for (const [n, s] of Object.entries(all)) (enabled.has(n) ? services : disabled)[n] = s;

  const pathOf = (name: string, key: string): string => model.services[name]!.refPaths?.[key] ?? `services.${name}.${key}`;
  for (const [name, s] of Object.entries(services)) {
    const origin = model.services[name]!.sources ?? [];
    for (const [d, cfg] of Object.entries(s.depends_on)) {
      if (services[d]) continue;
      if (!cfg.required) {
        delete s.depends_on[d];
        continue;
      }
      if (disabled[d]) {
        throw errorAtAny(origin, pathOf(name, `depends_on.${d}`),
          `service "${d}" was pulled in as a dependency of service "${name}" but is not enabled by the active profiles. You may fix this by adding a common profile to "${d}" and "${name}"`);
      }
      throw errorAtAny(origin, pathOf(name, `depends_on.${d}`), `service "${name}" depends on undefined service "${d}"`);
    }
  }
  const deps: Record<string, Record<string, DependsOnConfig>> = {};
  for (const [n, s] of Object.entries(services)) deps[n] = s.depends_on;
  findCycle(deps);

  for (const [name, s] of Object.entries(services)) {
    const origin = model.services[name]!.sources ?? [];
    const at = `services.${name}`;
    for (const n of Object.keys(s.networks)) {
      if (!model.networks[n]) throw errorAtAny(origin, pathOf(name, `networks.${n}`), `service "${name}" refers to undefined network ${n}`);
    }
    s.volumes.forEach((v, i) => {
      if (v.type === 'volume' && v.source !== undefined && !model.volumes[v.source]) {
        throw errorAtAny(origin, `${at}.volumes[${i}]`, `service "${name}" refers to undefined volume ${v.source}`);
      }
    });
    for (const kind of ['secrets', 'configs'] as const) {
      s[kind].forEach((r, i) => {
        if (!model[kind][r.source]) {
          throw errorAtAny(origin, `${at}.${kind}[${i}]`, `service "${name}" refers to undefined ${kind === 'secrets' ? 'secret' : 'config'} ${r.source}`);
        }
      });
    }
  }

  return {
    name: opts.name,
    working_dir: opts.projectDir,
    config_files: opts.files.map((f) => (f === '-' ? '-' : path.resolve(f))),
    services,
    disabled_services: disabled,
    networks: model.networks,
    volumes: model.volumes,
    secrets: model.secrets,
    configs: model.configs,
    environment: opts.env,
  };
}
