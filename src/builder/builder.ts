// Dockerfile → image. Runs the stages the target needs (independent ones at the
// same time), each instruction as one cached step: a step's key is its parent
// image, its expanded instruction and the content it copies; a hit reuses the
// image the step made before, a miss does the work (a RUN is an engine
// container) and records the result.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile, readdir, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { invalid, notFound, TugError, messageOf } from '../errdefs.js';
import type { Engine } from '../engine/engine.js';
import type { ContainerService } from '../engine/container-service.js';
import type { ImageRecord } from '../image/image-store.js';
import type { OciContainerConfig } from '../oci/image-spec.js';
import { resolveInScope } from '../engine/scoped-path.js';
import { ScopedRoot } from '../rootfs/scoped-root.js';
import { parseDockerfile, type Instruction } from './dockerfile-parser.js';
import { processWord, processWords } from './shell-words.js';
import { buildStageGraph, findStage, neededStages, type Stage } from './stage-graph.js';
import { BuildCache, cacheKey } from './build-cache.js';
import { commitConfig, commitLayer, scratchConfig } from './layer-commit.js';
import { mountScratch, withScratch, type ScratchLayer } from './scratch-layer.js';
import { copyInto, extractTarInto, hashSources, isTarArchive, matchSource, resolveOwner, type SourceMatch } from './copy-sources.js';
import { applyConfigInstruction, envList } from './instruction-config.js';
import { runStep, type RunMount } from './run-step.js';
import { mountKey, parseMountFlag, resolveRunMount } from './run-mounts.js';
import { pruneContext } from './dockerignore.js';
import type { DigestLookup } from './context-digests.js';
import { clearBuildLeftovers } from './build-leftovers.js';
import { familiarName, parseReference } from '../oci/reference.js';

export interface BuildRequest {
  contextDir: string;
  /** Digests of context files known from the upload (see context-digests.ts); others are read. */
  contextDigests?: DigestLookup;
  /** Dockerfile path inside the context (default 'Dockerfile'). */
  dockerfile?: string;
  tags?: string[];
  buildArgs?: Record<string, string>;
  target?: string;
  noCache?: boolean;
  labels?: Record<string, string>;
  secrets?: Record<string, Buffer>;
  platform?: string;
  /** RUN network default: 'bridge' (NAT), or 'none' / 'host'. */
  networkMode?: string;
  /** 'name:ip' lines every RUN step sees in /etc/hosts (docker build --add-host). */
  extraHosts?: string[];
  /**
   * Images whose layers may serve as cache (docker build --cache-from). When given, as in
   * Docker's classic builder, a step hits only on one of these images or an ancestor of one.
   */
  cacheFrom?: string[];
}

export interface BuildReporter {
  /** Docker's {"stream": text} lines. */
  stream(text: string): void;
  /** Called once with the final image ID. */
  aux?(id: string): void;
}

export interface BuildResult {
  image: ImageRecord;
  /** Steps that did work and steps served from the cache. */
  executed: number;
  cached: number;
}

const DEFAULT_SHELL = ['/bin/sh', '-c'];
const HOST_PLATFORM = `linux/${process.arch === 'x64' ? 'amd64' : process.arch === 'arm64' ? 'arm64' : process.arch}`;

const short = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12);

/** One build cache per engine root, opened on first use. */
const caches = new Map<string, Promise<BuildCache>>();
export function buildCacheOf(containers: ContainerService): Promise<BuildCache> {
  const { engine } = containers;
  let c = caches.get(engine.root);
  if (!c) {
    c = clearBuildLeftovers(containers).then(() => BuildCache.open(engine.root));
    caches.set(engine.root, c);
  }
  return c;
}

export async function buildImage(containers: ContainerService, req: BuildRequest, report: BuildReporter): Promise<BuildResult> {
  const cache = await buildCacheOf(containers);
  const b = new Build(containers, cache, req, report);
  try {
    return await b.run();
  } finally {
    await b.cleanup();
  }
}

interface StageState {
  image: ImageRecord | null;
  config: OciContainerConfig;
  vars: Map<string, string>;
  cmdSetHere: boolean;
  author?: string;
}

