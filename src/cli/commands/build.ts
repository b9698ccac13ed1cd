// tug build, tug builder prune, tug image bootstrap: clients of POST /build,
// POST /build/prune and POST /tug/images/bootstrap. The context goes up as a
// tar made by GNU tar, without what .dockerignore excludes (the daemon applies
// it again for clients that send everything).
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { Readable } from 'node:stream';
import { basename, dirname, join, relative, resolve, isAbsolute } from 'node:path';
import { flags, parse, requireArgs, UsageError } from '../args.js';
import { eachJsonLine } from '../client.js';
import { CliError, type Ctx } from '../context.js';
import { tarContext, type OutsideDockerfile } from '../../util/context-tar.js';

const contextError = (message: string): Error => new CliError(message, 1);

const BUILD_FLAGS = flags(
  'list:tag,t', 'string:file,f', 'list:build-arg', 'string:target', 'bool:no-cache', 'bool:quiet,q', 'string:progress',
  'list:secret', 'list:label', 'string:platform', 'string:network', 'bool:pull', 'bool:rm', 'bool:force-rm', 'string:iidfile',
);

function keyValues(list: string[], flag: string, fromEnv: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const eq = kv.indexOf('=');
    if (eq === 0) throw new UsageError(`invalid argument "${kv}" for "--${flag}" flag: the name is empty`);
    if (eq < 0) {
      if (!fromEnv) throw new UsageError(`invalid argument "${kv}" for "--${flag}" flag: want KEY=VALUE`);
      const v = process.env[kv];
      if (v !== undefined) out[kv] = v;
    } else out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

/** --secret id=NAME,src=FILE (or env=VAR): contents go to the daemon base64-encoded, only for this build. */
async function readSecrets(list: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const spec of list) {
    const kv = new Map(spec.split(',').map((p) => {
      const eq = p.indexOf('=');
      return [eq < 0 ? p : p.slice(0, eq), eq < 0 ? '' : p.slice(eq + 1)] as [string, string];
    }));
    const id = kv.get('id');
    if (!id) throw new UsageError(`invalid argument "${spec}" for "--secret" flag: id= is required`);
    const src = kv.get('src') ?? kv.get('source');
    const env = kv.get('env');
    if (src) {
      try {
        out[id] = (await readFile(src)).toString('base64');
      } catch (err) {
        throw new CliError(`secret ${id}: cannot read ${src}: ${(err as Error).message}`, 1);
      }
    } else if (env !== undefined || process.env[id] !== undefined) {
      out[id] = Buffer.from(process.env[env ?? id] ?? '').toString('base64');
    } else throw new UsageError(`invalid argument "${spec}" for "--secret" flag: give src=FILE or env=VAR`);
  }
  return out;
}


async function isTarStream(head: Buffer): Promise<boolean> {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return true;
  return head.length >= 262 && head.subarray(257, 262).toString() === 'ustar';
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function build(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, BUILD_FLAGS);
  requireArgs(o, 'build', 1, 1);
  const contextArg = o.args[0]!;
  const progress = o.str('progress') ?? 'auto';
  if (!['auto', 'tty', 'plain', 'quiet'].includes(progress)) throw new UsageError(`invalid argument "${progress}" for "--progress" flag: use auto, tty or plain`);
  const quiet = o.bool('quiet') || progress === 'quiet';
  const tty = !quiet && (progress === 'tty' || (progress === 'auto' && Boolean(process.stdout.isTTY)));
  let dockerfileQuery: string | undefined;
  let body: Readable | Buffer;
  let cleanup = async (): Promise<void> => undefined;
  if (contextArg === '-') {
    const data = await readStdin();
    if (await isTarStream(data.subarray(0, 512))) body = data;
    else {
      // A Dockerfile on stdin: a context that holds only it.
      const tmp = await mkdtemp(join(tmpdir(), 'tug-build-'));
      cleanup = () => rm(tmp, { recursive: true, force: true });
      await writeFile(join(tmp, 'Dockerfile'), data);
      body = tarContext(tmp, undefined, contextError);
    }
    if (o.str('file')) dockerfileQuery = o.str('file');
  } else {
    const dir = resolve(contextArg);
    try {
      if (!(await stat(dir)).isDirectory()) throw new Error('not a directory');
    } catch {
      throw new CliError(`unable to prepare context: path "${contextArg}" not found`, 1);
    }
    const file = o.str('file');
    let extra: OutsideDockerfile | undefined;
    if (file && file !== '-') {
      const abs = isAbsolute(file) ? file : resolve(file);
      const rel = relative(dir, abs);
      if (rel.startsWith('..') || isAbsolute(rel)) {
        extra = { dir: dirname(abs), name: basename(abs), as: '.tug-dockerfile' };
        dockerfileQuery = '.tug-dockerfile';
      } else dockerfileQuery = rel;
    }
    body = tarContext(dir, extra, contextError, extra ? undefined : dockerfileQuery);
  }
  const query = {
    t: o.list('tag'),
    dockerfile: dockerfileQuery,
    buildargs: JSON.stringify(keyValues(o.list('build-arg'), 'build-arg', true)),
    labels: JSON.stringify(keyValues(o.list('label'), 'label', false)),
    target: o.str('target'),
    nocache: o.bool('no-cache') ? 1 : undefined,
    q: quiet ? 1 : undefined,
    platform: o.str('platform'),
    networkmode: o.str('network'),
    secrets: o.list('secret').length ? JSON.stringify(await readSecrets(o.list('secret'))) : undefined,
  };
  try {
    const res = await ctx.client.response('POST', '/build', { query, body, headers: { 'Content-Type': 'application/x-tar' } });
    const view = tty ? new TtyView(ctx) : undefined;
    let id = '';
    let error: string | undefined;
    await eachJsonLine(res, (m) => {
      if (m.error || m.errorDetail) error ??= m.errorDetail?.message ?? m.error;
      else if (m.aux?.ID) id = m.aux.ID;
      else if (typeof m.stream === 'string' && !quiet) {
        if (view) view.stream(m.stream);
        else ctx.out(m.stream);
      }
    });
    view?.finish(Boolean(error));
    if (error) throw new CliError(error, 1);
    if (quiet) ctx.out(`${id}\n`);
    const iid = o.str('iidfile');
    if (iid) await writeFile(iid, id);
    return 0;
  } finally {
    await cleanup();
  }
}

