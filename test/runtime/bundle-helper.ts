// Test helper: a busybox rootfs and a minimal OCI config.json, built from
// `runc spec` output, so runtime tests do not depend on the spec builder.
// Each bundle has its own random cgroup path; runc delete removes it.
import { mkdtemp, mkdir, copyFile, writeFile, readFile, rm, symlink, access } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { runTool } from '../../src/util/exec-file.js';

export interface TestBundle {
  dir: string;
  bundleDir: string;
  logPath: string;
  stateDir: string;
  cgroupName: string;
  cleanup(): Promise<void>;
}

const BUSYBOX = '/bin/busybox';

let rootfsTemplate: Promise<string> | undefined;

/** One busybox rootfs per test process, shared read-only by all its bundles. */
async function sharedRootfs(): Promise<string> {
  rootfsTemplate ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tug-rt-rootfs-'));
    const rootfs = join(dir, 'rootfs');
    for (const d of ['bin', 'etc', 'proc', 'dev', 'sys', 'tmp', 'root']) await mkdir(join(rootfs, d), { recursive: true });
    await copyFile(BUSYBOX, join(rootfs, 'bin/busybox'));
    const { stdout } = await runTool(BUSYBOX, ['--list']);
    await Promise.all(
      stdout
        .split('\n')
        .filter((n) => n && n !== 'busybox')
        .map((n) => symlink('busybox', join(rootfs, 'bin', n)).catch(() => undefined)),
    );
    await writeFile(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n');
    await writeFile(join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
    // shared by every test in this process; removed when the process ends
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    return rootfs;
  })();
  return rootfsTemplate;
}

export async function makeBundle(
  args: string[],
  opts: { tty?: boolean; stateDir?: string; mutate?: (spec: any) => void } = {},
): Promise<TestBundle> {
  const dir = await mkdtemp(join(tmpdir(), 'tug-rt-'));
  const bundleDir = join(dir, 'bundle');
  await mkdir(bundleDir);
  const rootfs = await sharedRootfs();
  await runTool('runc', ['spec', '--bundle', bundleDir]);
  const spec = JSON.parse(await readFile(join(bundleDir, 'config.json'), 'utf8'));
  const cgroupName = `tug-rt-test-${randomBytes(5).toString('hex')}`;
  spec.process.terminal = opts.tty ?? false;
  spec.process.args = args;
  spec.root = { path: rootfs, readonly: true };
  spec.hostname = 'ctr';
  spec.linux.cgroupsPath = `/${cgroupName}`;
  // a writable /tmp inside the read-only rootfs
  spec.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] });
  opts.mutate?.(spec);
  await writeFile(join(bundleDir, 'config.json'), JSON.stringify(spec, null, 2));
  const stateDir = opts.stateDir ?? join(dir, 'st');
  return {
    dir,
    bundleDir,
    stateDir,
    logPath: join(dir, 'ctr.log'),
    cgroupName,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export function randomId(prefix = 'rt'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

/** Collects a stream's bytes as a string as they arrive. */
export function collect(stream: NodeJS.ReadableStream | null): { text: () => string; ended: Promise<void> } {
  const parts: Buffer[] = [];
  if (!stream) return { text: () => '', ended: Promise.resolve() };
  const ended = new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
  });
  stream.on('data', (d: Buffer | string) => parts.push(Buffer.from(d)));
  return { text: () => Buffer.concat(parts).toString('utf8'), ended };
}

/** Resolves once `check()` is true; fails after `ms` (a generous hang guard, not a timing threshold). */
export async function until(check: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function pathExists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

/** The cgroup runc made for the bundle, in every v1 hierarchy we can see. */
export async function cgroupLeftovers(cgroupName: string): Promise<string[]> {
  const left: string[] = [];
  for (const ctl of ['memory', 'pids', 'cpu', 'cpuacct', 'freezer', 'devices', 'blkio', 'cpuset', 'systemd', 'unified']) {
    const p = join('/sys/fs/cgroup', ctl, cgroupName);
    if (await pathExists(p)) left.push(p);
  }
  return left;
}
