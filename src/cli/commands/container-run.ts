// run, create, start, attach: creating containers and joining their stdio.
// run/create pull a missing image first as the docker CLI does (--pull
// missing|always|never), and print their flag table for --help.
import { open, rm, type FileHandle } from 'node:fs/promises';
import { flags, parse, requireArgs, UsageError, type FlagSpec } from '../args.js';
import { DaemonError } from '../client.js';
import { CliError, type Ctx } from '../context.js';
import { renderHelp, type CommandHelp } from '../help.js';
import { familiarName, parseReference, type ImageReference } from '../../oci/reference.js';
import type { PullOptions } from './image-pull.js';
import { parseDetachKeys } from '../stdio.js';
import { openSession } from './attach-session.js';
import { buildCreateRequest, CREATE_FLAGS } from './container-config.js';

/** docker's mapping of start failures to 126/127 (cannot execute / not found). */
function startFailureCode(msg: string): number {
  if (/executable file not found|no such file or directory|system cannot find the file/.test(msg)) return 127;
  if (/permission denied|is a directory/.test(msg)) return 126;
  return 125;
}

function runError(cmd: string, err: unknown, code = 125): CliError {
  const msg = err instanceof DaemonError ? `Error response from daemon: ${err.message}` : err instanceof Error ? err.message : String(err);
  return new CliError(`tug: ${msg}\nSee 'tug ${cmd} --help'.`, code);
}

const RUN_ONLY_FLAGS = flags(
  ['bool:detach,d', 'Run container in background and print container ID'],
  ['bool:sig-proxy', 'Proxy received signals to the process (default true)'],
);

const HELP: Record<'run' | 'create', CommandHelp> = {
  run: { usage: 'run [OPTIONS] IMAGE [COMMAND] [ARG...]', summary: 'Create and run a new container from an image', aliases: 'tug container run, tug run' },
  create: { usage: 'create [OPTIONS] IMAGE [COMMAND] [ARG...]', summary: 'Create a new container', aliases: 'tug container create, tug create' },
};

function flagsOf(cmd: 'run' | 'create'): FlagSpec[] {
  return cmd === 'run' ? [...CREATE_FLAGS, ...RUN_ONLY_FLAGS] : CREATE_FLAGS;
}

const PULL_POLICIES = ['always', 'missing', 'never'];

interface Created {
  id: string;
  body: Record<string, any>;
  detach: boolean;
  sigProxy: boolean;
  detachKeys?: string;
}

