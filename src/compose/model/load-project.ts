// loadProject: Compose files in, one normalised ComposeProject out. The steps
// follow `docker compose config`: pick the files and the project directory,
// read .env (the process environment wins over it), parse each file with its
// lines, interpolate, check its shape, normalise each service, merge the files
// (and `include`d projects), apply `extends`, choose the services the active
// profiles enable, and check references between services and resources.
// Nothing is created here; a bad file fails before anything runs.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { invalid } from '../../errdefs.js';
import { discoverFiles, projectNameOf } from './discover.js';
import { readDotenv } from './dotenv.js';
import { finalizeProject } from './finalize.js';
import { interpolateTree, type Lookup } from './interpolate.js';
import { mergeRaw, mergeService } from './merge.js';
import type { ComposeProject, FileObjectConfig, LoadOptions, NetworkConfig, VolumeConfig } from './project-types.js';
import { normalizeFileObject, normalizeNetwork, normalizeVolume } from './resources.js';
import { validateFile } from './schema.js';
import { Ctx, isObj, normalizeService, type PartialService } from './service-normalize.js';
import { displayName, errorAt, parseComposeYaml, type SourceFile } from './yaml-source.js';

/** What a set of files (one -f list, or one include) means before profiles and checks. */
export interface Model {
  services: Record<string, PartialService>;
  networks: Record<string, NetworkConfig>;
  volumes: Record<string, VolumeConfig>;
  secrets: Record<string, FileObjectConfig>;
  configs: Record<string, FileObjectConfig>;
  /** Where each top-level resource was declared ('networks.front' → its file), for error lines. */
  origins: Map<string, SourceFile>;
}

/** What every step shares while loading: options, variables, warnings. */
export interface LoadCtx {
  opts: LoadOptions;
  project: string;
  warnings: Set<string>;
  /** Files being included or extended, to refuse a file that includes itself. */
  stack: string[];
}

function definedEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** .env files in order; the process environment wins over every one of them. */
async function readEnvFiles(files: string[], cwd: string, processEnv: Record<string, string>): Promise<Record<string, string>> {
  const dotenv: Record<string, string> = {};
  for (const f of files) {
    const vars = await readDotenv(f, displayName(f, cwd), (n) => processEnv[n] ?? dotenv[n]);
    Object.assign(dotenv, vars);
  }
  return { ...dotenv, ...processEnv };
}

function defaultEnvFiles(dir: string): string[] {
  const f = path.join(dir, '.env');
  return existsSync(f) ? [f] : [];
}

async function readSource(file: string, opts: LoadOptions): Promise<string> {
  if (file === '-') {
    if (opts.stdin === undefined) throw invalid('-f -: no standard input was given to read the compose file from');
    return opts.stdin;
  }
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw invalid(`open ${file}: no such file or directory`);
    if (code === 'EISDIR') throw invalid(`${file} is a directory, not a compose file`);
    throw err;
  }
}

/** Reads, parses, interpolates and shape-checks one file. */
export async function loadSource(file: string, env: Record<string, string>, ctx: LoadCtx): Promise<SourceFile> {
  const text = await readSource(file, ctx.opts);
  const src = file === '-' ? parseComposeYaml(text, path.join(ctx.opts.cwd, '-'), ctx.opts.cwd, 'stdin') : parseComposeYaml(text, file, ctx.opts.cwd);
  const lookup: Lookup = (n) => env[n];
  const warn = (n: string): void => {
    ctx.warnings.add(`The "${n}" variable is not set. Defaulting to a blank string.`);
  };
  src.data = interpolateTree(src.data, '', lookup, warn, (at, msg) => errorAt(src, at, `${at}: ${msg}`)) as Record<string, unknown>;
  validateFile(src);
  if (isObj(src.data.services)) {
    for (const [name, svc] of Object.entries(src.data.services)) {
      if (isObj(svc) && svc.develop !== undefined) {
        ctx.warnings.add(`${src.display}: services.${name}.develop is ignored: tug compose has no watch mode`);
      }
    }
  }
  if (src.data.version !== undefined) {
    ctx.warnings.add(`${src.display}: the attribute \`version\` is obsolete, it will be ignored, please remove it to avoid potential confusion`);
  }
  return src;
}

