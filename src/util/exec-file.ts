// Run an external tool (runc, iptables, tar, ip...) and collect its output.
// A non-zero exit becomes an Error that carries the tool's own stderr, so the
// user sees why it failed rather than "exit status 1".
import { spawn } from 'node:child_process';

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface RunOptions {
  input?: string | Uint8Array;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Resolve instead of reject on a non-zero exit. */
  allowFailure?: boolean;
  timeoutMs?: number;
}

/** One finished process, as spawned: raw output and how it ended. */
export interface ToolExit {
  stdout: Uint8Array;
  stderr: Uint8Array;
  code: number | null;
  signal: string | null;
}

export interface SpawnToolOptions {
  input?: string | Uint8Array;
  env: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

/** Runs a process to its end; rejects only when it could not be spawned at all. */
export type ToolSpawner = (cmd: string, args: string[], opts: SpawnToolOptions) => Promise<ToolExit>;

/** In this process: child_process.spawn. */
export const spawnHere: ToolSpawner = (cmd, args, opts) =>
  new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'], timeout: opts.timeoutMs });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err), code, signal }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input);
  });

let spawner: ToolSpawner = spawnHere;

/**
 * Where tools are spawned from now on (undefined: this process again). A
 * daemon hands this to a small helper process: fork() copies the caller's
 * page tables, so from a big process every spawn costs milliseconds of CPU
 * with the event loop blocked (see runtime/spawner/spawn-helper.ts).
 */
export function useToolSpawner(s: ToolSpawner | undefined): void {
  spawner = s ?? spawnHere;
}

/** Runs a tool to its end without judging the exit (for callers that read their own errors). */
export function spawnTool(cmd: string, args: readonly string[], opts: Partial<SpawnToolOptions> = {}): Promise<ToolExit> {
  return spawner(cmd, [...args], { env: opts.env ?? process.env, cwd: opts.cwd, input: opts.input, timeoutMs: opts.timeoutMs });
}

export async function runTool(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await spawnTool(cmd, args, opts);
  const res: RunResult = {
    stdout: Buffer.from(r.stdout).toString('utf8'),
    stderr: Buffer.from(r.stderr).toString('utf8'),
    code: r.code ?? (r.signal ? 128 : 1),
  };
  if (res.code !== 0 && !opts.allowFailure) {
    const why = res.stderr.trim() || res.stdout.trim() || `exit ${res.code}`;
    throw new Error(`${cmd} ${args.slice(0, 3).join(' ')}: ${why}`);
  }
  return res;
}
