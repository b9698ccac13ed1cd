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

export function runTool(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const res: RunResult = {
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        code: code ?? (signal ? 128 : 1),
      };
      if (res.code !== 0 && !opts.allowFailure) {
        const why = res.stderr.trim() || res.stdout.trim() || `exit ${res.code}`;
        reject(new Error(`${cmd} ${args.slice(0, 3).join(' ')}: ${why}`));
      } else {
        resolve(res);
      }
    });
    child.stdin.on('error', () => undefined);
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}