const KINDS = ['networks', 'volumes', 'secrets', 'configs'] as const;

/**
 * The model of a list of already-read files sharing one base directory: each
 * file's includes first, then its services normalised and merged in order.
 */
async function buildModel(sources: SourceFile[], baseDir: string, env: Record<string, string>, ctx: LoadCtx): Promise<Model> {
  const model: Model = { services: {}, networks: {}, volumes: {}, secrets: {}, configs: {}, origins: new Map() };
  const raw: Record<(typeof KINDS)[number], Record<string, unknown>> = { networks: {}, volumes: {}, secrets: {}, configs: {} };
  const included: Model[] = [];
  const includedFrom = new Map<string, string>();
  for (const src of sources) {
    for (const inc of includesOf(src)) {
      const sub = await loadInclude(inc, src, env, ctx);
      included.push(sub);
      const shown = displayName(inc.paths[0]!, ctx.opts.cwd);
      for (const k of Object.keys(sub.services)) includedFrom.set(`services.${k}`, shown);
      for (const kind of KINDS) for (const k of Object.keys(sub[kind])) includedFrom.set(`${kind}.${k}`, shown);
    }
    const services = src.data.services;
    if (isObj(services)) {
      for (const [name, svc] of Object.entries(services)) {
        const at = `services.${name}`;
        if (includedFrom.has(at)) {
          throw errorAt(src, at, `${at} conflicts with the service of the same name in the included ${includedFrom.get(at)}`);
        }
        const part = normalizeService(isObj(svc) ? svc : {}, new Ctx(src, baseDir, at));
        const prev = model.services[name];
        model.services[name] = prev ? mergeService(prev, part) : part;
      }
    }
    for (const kind of KINDS) {
      const section = src.data[kind];
      if (!isObj(section)) continue;
      for (const [k, v] of Object.entries(section)) {
        if (includedFrom.has(`${kind}.${k}`)) {
          throw errorAt(src, `${kind}.${k}`, `${kind}.${k} conflicts with the one of the same name in the included ${includedFrom.get(`${kind}.${k}`)}`);
        }
        const merged = mergeRaw(raw[kind][k], v ?? {});
        if (merged === undefined) delete raw[kind][k];
        else raw[kind][k] = merged;
        model.origins.set(`${kind}.${k}`, src);
      }
    }
  }
  for (const [k, v] of Object.entries(raw.networks)) model.networks[k] = normalizeNetwork(ctx.project, k, v, model.origins.get(`networks.${k}`));
  for (const [k, v] of Object.entries(raw.volumes)) model.volumes[k] = normalizeVolume(ctx.project, k, v, model.origins.get(`volumes.${k}`));
  for (const kind of ['secrets', 'configs'] as const) {
    for (const [k, v] of Object.entries(raw[kind])) {
      model[kind][k] = normalizeFileObject(kind, ctx.project, k, v, baseDir, env, model.origins.get(`${kind}.${k}`));
    }
  }
  for (const sub of included) {
    Object.assign(model.services, sub.services);
    for (const kind of KINDS) Object.assign(model[kind], sub[kind]);
    for (const [k, v] of sub.origins) model.origins.set(k, v);
  }
  return model;
}

interface IncludeEntry {
  paths: string[];
  projectDirectory?: string;
  envFiles?: string[];
}

