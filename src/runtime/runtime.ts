// The container runtime: each container's life through conmon + runc.
//
// Every container gets a conmon monitor that is not the daemon, so a `kill -9`
// of the daemon leaves containers running; a new Runtime over the same
// stateDir finds them through runc's state, re-attaches through conmon's
// attach socket, and reads their real exit code from conmon's exit file.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve, join } from 'node:path';
import { writeJsonAtomic } from '../util/atomic-file.js';
import { alreadyExists, conflict, internal, invalid, isKind, notFound, unavailable } from '../errdefs.js';
import { RuntimeLayout, checkId } from './layout.js';
import { Runc } from './runc.js';
import { parseSignal } from './signals.js';
import { launchConmon } from './conmon/spawn-conmon.js';
import { connectAttach } from './conmon/attach-socket.js';
import { resizeViaCtl } from './conmon/ctl-fifo.js';
import { exists, readExitFile, waitForExitFile } from './exit-file.js';
import { isMonitorAlive, readPidFile, waitMonitorGone } from './monitor-pid.js';
import { startViaExecFifo } from './exec-fifo.js';
import { runcMessage, startFailure } from './runc-error.js';
import { startExec, type ExecProcess, type ExecSession } from './exec.js';
import { psForPids, type TopResult } from './top.js';
import { attachViaLog } from './log-attach.js';

export type { ExecProcess, ExecSession } from './exec.js';

export interface RuntimeOptions {
  stateDir: string;
  runcPath?: string;
  conmonPath?: string;
}
export interface CreateOptions {
  bundleDir: string;
  tty: boolean;
  openStdin: boolean;
  stdinOnce?: boolean;
  logPath: string;
}
export interface ExitInfo {
  exitCode: number;
  oomKilled: boolean;
  finishedAt: string;
}
export type RuntimeStatus = 'created' | 'running' | 'paused' | 'stopped' | 'absent';
export interface AttachStreams {
  stdout: NodeJS.ReadableStream;
  stderr: NodeJS.ReadableStream | null;
  stdin: NodeJS.WritableStream | null;
  close(): void;
}

/** What we remember per container, so a restarted daemon attaches the right way. */
interface ContainerMeta {
  id: string;
  tty: boolean;
  openStdin: boolean;
  stdinOnce: boolean;
  logPath: string;
  bundleDir: string;
}

// How long delete waits for the monitor to write the exit file and leave.
const MONITOR_EXIT_TIMEOUT_MS = 10_000;

function trace(id: string, what: string): void {
  if (process.env.TUG_TRACE) process.stderr.write(`trace ${id.slice(0, 12)} runtime: ${what}\n`);
}

export class Runtime {
  readonly layout: RuntimeLayout;
  private readonly runc: Runc;
  private readonly runcPath: string;
  private readonly conmonPath: string;

  constructor(opts: RuntimeOptions) {
    this.layout = new RuntimeLayout(resolve(opts.stateDir));
    this.runcPath = opts.runcPath ?? '/usr/bin/runc';
    this.conmonPath = opts.conmonPath ?? '/usr/bin/conmon';
    this.runc = new Runc(this.runcPath, this.layout.runcRoot);
  }

  async create(id: string, opts: CreateOptions): Promise<{ pid: number }> {
    checkId(id);
    if (!opts.logPath) throw invalid('logPath is required');
    // runc keeps one state dir per container under its root; checking for it
    // saves spawning `runc state` on the hot path.
    if (await exists(join(this.layout.runcRoot, id))) throw alreadyExists(`container ${id} already exists in the runtime`);
    const cdir = this.layout.containerDir(id);
    await rm(cdir, { recursive: true, force: true });
    await rm(this.layout.exitFile(id), { force: true });
    await Promise.all([
      mkdir(cdir, { recursive: true }),
      mkdir(this.layout.exitDir, { recursive: true }),
      mkdir(this.layout.runcRoot, { recursive: true }),
      mkdir(dirname(resolve(opts.logPath)), { recursive: true }),
    ]);
    try {
      await this.writeBundle(id, opts);
    } catch (err) {
      await rm(cdir, { recursive: true, force: true });
      throw err;
    }

    const tw = performance.now();
    try {
      const { launched, created } = await launchConmon(
        {
          conmonPath: this.conmonPath,
          runcPath: this.runcPath,
          runcRoot: this.layout.runcRoot,
          cid: id,
          cuuid: id,
          bundleDir: cdir,
          containerPidFile: this.layout.containerPidFile(id),
          conmonPidFile: this.layout.conmonPidFile(id),
          exitDir: this.layout.exitDir,
          persistDir: cdir,
          logPath: resolve(opts.logPath),
          tty: opts.tty,
          stdin: opts.openStdin,
          // Docker's StdinOnce: the first attached client's EOF closes stdin for good.
          leaveStdinOpen: opts.openStdin && !(opts.stdinOnce ?? false),
        },
        cdir,
      );
      trace(id, `conmon launched, runc created +${(performance.now() - tw).toFixed(1)}ms`);
      if (launched.code !== 0) throw internal(`conmon failed to start: ${launched.output.trim() || `exit ${launched.code}`}`);
      const msg = created ?? { data: -1, message: '' };
      if (msg.data <= 0) throw startFailure(runcMessage(msg.message ?? '') || 'runc create failed');
      return { pid: msg.data };
    } catch (err) {
      await this.removeEverything(id, true).catch(() => undefined);
      throw err;
    }
  }

