// Starts a real tug daemon for a test: its own root dir, socket, bridge name and
// subnet, so many can run side by side. stop() tears everything down.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const tugBin = join(repoRoot, 'bin', 'tug');

export interface TestDaemon {
  root: string;
  socket: string;
  /** 'unix:///…/tug.sock', for DOCKER_HOST and TUG_HOST. */
  host: string;
  bridge: string;
  subnet: string;
  /** Environment for child processes (docker CLI, docker-py, bin/tug). */
  env: NodeJS.ProcessEnv;
  pid: number;
  stop(): Promise<void>;
  /** kill -9 the daemon (crash test); restart() brings up a new one on the same root. */
  crash(): Promise<void>;
  restart(): Promise<void>;
}

/** Pings the API over the unix socket until it answers or the deadline passes. */
export async function waitForPing(socket: string, deadlineMs = 90_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const req = request({ socketPath: socket, path: '/_ping', method: 'GET' }, (r) => {
        r.resume();
        res(r.statusCode === 200);
      });
      req.on('error', () => res(false));
      req.end();
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`daemon on ${socket} did not answer /_ping`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function randomSubnet(): string {
  // 10.200-250.x.0/24: private, unlikely to collide with the host's own routes.
  const b = 200 + (randomBytes(1)[0]! % 50);
  const c = randomBytes(1)[0]!;
  return `10.${b}.${c}.0/24`;
}

export async function startTestDaemon(extraArgs: string[] = []): Promise<TestDaemon> {
  const external = process.env.TUG_TEST_EXTERNAL_HOST;
  const dir = await mkdtemp(join(tmpdir(), 'tugd-'));
  const root = join(dir, 'root');
  const socket = join(dir, 'tug.sock');
  const bridge = `tugt${randomBytes(4).toString('hex').slice(0, 7)}`;
  const subnet = randomSubnet();
  const args = ['daemon', '--root', root, '--socket', socket, '--bridge', bridge, '--subnet', subnet, '--ephemeral', '--ui-addr', '127.0.0.1:0', ...extraArgs];
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const proc = spawn(process.execPath, [tugBin, ...args], { stdio: ['ignore', 'inherit', 'inherit'], detached: false });
    child = proc;
    // A daemon that dies at start-up fails the test at once, not after the ping deadline.
    const died = new Promise<never>((_, reject) =>
      proc.once('exit', (code, sig) => reject(new Error(`tug daemon exited during start-up (${sig ?? code})`))),
    );
    died.catch(() => undefined); // the normal exit at stop() is not an error
    await Promise.race([waitForPing(socket), died]);
  };

  const d: TestDaemon = {
    root,
    socket,
    host: external ?? `unix://${socket}`,
    bridge,
    subnet,
    env: { ...process.env, DOCKER_HOST: external ?? `unix://${socket}`, TUG_HOST: external ?? `unix://${socket}` },
    pid: 0,
    async stop() {
      if (child && child.exitCode === null) {
        const exited = new Promise((r) => child!.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
    async crash() {
      if (child && child.exitCode === null) {
        const exited = new Promise((r) => child!.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
    },
    async restart() {
      await launch();
      d.pid = child!.pid!;
    },
  };
  if (!external) {
    try {
      await launch();
    } catch (err) {
      // A daemon that never came up leaves nothing behind either.
      if (child && child.exitCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    d.pid = child!.pid!;
  }
  return d;
}
