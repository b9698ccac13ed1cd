// run, create, start, attach: creating containers and joining their stdio.
import { flags, parse, requireArgs, UsageError } from '../args.js';
import { DaemonError } from '../client.js';
import { CliError, type Ctx } from '../context.js';
import { parseDetachKeys } from '../stdio.js';
import { openSession } from './attach-session.js';
import { buildCreateRequest, CREATE_FLAGS } from './container-config.js';

/** "busybox" → "busybox:latest", as docker names the image it could not find. */
export function withDefaultTag(ref: string): string {
  if (ref.includes('@')) return ref;
  const lastSlash = ref.lastIndexOf('/');
  return ref.slice(lastSlash + 1).includes(':') ? ref : `${ref}:latest`;
}

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

async function createContainer(ctx: Ctx, cmd: string, argv: string[]): Promise<{ id: string; body: Record<string, any>; detach: boolean; sigProxy: boolean; detachKeys?: string }> {
  const o = parse(argv, [...CREATE_FLAGS, ...flags('bool:detach,d', 'bool:sig-proxy')], { interspersed: false });
  requireArgs(o, cmd, 1);
  const detach = cmd === 'create' || o.bool('detach');
  const sigProxy = !o.has('sig-proxy') || o.bool('sig-proxy');
  if (o.str('detach-keys')) parseDetachKeys(o.str('detach-keys')!); // reject bad keys before creating anything
  const req = await buildCreateRequest(o, detach);
  if (req.body.Tty && req.body.AttachStdin && !process.stdin.isTTY) {
    throw new CliError('the input device is not a TTY', 1);
  }
  try {
    const res = await ctx.client.json<{ Id: string; Warnings?: string[] | null }>('POST', '/containers/create', {
      query: { name: req.name, platform: req.platform },
      body: req.body,
    });
    for (const w of res.Warnings ?? []) ctx.err(`WARNING: ${w}\n`);
    return { id: res.Id, body: req.body, detach, sigProxy, detachKeys: o.str('detach-keys') };
  } catch (e) {
    if (e instanceof DaemonError && e.status === 404 && /image/i.test(e.message)) {
      // Pulling is the daemon's job once it can; until then say what docker says and stop.
      ctx.err(`Unable to find image '${withDefaultTag(req.image)}' locally\n`);
    }
    throw runError(cmd, e);
  }
}

export async function create(ctx: Ctx, argv: string[]): Promise<number> {
  const { id } = await createContainer(ctx, 'create', argv);
  ctx.out(`${id}\n`);
  return 0;
}

export async function run(ctx: Ctx, argv: string[]): Promise<number> {
  const { id, body, detach, sigProxy, detachKeys } = await createContainer(ctx, 'run', argv);
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
