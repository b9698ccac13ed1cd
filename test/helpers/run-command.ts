// Runs a client command (docker, python3, script...) for a test: stdout and
// stderr kept apart, the exit code returned rather than thrown.
import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed (unless keepStdinOpen). */
  input?: string;
  /** Keep stdin open until the command exits (script(1) types a NUL at EOF). */
  keepStdinOpen?: boolean;
  /** Kill after this long: a hang guard, not a timing check. */
  guardMs?: number;
}

export function runCommand(cmd: string, args: readonly string[], opts: CommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    p.stdin.on('error', () => undefined);
    const guard = setTimeout(() => p.kill('SIGKILL'), opts.guardMs ?? 90_000);
    p.on('error', (err) => {
      clearTimeout(guard);
      reject(err);
    });
    p.on('close', (code) => {
      clearTimeout(guard);
      p.stdin.destroy();
      resolve({ code: code ?? -1, stdout, stderr });
    });
    if (!opts.keepStdinOpen) p.stdin.end(opts.input ?? '');
    else if (opts.input) p.stdin.write(opts.input);
  });
}
