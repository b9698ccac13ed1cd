// cp: files between a container and the host through the archive endpoints.
// Both directions move tar streams; GNU tar does the packing so ownership,
// modes, links and long names come out right.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, posix, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parse, flags, requireArgs, UsageError } from '../args.js';
import { DaemonError } from '../client.js';
import { CliError, type Ctx } from '../context.js';

const enc = encodeURIComponent;

/** "name:/path" → container side; anything else (including "-", "./a:b") is local. */
function splitSpec(s: string): { container?: string; path: string } {
  if (s.startsWith('/') || s.startsWith('.') || s === '-') return { path: s };
  const colon = s.indexOf(':');
  if (colon <= 0) return { path: s };
  return { container: s.slice(0, colon), path: s.slice(colon + 1) };
}

function tarProcess(args: string[], stdin: 'pipe' | 'ignore'): ReturnType<typeof spawn> {
  return spawn('tar', args, { stdio: [stdin, stdin === 'pipe' ? 'ignore' : 'pipe', 'pipe'] });
}

function finished(child: ReturnType<typeof spawn>): Promise<void> {
  const errs: Buffer[] = [];
  child.stderr?.on('data', (c: Buffer) => errs.push(c));
  return new Promise((res, rej) => {
    child.on('error', rej);
    child.on('close', (code) => (code === 0 ? res() : rej(new CliError(`tar: ${Buffer.concat(errs).toString().trim() || `exit ${code}`}`, 1))));
  });
}

async function isDir(p: string): Promise<boolean | undefined> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return undefined;
  }
}

async function fromContainer(ctx: Ctx, container: string, src: string, dest: string): Promise<void> {
  const res = await ctx.client.response('GET', `/containers/${enc(container)}/archive`, { query: { path: src } }).catch((e: unknown) => {
    if (e instanceof DaemonError && e.status === 404) throw new CliError(`Error: No such container:path: ${container}:${src}`, 1);
    throw e;
  });
  if (dest === '-') {
    await pipeline(res, process.stdout);
    return;
  }
  const contentsOnly = src.endsWith('/.');
  const destIsDir = await isDir(dest);
  if (destIsDir && !contentsOnly) {
    const tar = tarProcess(['-x', '-C', dest], 'pipe');
    await Promise.all([pipeline(res, tar.stdin!), finished(tar)]);
    return;
  }
  if (destIsDir === undefined && !(await isDir(dirname(resolve(dest))))) {
    throw new CliError(`Error: invalid output path: directory "${dirname(resolve(dest))}" does not exist`, 1);
  }
  // Unpack beside the destination, then rename: the copy takes the new name atomically.
  const tmp = await mkdtemp(join(dirname(resolve(dest)), '.tug-cp-'));
  try {
    const tar = tarProcess(['-x', '-C', tmp], 'pipe');
    await Promise.all([pipeline(res, tar.stdin!), finished(tar)]);
    const [entry] = await readdir(tmp);
    if (!entry) throw new CliError(`Error: nothing copied from ${container}:${src}`, 1);
    if (contentsOnly && destIsDir) {
      const tar2 = tarProcess(['-c', '-C', join(tmp, entry), '.'], 'ignore');
      const untar = tarProcess(['-x', '-C', dest], 'pipe');
      await Promise.all([pipeline(tar2.stdout!, untar.stdin!), finished(tar2), finished(untar)]);
    } else await rename(join(tmp, entry), dest);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Escapes a literal for the pattern side of tar --transform (basic regex, ',' delimiter). */
function sedPattern(s: string): string {
  return s.replace(/[\\^$.*[\],]/g, (c) => `\\${c}`);
}

/** Escapes a literal for the replacement side: only \\, & and the delimiter are special. */
function sedReplacement(s: string): string {
  return s.replace(/[\\&,]/g, (c) => `\\${c}`);
}

async function toContainer(ctx: Ctx, src: string, container: string, dest: string): Promise<void> {
  const c = ctx.client;
  let destStat: { mode: number } | undefined;
  try {
    const h = await c.head(`/containers/${enc(container)}/archive`, { path: dest });
    const raw = h['x-docker-container-path-stat'];
    destStat = raw ? (JSON.parse(Buffer.from(String(raw), 'base64').toString('utf8')) as { mode: number }) : { mode: 0 };
  } catch (e) {
    if (!(e instanceof DaemonError && e.status === 404)) throw e;
  }
  const MODE_DIR = 2 ** 31; // Go's os.ModeDir bit
  const destIsDir = destStat !== undefined && destStat.mode >= MODE_DIR && Math.floor(destStat.mode / MODE_DIR) % 2 === 1;
  if (src === '-') {
    if (!destIsDir) throw new CliError(`Error: destination "${container}:${dest}" must be a directory`, 1);
    await c.call('PUT', `/containers/${enc(container)}/archive`, { query: { path: dest }, body: process.stdin });
    return;
  }
  const local = resolve(src);
  const localIsDir = await isDir(local);
  if (localIsDir === undefined) throw new CliError(`stat ${local}: no such file or directory`, 1);
  let args: string[];
  let target: string;
  if (src.endsWith('/.')) {
    args = ['-c', '-C', local, '.'];
    target = dest;
  } else if (destIsDir) {
    args = ['-c', '-C', dirname(local), basename(local)];
    target = dest;
  } else {
    // The copy takes the destination's name inside its parent directory.
    const from = basename(local);
    const to = posix.basename(dest);
    args = ['-c', '-C', dirname(local), `--transform=s,^${sedPattern(from)},${sedReplacement(to)},S`, from];
    target = posix.dirname(dest.replace(/\/+$/, '')) || '/';
  }
  const tar = tarProcess(args, 'ignore');
  await Promise.all([c.call('PUT', `/containers/${enc(container)}/archive`, { query: { path: target }, body: tar.stdout! }), finished(tar)]);
}

export async function cp(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:archive,a', 'bool:follow-link,L', 'bool:quiet,q'));
  requireArgs(o, 'cp', 2, 2);
  const from = splitSpec(o.args[0]!);
  const to = splitSpec(o.args[1]!);
  if (from.container && to.container) throw new UsageError('copying between containers is not supported');
  if (!from.container && !to.container) throw new UsageError('must specify at least one container source');
  if (from.container) await fromContainer(ctx, from.container, from.path, to.path);
  else await toContainer(ctx, from.path, to.container!, to.path);
  return 0;
}