class Build {
  readonly fileName: string;
  readonly workDir: string;
  readonly buildArgs: Map<string, string>;
  readonly usedArgs = new Set<string>();
  readonly epoch?: number;
  readonly secrets: Map<string, Buffer>;
  readonly stageResults = new Map<number, Promise<ImageRecord | null>>();
  private readonly releases: Array<() => Promise<void>> = [];
  private escape = '\\';
  private stepNo = new Map<Instruction, number>();
  private total = 0;
  /** Set when the request names --cache-from images: only they (and their ancestors) may serve as cache. */
  private cacheSources?: ImageRecord[];
  executed = 0;
  cached = 0;
  readonly engine: Engine;

  constructor(
    /** RUN steps are containers made through the engine's door. */
    readonly containers: ContainerService,
    readonly cache: BuildCache,
    readonly req: BuildRequest,
    readonly report: BuildReporter,
  ) {
    this.engine = containers.engine;
    this.fileName = posix.basename(req.dockerfile || 'Dockerfile');
    this.workDir = join(containers.engine.root, 'build', 'tmp', randomBytes(8).toString('hex'));
    this.buildArgs = new Map(Object.entries(req.buildArgs ?? {}));
    this.secrets = new Map(Object.entries(req.secrets ?? {}));
    const sde = this.buildArgs.get('SOURCE_DATE_EPOCH');
    if (sde !== undefined) {
      if (!/^\d+$/.test(sde)) throw invalid(`SOURCE_DATE_EPOCH must be whole seconds since 1970, got ${JSON.stringify(sde)}`);
      this.epoch = Number(sde);
      this.usedArgs.add('SOURCE_DATE_EPOCH');
    }
  }

  async cleanup(): Promise<void> {
    for (const r of this.releases.splice(0).reverse()) await r().catch(() => undefined);
    await rm(this.workDir, { recursive: true, force: true });
  }

  async run(): Promise<BuildResult> {
    await mkdir(this.workDir, { recursive: true });
    if (this.req.platform && this.req.platform !== HOST_PLATFORM) throw invalid(`platform ${this.req.platform} is not supported: tug builds for ${HOST_PLATFORM}`);
    const dfRel = this.req.dockerfile || 'Dockerfile';
    let text: string;
    try {
      text = await readFile(await resolveInScope(this.req.contextDir, dfRel), 'utf8');
    } catch {
      throw invalid(`Cannot locate specified Dockerfile: ${dfRel}`);
    }
    // The Dockerfile is read; now it and .dockerignore go too when .dockerignore names them (Docker's removeDockerfile).
    await pruneContext(this.req.contextDir);
    const parsed = parseDockerfile(text, this.fileName);
    this.escape = parsed.escape;
    await this.resolveCacheFrom();
    const globalVars = new Map<string, string>();
    for (const ins of parseArgsPrelude(parsed.instructions)) this.declareArg(ins, globalVars, globalVars);
    const graph = buildStageGraph(parsed.instructions, globalVars, this.escape, this.fileName);
    const stages = neededStages(graph, this.req.target, this.fileName);
    for (const s of stages) {
      this.stepNo.set(s.from, ++this.total);
      for (const ins of s.instructions) this.stepNo.set(ins, ++this.total);
    }
    const runStage = (s: Stage): Promise<ImageRecord | null> => {
      let p = this.stageResults.get(s.index);
      if (!p) {
        p = (async () => {
          await Promise.all([...s.deps].map((d) => runStage(graph.stages[d]!)));
          return await this.buildStage(s, graph.stages, globalVars);
        })();
        // Every stage's failure is reported through the target's promise; keep Node quiet about the others.
        p.catch(() => undefined);
        this.stageResults.set(s.index, p);
      }
      return p;
    };
    for (const s of stages) void runStage(s);
    let image: ImageRecord | null;
    try {
      image = await runStage(stages[stages.length - 1]!);
      await Promise.all(stages.map((s) => runStage(s)));
    } catch (err) {
      // Let stages still running finish (their containers and mounts go with them) before reporting.
      await Promise.allSettled(stages.map((s) => runStage(s)));
      throw err;
    }
    const labels = this.req.labels ?? {};
    if (!image || Object.keys(labels).length) {
      const cfg = structuredClone(image?.config.config ?? scratchConfig().config!);
      cfg.Labels = { ...(cfg.Labels ?? {}), ...labels };
      const key = cacheKey([image?.id ?? 'scratch', 'LABELS', labels]);
      image = (await this.cachedImage(key)) ?? (await this.remember(key, await commitConfig(this.engine.images, image, { createdBy: `LABEL ${Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(' ')}`.trim(), config: cfg, epoch: this.epoch })));
    }
    const unused = [...this.buildArgs.keys()].filter((k) => !this.usedArgs.has(k));
    if (unused.length) this.report.stream(`[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n`);
    this.report.aux?.(image.id);
    this.report.stream(`Successfully built ${short(image.id)}\n`);
    for (const t of this.req.tags ?? []) {
      await this.engine.images.tag(image.id, t);
      // As Docker prints it: familiar name with its tag ('app' is 'app:latest').
      this.report.stream(`Successfully tagged ${familiarName(parseReference(t))}\n`);
    }
    this.engine.events.emit('image', 'build', image.id, {});
    return { image: await this.engine.images.get(image.id), executed: this.executed, cached: this.cached };
  }

