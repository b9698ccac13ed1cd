// Test harness: a throwaway busybox rootfs and real runc containers built from
// buildOciSpec, each with its own state dir, bundle and cgroup, all removed after.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool } from '../../src/util/exec-file.js';
import { buildOciSpec, type ContainerSpecInput } from '../../src/runtime/spec/container-spec.js';
import { existsSync } from 'node:fs';
import { cgroupExists, controllerDir, removeCgroup } from '../../src/runtime/cgroups/index.js';

export const rand = (): string => randomBytes(4).toString('hex');

/** A busybox rootfs with a root user, 'alice' (1000) in group 'staff' (50). */
export async function makeBusyboxRootfs(dir: string): Promise<string> {
  const rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'home/alice']) await mkdir(join(rootfs, d), { recursive: true });
  await copyFile('/bin/busybox', join(rootfs, 'bin/busybox'));
  const { stdout } = await runTool('/bin/busybox', ['--list']);
  // Relative links: busybox's own --install -s would point at the host path.
  for (const applet of stdout.split('\n').filter((a) => a && a !== 'busybox')) {
    await symlink('busybox', join(rootfs, 'bin', applet));
  }
  await writeFile(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000:Alice:/home/alice:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  await writeFile(join(rootfs, 'etc/group'), 'root:x:0:\nstaff:x:50:alice\nwheel:x:10:root,alice\nalice:x:1000:\nnogroup:x:65534:\n');
  return rootfs;
}

export interface Sandbox {
  dir: string;
  rootfs: string;
  stateRoot: string;
  /** Parent cgroup holding all of this sandbox's containers. */
  cgroupParent: string;
  cleanup(): Promise<void>;
}

export async function makeSandbox(): Promise<Sandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'tug-spec-'));
  const rootfs = await makeBusyboxRootfs(dir);
  const stateRoot = join(dir, 'state');
  await mkdir(stateRoot);
  const cgroupParent = `/tug-spectest-${rand()}`;
  return {
    dir,
    rootfs,
    stateRoot,
    cgroupParent,
    async cleanup() {
      await removeCgroup(cgroupParent);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function baseInput(sb: Sandbox, id: string, args: string[], over: Partial<ContainerSpecInput> = {}): ContainerSpecInput {
  return {
    id,
    rootfs: sb.rootfs,
    args,
    env: [],
    cwd: '/',
    user: '',
    tty: false,
    openStdin: false,
    hostname: id.slice(0, 12),
    readonlyRootfs: false,
    mounts: [],
    network: { mode: 'none' },
    resources: {},
    cgroupsPath: `${sb.cgroupParent}/${id}`,
    privileged: false,
    capAdd: [],
    capDrop: [],
    securityOpt: [],
    init: false,
    ...over,
  };
}

export interface Running {
  id: string;
  cgroupsPath: string;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number>;
  /** Resolves once stdout contains `text`; rejects if the container exits first. */
  waitFor(text: string): Promise<void>;
}

/** Start `runc run --keep` in the foreground (pipes, no tty). */
export async function startContainer(sb: Sandbox, args: string[], over: Partial<ContainerSpecInput> = {}): Promise<Running> {
  const id = `tugspec-${rand()}`;
  const input = baseInput(sb, id, args, over);
  const bundle = join(sb.dir, `bundle-${id}`);
  await mkdir(bundle);
  await writeFile(join(bundle, 'config.json'), JSON.stringify(await buildOciSpec(input), null, 2));
  const child = spawn('runc', ['--root', sb.stateRoot, 'run', '--keep', '--bundle', bundle, id], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  child.stdout!.on('data', (b: Buffer) => {
    out += b.toString();
    for (const w of waiters) w();
  });
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
  return {
    id,
    cgroupsPath: input.cgroupsPath,
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(text) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (out.includes(text)) resolve();
        };
        waiters.push(check);
        check();
        void exited.then((code) => {
          if (!out.includes(text)) reject(new Error(`container exited (${code}) before printing ${text}: ${err}`));
        });
      });
    },
  };
}

/** Kill (if still running) and delete the runc container, then its cgroup; returns whether the cgroup is gone. */
export async function destroyContainer(sb: Sandbox, c: Running): Promise<boolean> {
  await runTool('runc', ['--root', sb.stateRoot, 'kill', c.id, 'KILL'], { allowFailure: true });
  await c.exited.catch(() => undefined);
  await runTool('runc', ['--root', sb.stateRoot, 'delete', '--force', c.id], { allowFailure: true });
  await removeCgroup(c.cgroupsPath);
  const memoryDir = await controllerDir('memory', c.cgroupsPath);
  return !(await cgroupExists(c.cgroupsPath)) && !(memoryDir && existsSync(memoryDir));
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  cgroupsPath: string;
  /** Values read after exit but before the cgroup is removed. */
  after: Record<string, unknown>;
}

/**
 * Run to completion; `afterExit` runs while the exited container (and its
 * cgroup) still exist. Asserts the cgroup is gone afterwards.
 */
export async function runContainer(
  sb: Sandbox,
  args: string[],
  over: Partial<ContainerSpecInput> = {},
  afterExit?: (cgroupsPath: string) => Promise<Record<string, unknown>>,
): Promise<RunResult> {
  const c = await startContainer(sb, args, over);
  let after: Record<string, unknown> = {};
  let code: number;
  try {
    code = await c.exited;
    if (afterExit) after = await afterExit(c.cgroupsPath);
  } finally {
    const gone = await destroyContainer(sb, c);
    if (!gone) throw new Error(`cgroup ${c.cgroupsPath} left behind`);
  }
  return { code, stdout: c.stdout(), stderr: c.stderr(), cgroupsPath: c.cgroupsPath, after };
}