  /**
   * conmon's bundle is our own per-container dir, so its fifos and attach
   * socket live under stateDir; config.json is copied there with the rootfs
   * made absolute against the caller's bundle.
   */
  private async writeBundle(id: string, opts: CreateOptions): Promise<void> {
    let spec: { root?: { path?: string }; process?: { terminal?: boolean } };
    try {
      spec = JSON.parse(await readFile(join(opts.bundleDir, 'config.json'), 'utf8'));
    } catch (err) {
      throw invalid(`bundle ${opts.bundleDir}: cannot read config.json: ${(err as Error).message}`);
    }
    if (!spec.root?.path) throw invalid(`bundle ${opts.bundleDir}: config.json has no root.path`);
    if (!spec.process) throw invalid(`bundle ${opts.bundleDir}: config.json has no process`);
    spec.root.path = resolve(opts.bundleDir, spec.root.path);
    spec.process.terminal = opts.tty; // conmon -t and the spec must agree
    const cdir = this.layout.containerDir(id);
    // 0600: the spec carries the container's environment.
    await writeFile(join(cdir, 'config.json'), JSON.stringify(spec), { mode: 0o600 });
    const meta: ContainerMeta = {
      id,
      tty: opts.tty,
      openStdin: opts.openStdin,
      stdinOnce: opts.stdinOnce ?? false,
      logPath: resolve(opts.logPath),
      bundleDir: resolve(opts.bundleDir),
    };
    // Runtime state, gone with the container at a reboot: no fsync.
    await writeJsonAtomic(this.layout.metaFile(id), meta, 0o600, { durable: false });
  }

  private async meta(id: string): Promise<ContainerMeta> {
    checkId(id);
    try {
      return JSON.parse(await readFile(this.layout.metaFile(id), 'utf8')) as ContainerMeta;
    } catch {
      throw notFound(`no such container in the runtime: ${id}`);
    }
  }

  async start(id: string): Promise<void> {
    checkId(id);
    const pid = await readPidFile(this.layout.containerPidFile(id));
    if (pid && (await startViaExecFifo(join(this.layout.runcRoot, id, 'exec.fifo'), pid))) return;
    await this.runc.run(['start', id]);
  }

  async attach(id: string, opts: { stdin: boolean }): Promise<AttachStreams> {
    const meta = await this.meta(id);
    if (meta.openStdin && meta.stdinOnce && !opts.stdin) {
      const ac = new AbortController();
      const exited = waitForExitFile(this.layout.exitFile(id), () => this.monitorGone(id), undefined, ac.signal).catch(() => null);
      const l = attachViaLog(meta.logPath, meta.tty, exited);
      const close = (): void => {
        ac.abort();
        l.close();
      };
      return { stdout: l.stdout, stderr: l.stderr, stdin: null, close };
    }
    const s = await connectAttach(this.layout.containerDir(id), { tty: meta.tty, stdin: opts.stdin && meta.openStdin });
    return { stdout: s.stdout, stderr: s.stderr, stdin: s.stdin, close: () => s.close() };
  }

  async resize(id: string, cols: number, rows: number): Promise<void> {
    const meta = await this.meta(id);
    if (!meta.tty) throw conflict(`container ${id} has no terminal to resize`);
    await resizeViaCtl(this.layout.containerDir(id), cols, rows);
  }

  async kill(id: string, signal: string | number): Promise<void> {
    checkId(id);
    const sig = parseSignal(signal);
    await this.runc.run(['kill', id, sig]);
  }

  async pause(id: string): Promise<void> {
    checkId(id);
    await this.runc.run(['pause', id]);
  }

  async resume(id: string): Promise<void> {
    checkId(id);
    await this.runc.run(['resume', id]);
  }

  async state(id: string): Promise<{ status: RuntimeStatus; pid: number }> {
    checkId(id);
    const st = await this.runc.state(id);
    if (!st) return { status: 'absent', pid: 0 };
    const status = toStatus(st.status);
    return { status, pid: status === 'stopped' ? 0 : st.pid };
  }

  async readExit(id: string): Promise<ExitInfo | null> {
    checkId(id);
    const rec = await readExitFile(this.layout.exitFile(id));
    if (!rec) return null;
    return { ...rec, oomKilled: await exists(this.layout.oomFile(id)) };
  }

