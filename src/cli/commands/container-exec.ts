// exec: run a command in a running container, attached unless -d; the exit
// code is the process's, read back from /exec/{id}/json.
import { flags, parse, requireArgs } from '../args.js';
import { DaemonError } from '../client.js';
import { CliError, type Ctx } from '../context.js';
import { openSession } from './attach-session.js';
import { parseEnvList, readEnvFile } from './container-config.js';

const EXEC_FLAGS = flags(
  'bool:interactive,i',
  'bool:tty,t',
  'bool:detach,d',
  'bool:privileged',
  'list:env,e',
  'list:env-file',
  'string:user,u',
  'string:workdir,w',
  'string:detach-keys',
);

export async function exec(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, EXEC_FLAGS, { interspersed: false });
  requireArgs(o, 'exec', 2);
  const [container, ...cmd] = o.args as [string, ...string[]];
  const detach = o.bool('detach');
  const tty = o.bool('tty');
  const stdin = o.bool('interactive') && !detach;
  if (tty && stdin && !process.stdin.isTTY) throw new CliError('the input device is not a TTY', 1);
  const env = [...(await Promise.all(o.list('env-file').map(readEnvFile))).flat(), ...parseEnvList(o.list('env'))];
  const c = ctx.client;
  const created = await c.json<{ Id: string }>('POST', `/containers/${encodeURIComponent(container)}/exec`, {
    body: {
      AttachStdin: stdin,
      AttachStdout: !detach,
      AttachStderr: !detach,
      Tty: tty,
      Env: env.length ? env : undefined,
      User: o.str('user'),
      WorkingDir: o.str('workdir'),
      Privileged: o.bool('privileged'),
      Cmd: cmd,
      DetachKeys: o.str('detach-keys'),
      ConsoleSize: tty && process.stdout.isTTY && process.stdout.rows ? [process.stdout.rows, process.stdout.columns] : undefined,
    },
  });
  const id = created.Id;
  if (detach) {
    await c.call('POST', `/exec/${id}/start`, { body: { Detach: true, Tty: tty } });
    return 0;
  }
  let conn;
  try {
    conn = await c.hijack('POST', `/exec/${id}/start`, { body: { Detach: false, Tty: tty } });
  } catch (e) {
    // The process could not start at all: docker reports 126/127 for these.
    if (e instanceof DaemonError) {
      const code = /executable file not found|no such file or directory/.test(e.message) ? 127 : 126;
      throw new CliError(`Error response from daemon: ${e.message}`, code);
    }
    throw e;
  }
  const session = openSession(c, conn, { tty, stdin, resizePath: `/exec/${id}/resize`, detachKeys: o.str('detach-keys') });
  session.started();
  if ((await session.done) === 'detached') return 0;
  const info = await c.json<{ ExitCode: number | null; Running: boolean }>('GET', `/exec/${id}/json`);
  return info.ExitCode ?? 0;
}
