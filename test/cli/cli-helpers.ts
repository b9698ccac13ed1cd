// Shared by the CLI tests: run bin/tug as a child process against a test
// daemon, and give each test file its own busybox image imported from a
// rootfs tar (so it works on a daemon that cannot pull).
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, copyFile, symlink, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startTestDaemon, tugBin, type TestDaemon } from '../helpers/tug-daemon.js';
import { runTool } from '../../src/util/exec-file.js';

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export function rand(): string {
  return randomBytes(4).toString('hex');
}

export function runTug(env: NodeJS.ProcessEnv, args: string[], input?: string | Buffer): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tugBin, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    child.stdin.end(input);
  });
}

/** A rootfs tar with static busybox and its applets, /etc/passwd and /etc/group. */
export async function busyboxTar(dir: string): Promise<string> {
  const root = join(dir, 'rootfs');
  await mkdir(join(root, 'bin'), { recursive: true });
  await mkdir(join(root, 'etc'));
  await mkdir(join(root, 'tmp'));
  await copyFile('/bin/busybox', join(root, 'bin', 'busybox'));
  const { stdout } = await runTool('/bin/busybox', ['--list']);
  for (const applet of stdout.split('\n').filter((a) => a && a !== 'busybox')) {
    await symlink('busybox', join(root, 'bin', applet));
  }
  await writeFile(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n');
  await writeFile(join(root, 'etc', 'group'), 'root:x:0:\nnobody:x:65534:\n');
  const tar = join(dir, 'busybox.tar');
  await runTool('tar', ['-C', root, '-cf', tar, '.']);
  return tar;
}

export interface CliEnv {
  daemon: TestDaemon;
  env: NodeJS.ProcessEnv;
  /** A busybox image unique to this test file, e.g. "tugcli-bb-1a2b3c4d:latest". */
  image: string;
  tmp: string;
  tug(args: string[], input?: string | Buffer): Promise<Result>;
  /** Removes containers labelled for this file, the image, the temp dir, and stops the daemon. */
  cleanup(): Promise<void>;
  /** A label every container of this file carries, so cleanup finds them. */
  label: string;
}

export async function setupCli(): Promise<CliEnv> {
  const daemon = await startTestDaemon();
  try {
    return await prepare(daemon);
  } catch (e) {
    // Half-made setups still clean up: the daemon and anything under its root go.
    await daemon.stop();
    throw e;
  }
}

async function prepare(daemon: TestDaemon): Promise<CliEnv> {
  const tmp = await mkdtemp(join(tmpdir(), 'tugcli-'));
  const id = rand();
  const image = `tugcli-bb-${id}:latest`;
  const env = { ...daemon.env };
  const tug = (args: string[], input?: string | Buffer): Promise<Result> => runTug(env, args, input);
  try {
    const tar = await busyboxTar(tmp);
    const imp = await tug(['import', '-c', 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin', '-c', 'CMD ["sh"]', tar, image]);
    if (imp.code !== 0) throw new Error(`import failed: ${imp.stderr}`);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  const label = `tugclitest=${id}`;
  return {
    daemon,
    env,
    image,
    tmp,
    tug,
    label,
    async cleanup() {
      const ids = await tug(['ps', '-aq', '--filter', `label=${label}`]);
      for (const cid of ids.stdout.split('\n').filter(Boolean)) await tug(['rm', '-f', '-v', cid]);
      await tug(['rmi', '-f', image]);
      await rm(tmp, { recursive: true, force: true });
      await daemon.stop();
    },
  };
}
