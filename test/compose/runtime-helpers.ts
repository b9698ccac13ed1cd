// Shared by the compose runtime tests: a real tug test daemon, project
// directories with the given files, and bin/tug compose run in them as a user
// runs it (cwd = the project, TUG_HOST = the daemon). Projects are named
// after a random suffix so test files never share engine objects.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startTestDaemon, tugBin, type TestDaemon } from '../helpers/tug-daemon.js';

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ComposeEnv {
  daemon: TestDaemon;
  /** A new project directory named `<prefix>-<random>` holding `files`. */
  project(prefix: string, files: Record<string, string>): Promise<string>;
  /** bin/tug with the daemon's host, in `cwd`. */
  tug(cwd: string, args: string[], input?: string): Promise<Result>;
  /** bin/tug compose … in the project dir. */
  compose(dir: string, args: string[], input?: string): Promise<Result>;
  /** `tug inspect -f FORMAT NAME`, trimmed. */
  inspect(name: string, format: string): Promise<string>;
  cleanup(): Promise<void>;
}

export function rand(): string {
  return randomBytes(3).toString('hex');
}

export async function setupCompose(): Promise<ComposeEnv> {
  const daemon = await startTestDaemon();
  const root = await mkdtemp(join(tmpdir(), 'tug-compose-run-'));
  const projects: string[] = [];
  const env = { ...daemon.env };
  const tug = (cwd: string, args: string[], input?: string): Promise<Result> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [tugBin, ...args], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c: Buffer) => err.push(c));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
      child.stdin.end(input);
    });
  const e: ComposeEnv = {
    daemon,
    async project(prefix, files) {
      const dir = join(root, `${prefix}-${rand()}`);
      for (const [name, text] of Object.entries(files)) {
        await mkdir(dirname(join(dir, name)), { recursive: true });
        await writeFile(join(dir, name), text);
      }
      await mkdir(dir, { recursive: true });
      projects.push(dir);
      return dir;
    },
    tug,
    compose: (dir, args, input) => tug(dir, ['compose', ...args], input),
    async inspect(name, format) {
      const r = await tug(root, ['inspect', '-f', format, name]);
      if (r.code !== 0) throw new Error(`inspect ${name}: ${r.stderr}`);
      return r.stdout.trim();
    },
    async cleanup() {
      for (const dir of projects) await tug(dir, ['compose', 'down', '-v', '-t', '0', '--remove-orphans']).catch(() => undefined);
      await daemon.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
  return e;
}

/** The project name compose gives a directory (its base name). */
export function projectName(dir: string): string {
  return dir.split('/').pop()!;
}

/** A busybox service command that runs until stopped and exits 0 on SIGTERM (fast stop). */
export const LOOP = `trap 'exit 0' TERM; while true; do sleep 0.2; done`;
