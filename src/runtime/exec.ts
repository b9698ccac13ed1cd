// `docker exec` through conmon's exec mode (-e --exec-attach), as podman does.
// Why conmon and not a plain `runc exec` child: for a tty exec runc hands the
// pty master over a unix socket with SCM_RIGHTS, which Node cannot receive;
// conmon can, and it relays the pty over the same attach socket as for
// containers. Using the same path for non-tty execs keeps one code path and
// keeps stdout and stderr apart.
//
// Handshake (conmon src/conmon.c): conmon first blocks on the start pipe; once
// its attach socket exists it writes {"data":0} to the attach pipe; we connect,
// then write the start pipe again and conmon runs `runc exec --detach`. The
// sync pipe then carries {"data": pid} (or {"data": <=0, "message": runc's
// error}), and later {"data": exitCode}.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawnConmon } from './conmon/spawn-conmon.js';
import { connectAttach, type AttachedStreams } from './conmon/attach-socket.js';
import { resizeViaCtl } from './conmon/ctl-fifo.js';
import { runcMessage, startFailureExitCode } from './runc-error.js';
import { readExitFile } from './exit-file.js';
import { internal } from '../errdefs.js';

export interface ExecProcess {
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids?: number[] };
  capabilities?: object;
  noNewPrivileges?: boolean;
  terminal: boolean;
  /** Initial pty size (the client's terminal), so a quick `stty size` is right before any resize call. */
  consoleSize?: { height: number; width: number };
}

export interface ExecSession {
  pid: number;
  stdout: NodeJS.ReadableStream;
  stderr: NodeJS.ReadableStream | null;
  stdin: NodeJS.WritableStream | null;
  resize(cols: number, rows: number): Promise<void>;
  wait(): Promise<number>;
}

export interface ExecContext {
  conmonPath: string;
  runcPath: string;
  runcRoot: string;
  containerId: string;
  execRoot: string; // <containerDir>/x
  /** The container's own process spec: execs inherit its capabilities, rlimits, apparmor... */
  baseProcess: Record<string, unknown>;
}

export async function startExec(ctx: ExecContext, p: ExecProcess, io: { tty: boolean; stdin: boolean }): Promise<ExecSession> {
  const execId = randomBytes(8).toString('hex');
  const dir = join(ctx.execRoot, execId);
  const exitDir = join(dir, 'exits');
  await mkdir(exitDir, { recursive: true });
  const spec: Record<string, unknown> = {
    ...ctx.baseProcess,
    terminal: io.tty,
    args: p.args,
    env: p.env,
    cwd: p.cwd || '/',
    user: p.user,
  };
  if (p.capabilities) spec.capabilities = p.capabilities;
  if (p.noNewPrivileges !== undefined) spec.noNewPrivileges = p.noNewPrivileges;
  if (io.tty && p.consoleSize) spec.consoleSize = p.consoleSize;
  else delete spec.consoleSize;
  const specPath = join(dir, 'process.json');
  await writeFile(specPath, JSON.stringify(spec), { mode: 0o600 }); // the exec's environment

  const h = spawnConmon(
    {
      conmonPath: ctx.conmonPath,
      runcPath: ctx.runcPath,
      runcRoot: ctx.runcRoot,
      cid: ctx.containerId,
      cuuid: execId,
      bundleDir: dir,
      containerPidFile: join(dir, 'pid'),
      conmonPidFile: join(dir, 'conmon.pid'),
      exitDir,
      tty: io.tty,
      stdin: io.stdin,
      leaveStdinOpen: false,
      exec: { processSpec: specPath },
    },
    dir,
  );
  const cleanup = (): Promise<void> => rm(dir, { recursive: true, force: true }).catch(() => undefined);
  let streams: AttachedStreams;
  try {
    h.start!.write('0'); // "you are in your cgroup": we leave conmon in ours
    const launched = await h.launched;
    if (launched.code !== 0) throw internal(`conmon failed to start exec: ${launched.output.trim() || `exit ${launched.code}`}`);
    await h.attachReady!.next();
    streams = await connectAttach(dir, { tty: io.tty, stdin: io.stdin });
    h.start!.write('1'); // "client attached": conmon runs runc exec now
  } catch (err) {
    h.closeAll();
    await cleanup();
    throw err;
  }

  const first = await h.sync.next().catch((err: Error) => ({ data: -1, message: err.message }));
  if (first.data <= 0) {
    // runc could not start the process: report it the way Docker does, on the
    // error stream, with 127 (not found) or 126 (not executable).
    streams.close();
    h.closeAll();
    await cleanup();
    const message = runcMessage(first.message ?? '') || 'exec failed';
    const out = new PassThrough();
    const errOut = io.tty ? null : new PassThrough();
    (errOut ?? out).end(`${message}\n`);
    if (errOut) out.end();
    const code = startFailureExitCode(message);
    return {
      pid: 0,
      stdout: out,
      stderr: errOut,
      stdin: null,
      resize: async () => undefined,
      wait: async () => code,
    };
  }

  const pid = first.data;
  // The exit code arrives on the sync pipe after conmon drained the output;
  // wait() also waits for the socket to close so no output is lost.
  const exitCode = h.sync
    .next()
    .then((m) => m.data)
    // conmon also leaves the status in the session's exit dir
    .catch(async () => (await readExitFile(join(exitDir, ctx.containerId)))?.exitCode ?? 255);
  const waited = Promise.all([exitCode, streams.ended]).then(async ([code]) => {
    h.closeAll();
    await cleanup();
    return code;
  });
  return {
    pid,
    stdout: streams.stdout,
    stderr: streams.stderr,
    stdin: streams.stdin,
    resize: (cols, rows) => resizeViaCtl(dir, cols, rows),
    wait: () => waited,
  };
}
