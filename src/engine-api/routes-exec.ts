// /containers/{id}/exec and /exec/* of the Docker Engine API.
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import type { ExecConfig, ExecService } from '../engine/exec-service.js';
import { canonicalFields, readJson, sendJson, sendNoContent, intParam } from './body.js';
import { hijackPlain, hijackUpgrade } from './hijack.js';
import { parseDetachKeys, pipeIo } from './pipe-io.js';
import type { Router, RequestContext } from './router.js';
import { frame, STDERR } from './stream-framing.js';
import { invalid, messageOf } from '../errdefs.js';

/** The fields of an exec's create body (ExecConfig in the Engine API). */
const execConfigFields = ['AttachStdin', 'AttachStdout', 'AttachStderr', 'DetachKeys', 'Tty', 'ConsoleSize', 'Env', 'Cmd', 'Privileged', 'User', 'WorkingDir'] as const;

export function execRoutes(r: Router, execs: ExecService): void {
  r.add('POST', '/containers/{id}/exec', async ({ req, res, params }) => {
    const body = canonicalFields(await readJson(req), execConfigFields) as Partial<ExecConfig>;
    if (body.DetachKeys !== undefined && body.DetachKeys !== null && typeof body.DetachKeys !== 'string') throw invalid('DetachKeys must be a string');
    parseDetachKeys(body.DetachKeys); // refused here, before anything is made
    sendJson(res, 201, execs.create(params.id!, body));
  });

  r.add('GET', '/exec/{id}/json', async ({ res, params }) => {
    const e = execs.get(params.id!);
    sendJson(res, 200, {
      ID: e.ID,
      Running: e.Running,
      ExitCode: e.ExitCode,
      ProcessConfig: { tty: e.Config.Tty, entrypoint: e.Config.Cmd[0], arguments: e.Config.Cmd.slice(1), privileged: e.Config.Privileged, user: e.Config.User },
      OpenStdin: e.Config.AttachStdin,
      OpenStderr: e.Config.AttachStderr,
      OpenStdout: e.Config.AttachStdout,
      CanRemove: false,
      ContainerID: e.ContainerID,
      DetachKeys: e.Config.DetachKeys ?? '',
      Pid: e.Pid,
    });
  });

  r.add('POST', '/exec/{id}/resize', async ({ res, params, query }) => {
    await execs.resize(params.id!, intParam(query, 'w') ?? 80, intParam(query, 'h') ?? 24);
    sendNoContent(res, 200);
  });
}

/** POST /exec/{id}/start: detached (returns at once) or attached over a hijacked connection. */
export async function startExec(execs: ExecService, ctx: RequestContext, upgrade?: { socket: Duplex; head: Buffer }): Promise<void> {
  const body = ((await readJson(ctx.req)) ?? {}) as { Detach?: boolean; Tty?: boolean; ConsoleSize?: [number, number] | null };
  const e = execs.get(ctx.params.id!);
  if (body.Detach) {
    await execs.start(e.ID, {});
    if (upgrade) {
      upgrade.socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    } else sendNoContent(ctx.res, 200);
    return;
  }
  // Hijack first, start second, as dockerd does: output of a quick command
  // must not arrive in the same read as the 101 headers, or clients that parse
  // headers through a buffered reader (docker-py) lose it.
  execs.checkStartable(e.ID);
  // The start's Tty chooses the framing (raw or multiplexed); the process's terminal was chosen at create.
  const tty = body.Tty ?? e.Config.Tty;
  const conn = upgrade ? hijackUpgrade(upgrade.socket, upgrade.head, !tty) : hijackPlain(ctx.req as IncomingMessage, ctx.res, !tty);
  conn.input?.pause(); // hold the client's stdin until the process has a stdin to take it
  let started;
  try {
    started = await execs.start(e.ID, { consoleSize: body.ConsoleSize });
  } catch (err) {
    // Past the headers the only way to report is in the stream, as dockerd does.
    const text = Buffer.from(`${messageOf(err)}\r\n`);
    conn.write(tty ? text : frame(STDERR, text));
    conn.end();
    return;
  }
  const s = started.session!;
  pipeIo({ stdout: s.stdout, stderr: s.stderr, stdin: s.stdin }, conn, {
    multiplexed: !tty,
    stdin: e.Config.AttachStdin,
    stdout: e.Config.AttachStdout,
    stderr: e.Config.AttachStderr,
    detachKeys: parseDetachKeys(e.Config.DetachKeys),
    beforeEnd: started.done,
  });
  conn.input?.resume();
}
