// Starts conmon, the per-container monitor that outlives the daemon. conmon
// double-forks: the process we spawn exits at once after writing the monitor's
// pid file, and the monitor keeps our end of the sync pipe (fd 3) to report
// the container pid (or runc's error) as JSON. For exec sessions it also uses
// a start pipe (fd 4) and an attach pipe (fd 5), as podman drives it.
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { PipeMessages, type ConmonMessage } from './pipe-messages.js';

export interface ConmonArgs {
  conmonPath: string;
  runcPath: string;
  runcRoot: string;
  cid: string;
  cuuid: string;
  bundleDir: string;
  containerPidFile: string;
  conmonPidFile: string;
  exitDir: string;
  persistDir?: string;
  /** k8s-file path; undefined means no log (exec sessions). */
  logPath?: string;
  tty: boolean;
  stdin: boolean;
  leaveStdinOpen: boolean;
  exec?: { processSpec: string };
}

export interface ConmonHandle {
  sync: PipeMessages;
  /** Only for exec: conmon waits on this twice (cgroup placement, then "client attached"). */
  start?: Writable;
  attachReady?: PipeMessages;
  /** Exit status of the short-lived parent conmon process plus anything it printed. */
  launched: Promise<{ code: number; output: string }>;
  closeAll(): void;
}

export function buildConmonArgv(a: ConmonArgs): string[] {
  const argv = [
    '--api-version', '1',
    '-c', a.cid,
    '-u', a.cuuid,
    '-r', a.runcPath,
    '-b', a.bundleDir,
    '-p', a.containerPidFile,
    '-P', a.conmonPidFile,
    '--exit-dir', a.exitDir,
    // The attach socket goes straight into the bundle dir; we connect to it
    // through /proc/self/fd/N/attach, so no path length limit applies.
    '--full-attach',
    '--socket-dir-path', a.bundleDir,
    '--runtime-arg', '--root',
    '--runtime-arg', a.runcRoot,
    '-l', a.logPath ? `k8s-file:${a.logPath}` : 'none',
    '--log-level', 'error',
  ];
  if (a.persistDir) argv.push('--persist-dir', a.persistDir);
  if (a.tty) argv.push('-t');
  if (a.stdin) argv.push('-i');
  if (a.leaveStdinOpen) argv.push('--leave-stdin-open');
  if (a.exec) argv.push('-e', '--exec-attach', '--exec-process-spec', a.exec.processSpec);
  return argv;
}

export function spawnConmon(a: ConmonArgs, cwd: string): ConmonHandle {
  const isExec = !!a.exec;
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', _OCI_SYNCPIPE: '3' };
  if (isExec) {
    env._OCI_STARTPIPE = '4';
    env._OCI_ATTACHPIPE = '5';
  }
  // fd 3..5 are socketpairs; conmon only read()s and write()s them, which works the same.
  const stdio: Array<'ignore' | 'pipe'> = ['ignore', 'pipe', 'pipe', 'pipe'];
  if (isExec) stdio.push('pipe', 'pipe');
  const child = spawn(a.conmonPath, buildConmonArgv(a), { cwd, env, stdio, detached: true });
  const out: string[] = [];
  const collect = (s: Readable | null): void => {
    s?.setEncoding('utf8');
    s?.on('data', (d: string) => out.push(d));
    s?.on('error', () => undefined);
  };
  collect(child.stdout);
  collect(child.stderr);
  const launched = new Promise<{ code: number; output: string }>((resolve) => {
    child.on('error', (err) => resolve({ code: -1, output: err.message }));
    child.on('exit', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), output: out.join('') }));
  });
  const pipes = child.stdio as unknown as Array<Readable & Writable>;
  const sync = new PipeMessages(pipes[3]!, 'sync pipe');
  const start = isExec ? pipes[4] : undefined;
  start?.on('error', () => undefined);
  const attachReady = isExec ? new PipeMessages(pipes[5]!, 'attach pipe') : undefined;
  return {
    sync,
    start,
    attachReady,
    launched,
    closeAll() {
      sync.close();
      start?.destroy();
      attachReady?.close();
      child.stdout?.destroy();
      child.stderr?.destroy();
      child.unref();
    },
  };
}

/** How a container's conmon launch ended: the short-lived parent's exit, then the monitor's first report. */
export interface ConmonLaunch {
  launched: { code: number; output: string };
  /** The container pid (data > 0) or runc's error; absent when the parent already failed. */
  created?: ConmonMessage;
}

/**
 * Launches conmon for a container (not an exec session) in this process and
 * waits for its report that `runc create` is done; the pipes are closed after,
 * as nothing else comes over them for a container.
 */
export async function launchConmonHere(a: ConmonArgs, cwd: string): Promise<ConmonLaunch> {
  const h = spawnConmon(a, cwd);
  try {
    const launched = await h.launched;
    if (launched.code !== 0) return { launched };
    const created = await h.sync.next().catch((err: Error) => ({ data: -1, message: err.message }));
    return { launched, created };
  } finally {
    h.closeAll();
  }
}

export type ConmonLauncher = (a: ConmonArgs, cwd: string) => Promise<ConmonLaunch>;

let launcher: ConmonLauncher = launchConmonHere;

/**
 * Where containers' conmons are launched from now on (undefined: this process
 * again). The engine hands this to its spawn helper, for the reason tools go
 * there (util/exec-file.ts useToolSpawner): a fork from the grown daemon
 * blocks its event loop, and a pod burst launches two conmons per pod.
 */
export function useConmonLauncher(l: ConmonLauncher | undefined): void {
  launcher = l ?? launchConmonHere;
}

export function launchConmon(a: ConmonArgs, cwd: string): Promise<ConmonLaunch> {
  return launcher(a, cwd);
}