/**
 * The compact terminal view: one line per step, rewritten in place while the
 * step runs (showing its latest output line); a failed step's whole output is
 * printed so the error can be read.
 */
class TtyView {
  private step = '';
  private output: string[] = [];
  private status = '';

  constructor(private readonly ctx: Ctx) {}

  stream(text: string): void {
    for (const raw of text.split(/(?<=\n)/)) {
      const line = raw.replace(/\n$/, '');
      if (line.startsWith('Step ')) {
        this.close();
        this.step = line;
        this.output = [];
        this.status = '';
      } else if (line === ' ---> Using cache') this.status = 'CACHED';
      else if (line.startsWith(' ---> Running in ')) this.status = 'RUNNING';
      else if (line.startsWith(' ---> ')) this.status = this.status === 'CACHED' ? 'CACHED' : `DONE ${line.slice(6)}`;
      else if (line.startsWith('Successfully ') || line.startsWith('[Warning]')) {
        this.close();
        this.ctx.out(`${line}\n`);
        continue;
      } else if (line) this.output.push(line);
      this.draw();
    }
  }

  private draw(): void {
    const cols = process.stdout.columns || 100;
    const last = this.output.length ? `  ${this.output[this.output.length - 1]}` : '';
    const text = `${this.step}${this.status ? `  [${this.status}]` : ''}${this.status === 'RUNNING' ? last : ''}`;
    this.ctx.out(`\r\x1b[2K${text.slice(0, cols - 1)}`);
  }

  private close(): void {
    if (this.step) this.ctx.out('\n');
    this.step = '';
  }

  finish(failed: boolean): void {
    if (failed && this.output.length) {
      this.ctx.out('\n');
      for (const l of this.output) this.ctx.out(`  ${l}\n`);
    } else this.close();
  }
}

export async function builderPrune(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:force,f', 'bool:all,a', 'list:filter'));
  requireArgs(o, 'builder prune', 0, 0);
  const r = await ctx.client.json<{ CachesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/build/prune');
  if (r.CachesDeleted?.length) ctx.out(`Deleted build cache objects:\n${r.CachesDeleted.join('\n')}\n\n`);
  ctx.out(`Total reclaimed space: ${r.SpaceReclaimed}B\n`);
  return 0;
}

export async function imageBootstrap(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('string:mirror'));
  requireArgs(o, 'image bootstrap', 1, 1);
  const res = await ctx.client.response('POST', '/tug/images/bootstrap', { query: { ref: o.args[0], mirror: o.str('mirror') } });
  let error: string | undefined;
  let id = '';
  await eachJsonLine(res, (m) => {
    if (m.error || m.errorDetail) error ??= m.errorDetail?.message ?? m.error;
    else if (m.aux?.ID) id = m.aux.ID;
    else if (typeof m.stream === 'string') ctx.err(m.stream);
  });
  if (error) throw new CliError(error, 1);
  ctx.out(`${id}\n`);
  return 0;
}