function includesOf(src: SourceFile): IncludeEntry[] {
  const list = src.data.include;
  if (!Array.isArray(list)) return [];
  const dir = path.dirname(src.path);
  return list.map((item): IncludeEntry => {
    const r: Record<string, unknown> = isObj(item) ? item : { path: item };
    const asList = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : [String(v)]);
    const e: IncludeEntry = { paths: asList(r.path).map((p) => path.resolve(dir, p)) };
    if (r.project_directory !== undefined) e.projectDirectory = path.resolve(dir, String(r.project_directory));
    if (r.env_file !== undefined) e.envFiles = asList(r.env_file).map((p) => path.resolve(dir, p));
    return e;
  });
}

/** An included project: its own project directory and .env; the including project's variables underneath. */
async function loadInclude(inc: IncludeEntry, from: SourceFile, parentEnv: Record<string, string>, ctx: LoadCtx): Promise<Model> {
  const first = inc.paths[0]!;
  if (ctx.stack.includes(first)) {
    throw invalid(`include cycle: ${[...ctx.stack, first].map((f) => displayName(f, ctx.opts.cwd)).join(' -> ')}`);
  }
  const projectDir = inc.projectDirectory ?? path.dirname(first);
  const envFiles = inc.envFiles ?? defaultEnvFiles(projectDir);
  const processEnv = definedEnv(ctx.opts.env);
  const env = { ...parentEnv, ...(await readEnvFiles(envFiles, ctx.opts.cwd, processEnv)) };
  const sub: LoadCtx = { ...ctx, stack: [...ctx.stack, first] };
  const sources: SourceFile[] = [];
  for (const f of inc.paths) {
    if (!existsSync(f)) throw errorAt(from, 'include', `include: ${displayName(f, ctx.opts.cwd)} not found`);
    sources.push(await loadSource(f, env, sub));
  }
  return buildModel(sources, projectDir, env, sub);
}

/** Applies `extends` to every service (depth first, refusing cycles). */
async function applyExtends(model: Model, env: Record<string, string>, ctx: LoadCtx): Promise<void> {
  const done = new Set<string>();
  const resolve = async (services: Record<string, PartialService>, name: string, chain: string[]): Promise<PartialService> => {
    const svc = services[name]!;
    if (!svc.extends || (services === model.services && done.has(name))) return svc;
    const key = `${svc.origin?.path ?? ''}#${name}`;
    if (chain.includes(key)) {
      const names = [...chain, key].map((k) => k.slice(k.indexOf('#') + 1));
      throw invalid(`extends cycle: ${names.join(' -> ')}`);
    }
    const ext = svc.extends;
    let base: PartialService;
    if (ext.file) {
      const other = await loadExtendedFile(ext.file, env, ctx, svc);
      if (!other.services[ext.service]) {
        throw errorAt(svc.origin, `services.${name}.extends`, `services.${name}.extends: service "${ext.service}" not found in ${displayName(ext.file, ctx.opts.cwd)}`);
      }
      base = await resolve(other.services, ext.service, [...chain, key]);
    } else {
      if (!services[ext.service]) {
        throw errorAt(svc.origin, `services.${name}.extends`, `services.${name}.extends: service "${ext.service}" not found`);
      }
      base = await resolve(services, ext.service, [...chain, key]);
    }
    const { extends: _drop, ...own } = svc;
    const { extends: _dropBase, ...inherited } = base;
    const merged = mergeService(inherited, own);
    merged.origin = svc.origin;
    merged.sources = svc.sources;
    merged.baseDir = svc.baseDir;
    services[name] = merged;
    if (services === model.services) done.add(name);
    return merged;
  };
  for (const name of Object.keys(model.services)) await resolve(model.services, name, []);
}

const extendedCache = new WeakMap<LoadCtx, Map<string, Promise<Model>>>();

