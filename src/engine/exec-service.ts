// docker exec: an exec instance is created, then started (attached or
// detached); its exit code is kept for inspection.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { conflict, invalid, notFound } from '../errdefs.js';
import type { ExecSession } from '../runtime/runtime.js';
import { resolveUser } from '../runtime/spec/user.js';
import type { Engine } from './engine.js';

export interface ExecConfig {
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  Tty: boolean;
  Env: string[];
  Cmd: string[];
  User: string;
  WorkingDir: string;
  Privileged: boolean;
  DetachKeys?: string;
  /** [height, width] of the client's terminal. */
  ConsoleSize?: [number, number] | null;
}

export interface ExecInstance {
  ID: string;
  ContainerID: string;
  Config: ExecConfig;
  Running: boolean;
  ExitCode: number | null;
  Pid: number;
  OpenStdin: boolean;
  session?: ExecSession;
  started: boolean;
  /** Settles once ExitCode is recorded: attached clients read it right after their stream ends. */
  done?: Promise<void>;
}

export class ExecService {
  private readonly execs = new Map<string, ExecInstance>();

  constructor(private readonly engine: Engine) {}

  create(containerRef: string, body: Partial<ExecConfig>): { Id: string } {
    const c = this.engine.containers.get(containerRef);
    if (!c.State.Running) throw conflict(`container ${c.Id} is not running`);
    if (c.State.Paused) throw conflict(`Container ${c.Id} is paused, unpause the container before exec`);
    const cmd = body.Cmd;
    if (!Array.isArray(cmd) || cmd.length === 0 || !cmd.every((x) => typeof x === 'string')) throw invalid('No exec command specified');
    const id = randomBytes(32).toString('hex');
    const config: ExecConfig = {
      AttachStdin: Boolean(body.AttachStdin),
      AttachStdout: body.AttachStdout ?? true,
      AttachStderr: body.AttachStderr ?? true,
      Tty: Boolean(body.Tty),
      Env: body.Env ?? [],
      Cmd: cmd,
      User: body.User ?? '',
      WorkingDir: body.WorkingDir ?? '',
      Privileged: Boolean(body.Privileged),
      ConsoleSize: body.ConsoleSize ?? null,
      DetachKeys: body.DetachKeys ?? '',
    };
    if (config.WorkingDir && !config.WorkingDir.startsWith('/')) throw invalid(`the working directory '${config.WorkingDir}' is invalid, it needs to be an absolute path`);
    this.execs.set(id, { ID: id, ContainerID: c.Id, Config: config, Running: false, ExitCode: null, Pid: 0, OpenStdin: config.AttachStdin, started: false });
    this.engine.emitContainer(c, `exec_create: ${cmd.join(' ')}`, { execID: id });
    return { Id: id };
  }

  get(id: string): ExecInstance {
    const e = this.execs.get(id);
    if (!e) throw notFound(`No such exec instance: ${id}`);
    return e;
  }

  /** Throws the error start() would, without starting: callers check before they hijack the connection. */
  checkStartable(id: string): void {
    const e = this.get(id);
    if (e.started) throw conflict(`Error: Exec command ${id} has already run`);
    const c = this.engine.containers.get(e.ContainerID);
    if (!c.State.Running) throw conflict(`container ${c.Id} is not running`);
  }

  /**
   * Runs the exec. Whether its process gets a terminal is the create's Tty
   * alone, as in dockerd; the start's Tty only chooses how the API frames the
   * stream (routes-exec.ts), so docker-py's exec_start(tty=False) of a tty exec
   * gets the terminal's output in stdout frames.
   */
  async start(id: string, opts: { consoleSize?: [number, number] | null }): Promise<ExecInstance> {
    this.checkStartable(id);
    const e = this.get(id);
    const c = this.engine.containers.get(e.ContainerID);
    e.started = true;
    // The exec inherits the container's process settings (caps, seccomp, env), as Docker's does.
    const spec = JSON.parse(await readFile(join(this.engine.containerDir(c.Id), 'bundle', 'config.json'), 'utf8'));
    const rootfs = String(spec.root?.path ?? '');
    const user = await resolveUser(rootfs, e.Config.User || c.Config.User);
    const env = mergeEnv(spec.process?.env ?? [], e.Config.Env);
    const tty = e.Config.Tty;
    const session = await this.engine.runtime.exec(
      c.Id,
      {
        args: e.Config.Cmd,
        env,
        cwd: e.Config.WorkingDir || spec.process?.cwd || '/',
        user,
        capabilities: e.Config.Privileged ? undefined : spec.process?.capabilities,
        noNewPrivileges: spec.process?.noNewPrivileges,
        terminal: tty,
        consoleSize: toConsoleSize(opts.consoleSize ?? e.Config.ConsoleSize),
      },
      { tty, stdin: e.Config.AttachStdin },
    );
    e.session = session;
    e.Running = true;
    e.Pid = session.pid;
    this.engine.emitContainer(c, `exec_start: ${e.Config.Cmd.join(' ')}`, { execID: id });
    e.done = session
      .wait()
      .then((code) => {
        e.ExitCode = code;
        e.Running = false;
        this.engine.emitContainer(c, 'exec_die', { execID: id, exitCode: String(code) });
        // Forget finished execs after a while so a long-lived daemon does not grow.
        setTimeout(() => this.execs.delete(id), 5 * 60_000).unref();
      })
      .catch(() => {
        e.Running = false;
        e.ExitCode = 126;
      });
    return e;
  }

  async resize(id: string, cols: number, rows: number): Promise<void> {
    const e = this.get(id);
    if (!e.session) throw conflict(`Exec ${id} is not running`);
    await e.session.resize(cols, rows);
  }

  /** Forgets a finished exec at once (healthcheck probes: nobody inspects them later). */
  release(id: string): void {
    if (!this.execs.get(id)?.Running) this.execs.delete(id);
  }

  forContainer(containerId: string): string[] {
    return [...this.execs.values()].filter((e) => e.ContainerID === containerId).map((e) => e.ID);
  }
}

/** extra over base; an extra entry without '=' unsets its variable, as dockerd's exec does. */
function mergeEnv(base: string[], extra: string[]): string[] {
  const m = new Map<string, string>();
  for (const e of [...base, ...extra]) {
    const i = e.indexOf('=');
    if (i === -1) m.delete(e);
    else m.set(e.slice(0, i), e);
  }
  return [...m.values()];
}

/** Docker's [height, width] to the OCI runtime's consoleSize; none for missing or zero sizes. */
function toConsoleSize(size: [number, number] | null | undefined): { height: number; width: number } | undefined {
  if (!Array.isArray(size) || !(size[0] > 0) || !(size[1] > 0)) return undefined;
  return { height: size[0], width: size[1] };
}