  private where(ins: Instruction): string {
    return `${this.fileName}:${ins.line}`;
  }

  private declareArg(ins: Instruction, vars: Map<string, string>, globals: Map<string, string>): void {
    for (const word of ins.rest.split(/\s+/).filter(Boolean)) {
      const eq = word.indexOf('=');
      const name = eq < 0 ? word : word.slice(0, eq);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw invalid(`${this.where(ins)}: ARG: invalid name ${JSON.stringify(name)}`);
      let value: string | undefined;
      if (this.buildArgs.has(name)) {
        value = this.buildArgs.get(name);
        this.usedArgs.add(name);
      } else if (eq >= 0) value = processWord(word.slice(eq + 1), vars, this.escape);
      else value = globals.get(name);
      if (value !== undefined) vars.set(name, value);
    }
  }

  private async cachedImage(key: string): Promise<ImageRecord | undefined> {
    if (this.req.noCache) return undefined;
    const id = this.cache.get(key);
    if (!id) return undefined;
    const img = await this.engine.images.find(id);
    if (!img) await this.cache.delete(key);
    if (img && this.cacheSources && !this.cacheSources.some((src) => isAncestorOrSelf(img, src))) return undefined;
    return img;
  }

  /** The --cache-from images that exist; names that do not are skipped, as Docker does. */
  private async resolveCacheFrom(): Promise<void> {
    if (!this.req.cacheFrom?.length) return;
    this.cacheSources = [];
    for (const ref of this.req.cacheFrom) {
      const img = await this.engine.images.find(ref).catch(() => undefined);
      if (img) this.cacheSources.push(img);
    }
  }

  private async remember(key: string, img: ImageRecord): Promise<ImageRecord> {
    await this.cache.set(key, img.id);
    return img;
  }

  private async baseImage(s: Stage, stages: Stage[]): Promise<ImageRecord | null> {
    const st = findStage(stages.slice(0, s.index), s.base);
    if (st) return await this.stageResults.get(st.index)!;
    if (s.base.toLowerCase() === 'scratch') return null;
    if (s.platform && s.platform !== HOST_PLATFORM) throw invalid(`${this.where(s.from)}: FROM --platform=${s.platform}: tug builds for ${HOST_PLATFORM} only`);
    return await this.imageByRef(s.base, s.from);
  }

  private async imageByRef(ref: string, ins: Instruction): Promise<ImageRecord> {
    try {
      return await this.engine.images.get(ref);
    } catch (err) {
      if (err instanceof TugError && err.kind === 'not-found') {
        const hint = /^(docker\.io\/)?(library\/)?debian:/.test(ref)
          ? `make it with "tug image bootstrap ${ref.replace(/^(docker\.io\/)?(library\/)?/, '')}"`
          : `load it first (tug load, tug pull from a registry you run), or for a Debian base run "tug image bootstrap debian:bookworm"`;
        throw notFound(`${this.where(ins)}: ${ins.cmd === 'FROM' ? 'FROM' : ins.cmd} ${ref}: image not found locally; ${hint}`);
      }
      throw err;
    }
  }

