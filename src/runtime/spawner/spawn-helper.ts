// A small helper process that spawns tools (runc, mount, CNI plugins, ip,
// iptables...) for the engine. Node spawns with fork(): the kernel copies the
// caller's page tables and the child unmaps them again at exec, so the cost
// grows with the caller's memory, and the event loop waits meanwhile. Measured
// here: 0.95 ms per spawn from a 50 MB process, 18 ms from a 420 MB one; a
// daemon or `tug server` under a pod burst is well past 100 MB and spawns
// ~10 processes per pod. The helper stays small, so its forks stay cheap.
//
// If the helper is gone (killed, crashed), requests in flight fail and the
// next one starts a new helper; TUG_SPAWN_HELPER=0 keeps spawning in-process.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { spawnHere, useToolSpawner, type SpawnToolOptions, type ToolExit, type ToolSpawner } from '../../util/exec-file.js';
import { launchConmonHere, useConmonLauncher, type ConmonArgs, type ConmonLaunch, type ConmonLauncher } from '../conmon/spawn-conmon.js';
import type { ConmonReply, HelperReply, HelperRequest, SpawnReply } from './spawn-protocol.js';

const mainPath = fileURLToPath(new URL('./spawn-helper-main.js', import.meta.url));

interface Waiting {
  /** The helper the request went to: only its exit fails the request. */
  child: ChildProcess;
  resolve: (r: HelperReply) => void;
  reject: (err: Error) => void;
}

export class SpawnHelper {
  private child?: ChildProcess;
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();

  /** A ToolSpawner that runs through the helper. */
  readonly spawn: ToolSpawner = (cmd, args, opts) => this.tool(cmd, args, opts);

  /** A ConmonLauncher that runs through the helper. */
  readonly conmon: ConmonLauncher = (args, cwd) => this.launchConmon(args, cwd);

  private ensureChild(): ChildProcess {
    if (this.child && this.child.connected) return this.child;
    const child = fork(mainPath, [], {
      // Its own memory stays small: it only relays.
      execArgv: ['--max-old-space-size=64'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    child.on('message', (r: HelperReply) => this.settle(r));
    child.on('exit', () => {
      if (this.child === child) this.child = undefined;
      for (const [id, w] of [...this.waiting]) {
        if (w.child === child) this.fail(id, new Error('spawn helper exited'));
      }
    });
    child.on('error', () => undefined); // 'exit' follows and fails what waits
    // Idle, it must not keep the daemon alive.
    child.unref();
    child.channel?.unref();
    this.child = child;
    return child;
  }

  private async tool(cmd: string, args: string[], opts: SpawnToolOptions): Promise<ToolExit> {
    const r = (await this.request((id) => ({ id, cmd, args, env: opts.env, cwd: opts.cwd, input: opts.input, timeoutMs: opts.timeoutMs }))) as SpawnReply;
    if (r.error) throw Object.assign(new Error(r.error.message), { code: r.error.code });
    return { stdout: r.stdout, stderr: r.stderr, code: r.code, signal: r.signal };
  }

  private async launchConmon(args: ConmonArgs, cwd: string): Promise<ConmonLaunch> {
    const r = (await this.request((id) => ({ id, kind: 'conmon', args, cwd }))) as ConmonReply;
    if (!r.launch) throw new Error(`launching conmon: ${r.error?.message ?? 'no reply'}`);
    return r.launch;
  }

  private request(make: (id: number) => HelperRequest): Promise<HelperReply> {
    const child = this.ensureChild();
    const id = this.nextId++;
    const req = make(id);
    return new Promise<HelperReply>((resolve, reject) => {
      // A reply (or the helper's exit, if it dies) is due: stay alive for it.
      child.ref();
      child.channel?.ref();
      this.waiting.set(id, { child, resolve, reject });
      child.send(req, (err) => {
        if (err) this.fail(id, err);
      });
    });
  }

  private settle(r: HelperReply): void {
    const w = this.waiting.get(r.id);
    if (!w) return;
    this.waiting.delete(r.id);
    this.unrefIdle(w.child);
    w.resolve(r);
  }

  private fail(id: number, err: Error): void {
    const w = this.waiting.get(id);
    if (!w) return;
    this.waiting.delete(id);
    this.unrefIdle(w.child);
    w.reject(err);
  }

  /** A helper with no request of ours in flight must not keep this process alive. */
  private unrefIdle(child: ChildProcess): void {
    for (const w of this.waiting.values()) if (w.child === child) return;
    child.unref();
    child.channel?.unref();
  }

  /** Stops the helper (tests); the next request starts another. */
  stop(): void {
    this.child?.disconnect();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }
}

let installed: SpawnHelper | undefined;

/**
 * Routes this process's tool spawns and containers' conmons through one helper (idempotent). Called
 * by the engine when it opens, while the process is still small.
 */
export function installSpawnHelper(): SpawnHelper | undefined {
  if (process.env.TUG_SPAWN_HELPER === '0') return undefined;
  if (!installed) {
    installed = new SpawnHelper();
    useToolSpawner(installed.spawn);
    useConmonLauncher(installed.conmon);
  }
  return installed;
}

/** Back to spawning in this process (tests). */
export function uninstallSpawnHelper(): void {
  installed?.stop();
  installed = undefined;
  useToolSpawner(spawnHere);
  useConmonLauncher(launchConmonHere);
}