/** Parses run/create flags; undefined when --help was asked for (and printed). */
async function createContainer(ctx: Ctx, cmd: 'run' | 'create', argv: string[]): Promise<Created | undefined> {
  const o = parse(argv, flagsOf(cmd), { interspersed: false });
  if (o.bool('help')) {
    ctx.out(renderHelp(HELP[cmd], flagsOf(cmd)));
    return undefined;
  }
  requireArgs(o, cmd, 1);
  const detach = cmd === 'create' || o.bool('detach');
  const sigProxy = !o.has('sig-proxy') || o.bool('sig-proxy');
  const pull = o.str('pull') || 'missing';
  if (!PULL_POLICIES.includes(pull)) throw runError(cmd, new Error(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`));
  if (o.str('detach-keys')) parseDetachKeys(o.str('detach-keys')!); // reject bad keys before creating anything
  const req = await buildCreateRequest(o, detach);
  if (req.body.Tty && req.body.AttachStdin && !process.stdin.isTTY) {
    throw new CliError('the input device is not a TTY', 1);
  }
  // An image id (or anything that is not a name) is never pulled, as docker's ParseAnyReference decides.
  const named = pullableReference(req.image);
  const pullOpts: PullOptions = { platform: req.platform, quiet: o.bool('quiet'), write: ctx.err, tty: process.stderr.isTTY === true };
  const cid = await openCidFile(o.str('cidfile'));
  try {
    if (pull === 'always' && named) await pullImage(ctx, named, pullOpts);
    const send = (): Promise<{ Id: string; Warnings?: string[] | null }> =>
      ctx.client.json('POST', '/containers/create', { query: { name: req.name, platform: req.platform }, body: req.body });
    let res: { Id: string; Warnings?: string[] | null };
    try {
      res = await send();
    } catch (e) {
      // docker's default (--pull missing): a create that finds no image pulls it and tries once more.
      if (!(pull === 'missing' && named && e instanceof DaemonError && e.status === 404 && /no such image/i.test(e.message))) throw e;
      if (!pullOpts.quiet) ctx.err(`Unable to find image '${familiarName(named)}' locally\n`);
      await pullImage(ctx, named, pullOpts);
      res = await send();
    }
    for (const w of res.Warnings ?? []) ctx.err(`WARNING: ${w}\n`);
    await cid?.write(res.Id);
    return { id: res.Id, body: req.body, detach, sigProxy, detachKeys: o.str('detach-keys') };
  } catch (e) {
    throw runError(cmd, e);
  } finally {
    await cid?.close();
  }
}

/**
 * Loaded only when a pull happens: the pull path brings registry auth, the progress
 * renderer and node:crypto, which a run of a present image never needs.
 */
async function pullImage(ctx: Ctx, ref: ImageReference, opts: PullOptions): Promise<void> {
  await (await import('./image-pull.js')).pullImage(ctx, ref, opts);
}

/** An image id ('<64 hex>') or a bare digest, which docker's ParseAnyReference keeps from pulling. */
const IMAGE_ID = /^(?:[a-f0-9]{64}|sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})$/;

function pullableReference(image: string): ImageReference | undefined {
  if (IMAGE_ID.test(image)) return undefined;
  try {
    return parseReference(image);
  } catch {
    return undefined;
  }
}

/**
 * --cidfile: refused if the file exists (another container may own it), made before the create,
 * and removed again when no id was written into it.
 */
async function openCidFile(path: string | undefined): Promise<{ write(id: string): Promise<void>; close(): Promise<void> } | undefined> {
  if (!path) return undefined;
  let fh: FileHandle;
  try {
    fh = await open(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new CliError(`tug: container ID file found, make sure the other container isn't running or delete ${path}`, 125);
    throw new CliError(`tug: failed to create the container ID file: ${(e as Error).message}`, 125);
  }
  let written = false;
  return {
    write: async (id) => {
      await fh.writeFile(id);
      written = true;
    },
    close: async () => {
      await fh.close();
      if (!written) await rm(path, { force: true });
    },
  };
}

export async function create(ctx: Ctx, argv: string[]): Promise<number> {
  const c = await createContainer(ctx, 'create', argv);
  if (c) ctx.out(`${c.id}\n`);
  return 0;
}

export async function run(ctx: Ctx, argv: string[]): Promise<number> {
  const created = await createContainer(ctx, 'run', argv);
  if (!created) return 0;
  const { id, body, detach, sigProxy, detachKeys } = created;
  const c = ctx.client;
  if (detach) {
    try {
      await c.call('POST', `/containers/${id}/start`);
    } catch (e) {
      throw runError('run', e, e instanceof DaemonError ? startFailureCode(e.message) : 125);
    }
    ctx.out(`${id}\n`);
    return 0;
  }
  const tty = Boolean(body.Tty);
  const stdin = Boolean(body.AttachStdin);
  const conn = await c.hijack('POST', `/containers/${id}/attach`, {
    query: { stream: 1, stdin: stdin ? 1 : 0, stdout: body.AttachStdout ? 1 : 0, stderr: body.AttachStderr ? 1 : 0, detachKeys },
  });
  const autoRemove = Boolean(body.HostConfig?.AutoRemove);
  // Ask for the exit code before starting, so a fast exit is never missed.
  const waited = c.json<{ StatusCode: number; Error?: { Message?: string } | null }>('POST', `/containers/${id}/wait`, {
    query: { condition: autoRemove ? 'removed' : 'next-exit' },
  });
  waited.catch(() => {});
  const session = openSession(c, conn, { tty, stdin, resizePath: `/containers/${id}/resize`, proxySignalsTo: sigProxy ? id : undefined, detachKeys });
  try {
    await c.call('POST', `/containers/${id}/start`);
  } catch (e) {
    conn.socket.destroy();
    if (autoRemove) await c.call('DELETE', `/containers/${id}`, { query: { force: 1 } }).catch(() => {});
    throw runError('run', e, e instanceof DaemonError ? startFailureCode(e.message) : 125);
  }
  session.started();
  const how = await session.done;
  if (how === 'detached') {
    conn.socket.destroy();
    return 0;
  }
  const res = await waited;
  if (res.Error?.Message) ctx.err(`tug: ${res.Error.Message}\n`);
  return res.StatusCode;
}

// Their --help is the flag table above, found wherever --help is among the flags ('run --rm --help').
run.ownHelp = true;
create.ownHelp = true;

export async function start(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:attach,a', 'bool:interactive,i', 'string:detach-keys'));
  requireArgs(o, 'start', 1);
  const c = ctx.client;
  if (!o.bool('attach') && !o.bool('interactive')) {
    let failed = false;
    for (const name of o.args) {
      try {
        await c.call('POST', `/containers/${encodeURIComponent(name)}/start`);
        ctx.out(`${name}\n`);
      } catch (e) {
        failed = true;
        ctx.err(`Error response from daemon: ${(e as Error).message}\n`);
      }
    }
    if (failed) throw new CliError('Error: failed to start containers: ' + o.args.join(', '), 1);
    return 0;
  }
  if (o.args.length > 1) throw new UsageError('you cannot start and attach multiple containers at once');
  const id = o.args[0]!;
  const info = await c.json('GET', `/containers/${encodeURIComponent(id)}/json`);
  const tty = Boolean(info.Config?.Tty);
  const stdin = o.bool('interactive') && Boolean(info.Config?.OpenStdin);
  const detachKeys = o.str('detach-keys');
  const conn = await c.hijack('POST', `/containers/${info.Id}/attach`, { query: { stream: 1, stdin: stdin ? 1 : 0, stdout: 1, stderr: 1, detachKeys } });
  const waited = c.json('POST', `/containers/${info.Id}/wait`, { query: { condition: 'next-exit' } });
  waited.catch(() => {});
  const session = openSession(c, conn, { tty, stdin, resizePath: `/containers/${info.Id}/resize`, proxySignalsTo: tty ? undefined : info.Id, detachKeys });
  await c.call('POST', `/containers/${info.Id}/start`);
  session.started();
  if ((await session.done) === 'detached') return 0;
  return (await waited).StatusCode as number;
}

export async function attach(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:no-stdin', 'bool:sig-proxy', 'string:detach-keys'));
  requireArgs(o, 'attach', 1, 1);
  const c = ctx.client;
  const info = await c.json('GET', `/containers/${encodeURIComponent(o.args[0]!)}/json`);
  if (!info.State?.Running) throw new CliError('You cannot attach to a stopped container, start it first', 1);
  if (info.State?.Paused) throw new CliError('You cannot attach to a paused container, unpause it first', 1);
  const tty = Boolean(info.Config?.Tty);
  const stdin = !o.bool('no-stdin') && Boolean(info.Config?.OpenStdin);
  const sigProxy = !o.has('sig-proxy') || o.bool('sig-proxy');
  // Like docker: wait is registered first, so the exit code is the one this session saw end.
  const waited = c.json<{ StatusCode: number }>('POST', `/containers/${info.Id}/wait`);
  waited.catch(() => {});
  const detachKeys = o.str('detach-keys');
  const conn = await c.hijack('POST', `/containers/${info.Id}/attach`, { query: { stream: 1, stdin: stdin ? 1 : 0, stdout: 1, stderr: 1, detachKeys } });
  const session = openSession(c, conn, { tty, stdin, resizePath: `/containers/${info.Id}/resize`, proxySignalsTo: sigProxy && !tty ? info.Id : undefined, detachKeys });
  session.started();
  if ((await session.done) === 'detached') return 0;
  return (await waited).StatusCode;
}