  private async buildStage(s: Stage, stages: Stage[], globals: Map<string, string>): Promise<ImageRecord | null> {
    this.report.stream(`Step ${this.stepNo.get(s.from)}/${this.total} : ${s.from.original}\n`);
    const base = await this.baseImage(s, stages);
    this.report.stream(` ---> ${base ? short(base.id) : 'scratch'}\n`);
    const st: StageState = { image: base, config: structuredClone(base?.config.config ?? scratchConfig().config!), vars: new Map(), cmdSetHere: false };
    const triggers = st.config.OnBuild ?? [];
    if (triggers.length) {
      this.report.stream(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`);
      st.config.OnBuild = null;
      const trigIns = parseDockerfile(triggers.join('\n'), `${this.fileName} (ONBUILD of ${s.base})`).instructions;
      for (const ins of trigIns) await this.step(s, st, ins, stages, globals, false);
    }
    for (const ins of s.instructions) await this.step(s, st, ins, stages, globals, true);
    return st.image;
  }

  /** Variables for expansion: ARGs in scope, then ENV over them. */
  private varsOf(st: StageState): Map<string, string> {
    const v = new Map(st.vars);
    for (const [k, val] of envList(st.config)) v.set(k, val);
    return v;
  }

  private async step(s: Stage, st: StageState, ins: Instruction, stages: Stage[], globals: Map<string, string>, numbered: boolean): Promise<void> {
    if (numbered) this.report.stream(`Step ${this.stepNo.get(ins)}/${this.total} : ${ins.original}\n`);
    try {
      await this.execute(s, st, ins, stages, globals);
    } catch (err) {
      const msg = messageOf(err);
      const prefix = `${this.where(ins)}: `;
      if (msg.startsWith(prefix) || msg.startsWith(this.fileName + ':')) throw err;
      const kind = err instanceof TugError ? err.kind : 'internal';
      throw new TugError(kind, `${prefix}${ins.original.split('\n')[0]}: ${msg}`, err instanceof TugError ? err.detail : undefined);
    }
    if (numbered || ins.cmd !== 'ARG') this.report.stream(` ---> ${st.image ? short(st.image.id) : 'scratch'}\n`);
  }

  private async execute(s: Stage, st: StageState, ins: Instruction, stages: Stage[], globals: Map<string, string>): Promise<void> {
    const shell = st.config.Shell?.length ? st.config.Shell : DEFAULT_SHELL;
    switch (ins.cmd) {
      case 'ARG':
        this.declareArg(ins, st.vars, globals);
        return;
      case 'RUN':
        return await this.runInstruction(st, ins, shell, stages);
      case 'COPY':
      case 'ADD':
        return await this.copyInstruction(st, ins, stages);
      case 'WORKDIR':
        return await this.workdirInstruction(st, ins);
      case 'MAINTAINER':
        st.author = processWord(ins.rest, this.varsOf(st), this.escape);
        return await this.configStep(st, ins, st.config);
      default: {
        const next = applyConfigInstruction(st.config, ins, { vars: this.varsOf(st), escape: this.escape, where: this.where(ins), shell, cmdSetHere: st.cmdSetHere });
        if (ins.cmd === 'CMD') st.cmdSetHere = true;
        return await this.configStep(st, ins, next);
      }
    }
  }

  private async configStep(st: StageState, ins: Instruction, next: OciContainerConfig): Promise<void> {
    const key = cacheKey([st.image?.id ?? 'scratch', 'CONFIG', next]);
    const hit = await this.cachedImage(key);
    if (hit) {
      this.report.stream(' ---> Using cache\n');
      this.cached++;
    } else this.executed++;
    st.image = hit ?? (await this.remember(key, await commitConfig(this.engine.images, st.image, { createdBy: historyText(ins), config: next, epoch: this.epoch })));
    st.config = next;
  }

  private async workdirInstruction(st: StageState, ins: Instruction): Promise<void> {
    const raw = processWord(ins.rest, this.varsOf(st), this.escape);
    if (!raw) throw invalid('WORKDIR cannot be empty');
    const dir = posix.resolve(st.config.WorkingDir || '/', raw);
    const next = { ...structuredClone(st.config), WorkingDir: dir };
    const key = cacheKey([st.image?.id ?? 'scratch', 'WORKDIR', dir]);
    const hit = await this.cachedImage(key);
    if (hit) {
      this.report.stream(' ---> Using cache\n');
      this.cached++;
      st.image = hit;
      st.config = next;
      return;
    }
    this.executed++;
    const img = await withScratch(this.engine, st.image, async (l) => {
      const root = await ScopedRoot.open(l.merged);
      await root.mkdirAll(dir).finally(() => root.close());
      const changed = (await readdir(l.upper)).length > 0;
      return changed
        ? await commitLayer(this.engine.images, st.image, l.upper, this.workDir, { createdBy: historyText(ins), config: next, epoch: this.epoch })
        : await commitConfig(this.engine.images, st.image, { createdBy: historyText(ins), config: next, epoch: this.epoch });
    });
    st.image = await this.remember(key, img);
    st.config = next;
  }

  /** The root filesystem of a stage or image, mounted for this build (released at the end). */
  private async rootfsOf(from: string, stages: Stage[], ins: Instruction): Promise<{ root: string; id: string }> {
    const st = findStage(stages, from);
    const img = st ? await this.stageResults.get(st.index)! : await this.imageByRef(from, ins);
    if (!img) {
      const l = join(this.workDir, 'empty');
      await mkdir(l, { recursive: true });
      return { root: l, id: 'scratch' };
    }
    const layer: ScratchLayer = await mountScratch(this.engine, img);
    this.releases.push(layer.release);
    return { root: layer.merged, id: img.id };
  }

  private async runInstruction(st: StageState, ins: Instruction, shell: string[], stages: Stage[]): Promise<void> {
    const flags = ins.flags;
    for (const k of flags.keys()) if (!['mount', 'network', 'security'].includes(k)) throw invalid(`RUN does not take the flag --${k}`);
    // RUN --network takes only default, none or host (as BuildKit); the build's own networkmode may also
    // name a user-defined network, whose names the step then resolves (as the classic builder).
    const flagNet = flags.get('network')?.[0];
    if (flagNet !== undefined && !['default', 'bridge', 'none', 'host'].includes(flagNet)) throw invalid(`RUN --network=${flagNet}: use default, none or host`);
    const network = flagNet ?? this.req.networkMode ?? 'bridge';
    const netMode = network === 'default' ? 'bridge' : network;
    const mounts = (flags.get('mount') ?? []).map((m) => parseMountFlag(m, this.where(ins)));
    let argv: string[];
    if (ins.json) argv = ins.json;
    else {
      let script = ins.rest;
      if (ins.heredocs.length) {
        // A heredoc alone is the script; otherwise the shell reads the heredocs itself.
        script = /^<<-?(["']?)[A-Za-z_][A-Za-z0-9_]*\1$/.test(ins.rest.trim()) && ins.heredocs.length === 1
          ? ins.heredocs[0]!.content
          : [ins.rest, ...ins.heredocs.map((h) => `${h.content}${h.name}`)].join('\n');
      }
      argv = [...shell, script];
    }
    // ARGs are the RUN's environment but not the image's; they are part of the key.
    const env = envList(st.config);
    const argEnv: string[] = [];
    for (const [k, v] of st.vars) if (!env.has(k)) argEnv.push(`${k}=${v}`);
    const fromIds: string[] = [];
    for (const m of mounts) if (m.from) fromIds.push((await this.stageOrImageId(m.from, stages, ins)) ?? m.from);
    const key = cacheKey([st.image?.id ?? 'scratch', 'RUN', argv, argEnv.sort(), mounts.map(mountKey), fromIds, netMode]);
    const hit = await this.cachedImage(key);
    if (hit) {
      this.report.stream(' ---> Using cache\n');
      this.cached++;
      st.image = hit;
      return;
    }
    this.executed++;
    let base = st.image;
    if (!base) base = await commitConfig(this.engine.images, null, { createdBy: '', config: st.config, epoch: this.epoch });
    const runMounts: RunMount[] = [];
    for (const m of mounts) {
      const r = await resolveRunMount(m, {
        contextDir: this.req.contextDir,
        cacheMountsDir: this.cache.cacheMountsDir,
        secretsDir: join(this.workDir, 'secrets'),
        secrets: this.secrets,
        rootfsOf: async (from) => (await this.rootfsOf(from, stages, ins)).root,
        where: this.where(ins),
      });
      if (r) runMounts.push(r);
    }
    const env2 = [...(st.config.Env ?? []), ...argEnv];
    const result = await runStep(this.containers, {
      image: base,
      argv,
      env: env2,
      workdir: st.config.WorkingDir || '/',
      user: st.config.User ?? '',
      network: netMode,
      extraHosts: this.req.extraHosts,
      mounts: runMounts,
      onStart: (id) => this.report.stream(` ---> Running in ${short(id)}\n`),
      // Docker's builder paints a step's stderr red (ANSI 91) in the stream; clients tell the two apart by it.
      onOutput: (b, from) => this.report.stream(from === 'stderr' ? `\x1b[91m${b.toString('utf8')}\x1b[0m` : b.toString('utf8')),
    });
    try {
      if (result.exitCode !== 0) {
        // The exit code travels as the stream's errorDetail.code, as Docker sends it.
        throw new TugError('invalid', `The command '${argv.join(' ')}' returned a non-zero code: ${result.exitCode}`, { exitCode: result.exitCode });
      }
      const img = await commitLayer(this.engine.images, base, result.upper, this.workDir, { createdBy: historyText(ins, argv), config: st.config, epoch: this.epoch });
      st.image = await this.remember(key, img);
    } finally {
      await result.cleanup();
    }
  }

  private async stageOrImageId(from: string, stages: Stage[], ins: Instruction): Promise<string | undefined> {
    const st = findStage(stages, from);
    if (st) return (await this.stageResults.get(st.index)!)?.id ?? 'scratch';
    return (await this.imageByRef(from, ins)).id;
  }

  private async copyInstruction(st: StageState, ins: Instruction, stages: Stage[]): Promise<void> {
    const isAdd = ins.cmd === 'ADD';
    // --link only changes how BuildKit stores the layer; the result is the same here.
    const allowed = isAdd ? ['chown', 'chmod', 'checksum', 'link'] : ['chown', 'chmod', 'from', 'link'];
    for (const k of ins.flags.keys()) if (!allowed.includes(k)) throw invalid(`${ins.cmd} does not take the flag --${k}`);
    const vars = this.varsOf(st);
    const words = ins.json ?? processWords(ins.rest, vars, this.escape);
    const heredocNames = new Set(ins.heredocs.map((h) => h.name));
    const srcWords = words.slice(0, -1).filter((w) => !/^<<-?["']?[A-Za-z_]/.test(w));
    const destWord = words[words.length - 1];
    if (!destWord || (srcWords.length === 0 && heredocNames.size === 0)) throw invalid(`${ins.cmd} requires at least two arguments, but only ${words.length} provided`);
    const dest = posix.resolve(st.config.WorkingDir || '/', destWord);
    const destIsDir = destWord.endsWith('/') || destWord === '.' || destWord.endsWith('/.');
    const chown = ins.flags.get('chown')?.[0];
    const chmod = ins.flags.get('chmod')?.[0];
    if (chmod && !/^[0-7]{3,4}$/.test(chmod)) throw invalid(`--chmod=${chmod}: only octal modes (e.g. 0755) are supported`);
    const from = ins.flags.get('from')?.[0];

    // Sources: the context, another stage/image (from=), heredocs, or URLs (ADD).
    let matches: SourceMatch[] = [];
    let contentKey: unknown;
    const fromName = from !== undefined ? processWord(from, vars, this.escape) : undefined;
    if (fromName !== undefined) {
      // An image's content never changes under its ID, so the ID and the source names are the key; its
      // filesystem is mounted only when the step has to copy (a cached step mounts nothing).
      contentKey = [(await this.stageOrImageId(fromName, stages, ins)) ?? 'scratch', srcWords];
    } else {
      for (const src of srcWords) {
        if (isAdd && /^https?:\/\//i.test(src)) matches.push(await this.download(src, destIsDir, ins.flags.get('checksum')?.[0]));
        else matches.push(...(await matchSource(this.req.contextDir, src, `${ins.cmd} failed`, true)));
      }
      if (ins.heredocs.length) {
        const hdDir = join(this.workDir, `heredoc-${randomBytes(4).toString('hex')}`);
        await mkdir(hdDir, { recursive: true });
        for (const h of ins.heredocs) {
          await writeFile(join(hdDir, h.name), h.content, { mode: 0o644 });
          matches.push({ root: hdDir, rel: h.name, abs: join(hdDir, h.name), isDir: false });
        }
      }
      contentKey = await hashSources(matches, this.req.contextDigests);
    }
    const key = cacheKey([st.image?.id ?? 'scratch', ins.cmd, contentKey, dest, destIsDir, chown ?? '', chmod ?? '']);
    const hit = await this.cachedImage(key);
    if (hit) {
      this.report.stream(' ---> Using cache\n');
      this.cached++;
      st.image = hit;
      return;
    }
    this.executed++;
    if (fromName !== undefined) {
      const { root } = await this.rootfsOf(fromName, stages, ins);
      for (const src of srcWords) matches.push(...(await matchSource(root, src, `${ins.cmd} --from=${from}`, false)));
    }
    const img = await withScratch(this.engine, st.image, async (l) => {
      const owner = chown ? await resolveOwner(l.merged, processWord(chown, vars, this.escape)) : undefined;
      if (isAdd) {
        const plain: SourceMatch[] = [];
        for (const m of matches) {
          if (!m.isDir && !m.abs.startsWith(join(this.workDir, 'download-')) && (await isTarArchive(m.abs))) await extractTarInto(m.abs, l.merged, dest);
          else plain.push(m);
        }
        matches = plain;
      }
      if (matches.length) await copyInto(l.merged, matches, dest, destIsDir || (isAdd && matches.length > 1), { owner, chmod });
      return await commitLayer(this.engine.images, st.image, l.upper, this.workDir, { createdBy: historyText(ins), config: st.config, epoch: this.epoch });
    });
    st.image = await this.remember(key, img);
  }

  /** ADD https://…: fetched into the build's scratch dir; Docker gives the file mode 0600. */
  private async download(url: string, destIsDir: boolean, checksum?: string): Promise<SourceMatch> {
    if (checksum !== undefined && !/^sha256:[0-9a-f]{64}$/.test(checksum)) throw invalid(`ADD --checksum=${checksum}: want sha256:<64 hex digits>`);
    const res = await fetch(url, { redirect: 'follow' });
    if (!res.ok) throw invalid(`ADD ${url}: download failed: HTTP ${res.status}`);
    const data = Buffer.from(await res.arrayBuffer());
    if (checksum) {
      const got = `sha256:${createHash('sha256').update(data).digest('hex')}`;
      if (got !== checksum) throw invalid(`ADD ${url}: checksum mismatch: the download is ${got}, --checksum wants ${checksum}`);
    }
    const dir = join(this.workDir, `download-${randomBytes(4).toString('hex')}`);
    await mkdir(dir, { recursive: true });
    const name = destIsDir ? posix.basename(new URL(url).pathname) || 'index.html' : 'download';
    const file = join(dir, name);
    await writeFile(file, data, { mode: 0o600 });
    const st = await stat(file);
    return { root: dir, rel: name, abs: file, isDir: st.isDirectory() };
  }
}

/**
 * True when `img` is `src` or one of the images `src` was built on: its layers and
 * history are a prefix of src's (history tells a config-only step from its parent).
 */
function isAncestorOrSelf(img: ImageRecord, src: ImageRecord): boolean {
  if (img.id === src.id) return true;
  const a = img.config;
  const b = src.config;
  const la = a.rootfs?.diff_ids ?? [];
  const lb = b.rootfs?.diff_ids ?? [];
  const ha = a.history ?? [];
  const hb = b.history ?? [];
  if (la.length > lb.length || ha.length >= hb.length) return false;
  if (!la.every((d, i) => d === lb[i])) return false;
  return ha.every((h, i) => JSON.stringify(h) === JSON.stringify(hb[i]));
}

function parseArgsPrelude(instructions: Instruction[]): Instruction[] {
  const out: Instruction[] = [];
  for (const ins of instructions) {
    if (ins.cmd === 'FROM') break;
    if (ins.cmd === 'ARG') out.push(ins);
  }
  return out;
}

/** The history `created_by` text, as docker history shows it. */
function historyText(ins: Instruction, argv?: string[]): string {
  if (ins.cmd === 'RUN' && argv) return argv.join(' ');
  return `/bin/sh -c #(nop) ${ins.original}`;
}