/** Another file named by `extends: file:`; its relative paths resolve against its own directory. */
function loadExtendedFile(file: string, env: Record<string, string>, ctx: LoadCtx, by: PartialService): Promise<Model> {
  let cache = extendedCache.get(ctx);
  if (!cache) extendedCache.set(ctx, (cache = new Map()));
  let p = cache.get(file);
  if (!p) {
    p = (async () => {
      if (!existsSync(file)) throw invalid(`${by.origin?.display ?? 'compose file'}: extends: ${displayName(file, ctx.opts.cwd)} not found`);
      const src = await loadSource(file, env, ctx);
      const services: Record<string, PartialService> = {};
      if (isObj(src.data.services)) {
        for (const [name, svc] of Object.entries(src.data.services)) {
          services[name] = normalizeService(isObj(svc) ? svc : {}, new Ctx(src, path.dirname(file), `services.${name}`));
        }
      }
      return { services, networks: {}, volumes: {}, secrets: {}, configs: {}, origins: new Map() };
    })();
    cache.set(file, p);
  }
  return p;
}

export async function loadProject(opts: LoadOptions): Promise<ComposeProject> {
  const warnings = new Set<string>();
  const cwd = path.resolve(opts.cwd);
  const processEnv = definedEnv(opts.env);
  const given = opts.files.map((f) => (f === '-' ? '-' : path.resolve(cwd, f)));
  // The .env that may name COMPOSE_FILE is the one of the directory compose starts from.
  const firstDir = opts.projectDirectory
    ? path.resolve(cwd, opts.projectDirectory)
    : given.length > 0 && given[0] !== '-' ? path.dirname(given[0]!) : cwd;
  const envFiles = opts.envFiles.map((f) => path.resolve(cwd, f));
  let env = await readEnvFiles(envFiles.length > 0 ? envFiles : defaultEnvFiles(firstDir), cwd, processEnv);

  let files = given;
  if (files.length === 0 && env.COMPOSE_FILE) {
    const sep = env.COMPOSE_PATH_SEPARATOR || (process.platform === 'win32' ? ';' : ':');
    files = env.COMPOSE_FILE.split(sep).filter(Boolean).map((f) => path.resolve(firstDir, f));
  }
  if (files.length === 0) {
    const found = await discoverFiles(firstDir);
    files = found.files;
    for (const w of found.warnings) warnings.add(w);
  }
  const projectDir = opts.projectDirectory
    ? path.resolve(cwd, opts.projectDirectory)
    : files[0] === '-' ? cwd : path.dirname(files[0]!);
  if (envFiles.length === 0 && projectDir !== firstDir) env = await readEnvFiles(defaultEnvFiles(projectDir), cwd, processEnv);

  // The name before the files are read lets ${COMPOSE_PROJECT_NAME} interpolate, as in Compose.
  const provisional = (): string => {
    try {
      return projectNameOf({ flag: opts.projectName, envName: env.COMPOSE_PROJECT_NAME, dir: projectDir });
    } catch {
      return '';
    }
  };
  const ctx: LoadCtx = { opts: { ...opts, cwd }, project: provisional(), warnings, stack: [] };
  const interpEnv = { COMPOSE_PROJECT_NAME: ctx.project, ...env };
  const sources: SourceFile[] = [];
  for (const f of files) {
    ctx.stack = [f];
    sources.push(await loadSource(f, interpEnv, ctx));
  }
  ctx.stack = files.slice(0, 1);
  let fileName: string | undefined;
  for (const s of sources) if (s.data.name !== undefined && s.data.name !== null) fileName = String(s.data.name);
  ctx.project = projectNameOf({ flag: opts.projectName, envName: env.COMPOSE_PROJECT_NAME, fileName, dir: projectDir });

  const model = await buildModel(sources, projectDir, interpEnv, ctx);
  await applyExtends(model, interpEnv, ctx);
  const project = await finalizeProject(model, {
    name: ctx.project,
    projectDir,
    files: files.map((f) => (f === '-' ? '-' : f)),
    env: interpEnv,
    profiles: opts.profiles.length > 0 ? opts.profiles : (env.COMPOSE_PROFILES ?? '').split(',').map((p) => p.trim()).filter(Boolean),
    services: opts.services ?? [],
  });
  project.environment = env;
  if (warnings.size > 0) project.warnings = [...warnings];
  return project;
}
