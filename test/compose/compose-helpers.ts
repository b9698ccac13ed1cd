// Shared by the compose tests: run Debian's docker-compose 1.29.2 (or bin/tug
// compose) in a project directory against a test daemon, pick a free host port,
// and fetch over loopback until a published service answers.
import { createServer, request } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { runCommand, type CommandResult } from '../helpers/run-command.js';
import { tugBin, type TestDaemon } from '../helpers/tug-daemon.js';

export const dockerCompose = '/usr/bin/docker-compose';

export type ComposeRunner = (args: string[], opts?: { guardMs?: number }) => Promise<CommandResult>;
/** Makes a runner for one project directory and name, with extra environment (published ports). */
export type ComposeRunnerFactory = (d: TestDaemon, dir: string, project: string, env?: NodeJS.ProcessEnv) => ComposeRunner;

/** docker-compose with DOCKER_HOST pointed at the daemon, in `dir`, as project `project`. */
export function dockerComposeIn(d: TestDaemon, dir: string, project: string, env: NodeJS.ProcessEnv = {}): ComposeRunner {
  return (args, opts) =>
    runCommand(dockerCompose, ['--ansi', 'never', '--project-directory', dir, '-f', join(dir, 'compose.yaml'), '-p', project, ...args], {
      env: { ...d.env, COMPOSE_INTERACTIVE_NO_CLI: '1', ...env },
      guardMs: opts?.guardMs ?? 300_000,
    });
}

/** bin/tug compose against the same daemon, with the same project flags. */
export function tugComposeIn(d: TestDaemon, dir: string, project: string, env: NodeJS.ProcessEnv = {}): ComposeRunner {
  return (args, opts) =>
    runCommand(process.execPath, [tugBin, 'compose', '--project-directory', dir, '-f', join(dir, 'compose.yaml'), '-p', project, ...args], {
      env: { ...d.env, ...env },
      guardMs: opts?.guardMs ?? 300_000,
    });
}

/** Writes files (path -> content) under dir. */
export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [p, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, p)), { recursive: true });
    await writeFile(join(dir, p), content);
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface HttpReply {
  status: number;
  body: string;
}

export function http(port: number, path = '/', method = 'GET', body?: string): Promise<HttpReply | null> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let data = '';
      res.on('data', (c: Buffer) => (data += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
      res.on('error', () => resolve(null));
    });
    req.on('error', () => resolve(null));
    req.setTimeout(10_000, () => req.destroy());
    req.end(body);
  });
}

/** Polls until `check` passes on a reply (a service starting up refuses or answers 5xx meanwhile). */
export async function httpUntil(port: number, check: (r: HttpReply) => boolean, path = '/', guardMs = 120_000): Promise<HttpReply> {
  const until = Date.now() + guardMs;
  let last: HttpReply | null = null;
  for (;;) {
    last = await http(port, path);
    if (last && check(last)) return last;
    if (Date.now() > until) throw new Error(`127.0.0.1:${port}${path} never answered as expected; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