  async waitExit(id: string): Promise<ExitInfo> {
    checkId(id);
    const known = (await exists(this.layout.containerDir(id))) || (await exists(this.layout.exitFile(id)));
    if (!known) throw notFound(`no such container in the runtime: ${id}`);
    const rec = await waitForExitFile(this.layout.exitFile(id), () => this.monitorGone(id));
    if (!rec) {
      // The monitor died without recording a status (it was killed itself):
      // the real code is lost; report the conventional "unknown" code.
      return { exitCode: 255, oomKilled: false, finishedAt: new Date().toISOString() };
    }
    return { ...rec, oomKilled: await exists(this.layout.oomFile(id)) };
  }

  /**
   * True once nothing will ever write this container's exit file: its monitor
   * is gone and the process is not running either (a monitor killed on its own
   * leaves the container running; we keep waiting for that to end).
   */
  private async monitorGone(id: string): Promise<boolean> {
    if (await isMonitorAlive(this.layout.conmonPidFile(id), id)) return false;
    const st = await this.runc.state(id).catch(() => null);
    return !st || st.status === 'stopped';
  }

  async delete(id: string, opts: { force?: boolean } = {}): Promise<void> {
    checkId(id);
    // Nothing in runc's root and no monitor dir: already deleted (the engine
    // deletes defensively before every create and again on removal), so
    // spawning runc would only cost time.
    if (!(await exists(join(this.layout.runcRoot, id))) && !(await exists(this.layout.containerDir(id)))) {
      await rm(this.layout.exitFile(id), { force: true });
      return;
    }
    if (!opts.force) {
      // Only a plain delete needs the state: force deletes whatever it is.
      const st = await this.runc.state(id);
      if (st && (st.status === 'running' || st.status === 'paused')) {
        throw conflict(`cannot delete container ${id}: it is ${st.status}; stop it first or force`);
      }
    }
    await this.removeEverything(id, !!opts.force);
  }

  private async removeEverything(id: string, force: boolean): Promise<void> {
    try {
      await this.runc.run(force ? ['delete', '--force', id] : ['delete', id]);
    } catch (err) {
      if (!isKind(err, 'not-found')) throw err;
    }
    const pidFile = this.layout.conmonPidFile(id);
    if (!(await waitMonitorGone(pidFile, id, MONITOR_EXIT_TIMEOUT_MS))) {
      // The container is gone, so the monitor has nothing left to watch.
      const pid = await readPidFile(pidFile);
      if (pid && (await isMonitorAlive(pidFile, id))) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* raced with its exit */
        }
        await waitMonitorGone(pidFile, id, MONITOR_EXIT_TIMEOUT_MS);
      }
    }
    await rm(this.layout.containerDir(id), { recursive: true, force: true });
    await rm(this.layout.exitFile(id), { force: true });
  }

  async list(): Promise<Array<{ id: string; status: RuntimeStatus; pid: number }>> {
    const all = await this.runc.list();
    return all.map((s) => {
      const status = toStatus(s.status);
      return { id: s.id, status, pid: status === 'stopped' ? 0 : s.pid };
    });
  }

  async exec(id: string, p: ExecProcess, io: { tty: boolean; stdin: boolean }): Promise<ExecSession> {
    checkId(id);
    if (!Array.isArray(p.args) || p.args.length === 0) throw invalid('exec: args must name a command');
    const st = await this.runc.state(id);
    if (!st) throw notFound(`no such container in the runtime: ${id}`);
    if (st.status !== 'running') throw conflict(`container ${id} is not running (${st.status})`);
    let base: Record<string, unknown> = {};
    try {
      const spec = JSON.parse(await readFile(join(this.layout.containerDir(id), 'config.json'), 'utf8'));
      base = (spec.process ?? {}) as Record<string, unknown>;
    } catch {
      throw unavailable(`container ${id}: its runtime config is missing`);
    }
    return startExec(
      {
        conmonPath: this.conmonPath,
        runcPath: this.runcPath,
        runcRoot: this.layout.runcRoot,
        containerId: id,
        execRoot: join(this.layout.containerDir(id), 'x'),
        baseProcess: base,
      },
      { ...p, terminal: io.tty },
      io,
    );
  }

  async update(id: string, ociResources: object): Promise<void> {
    checkId(id);
    await this.runc.run(['update', '--resources', '-', id], JSON.stringify(ociResources));
  }

  async top(id: string, psArgs?: string): Promise<TopResult> {
    checkId(id);
    const res = await this.runc.run(['ps', '--format', 'json', id]);
    const pids = (JSON.parse(res.stdout.trim() || '[]') as number[] | null) ?? [];
    return psForPids(pids, psArgs);
  }
}

function toStatus(s: string): RuntimeStatus {
  switch (s) {
    case 'running':
      return 'running';
    case 'paused':
    case 'pausing':
      return 'paused';
    case 'stopped':
      return 'stopped';
    default:
      return 'created'; // 'creating', 'created'
  }
}
