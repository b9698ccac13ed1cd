// A container cgroup's existence, processes, OOM record and removal, on v1
// (one directory per hierarchy) and v2 (one directory).
import { readFile, readdir, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { conflict } from '../../errdefs.js';
import { allCgroupDirs, controllerDir, isCgroupV2 } from './cgroup-fs.js';

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function readOrUndefined(p: string): Promise<string | undefined> {
  try {
    return await readFile(p, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENODEV' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') return undefined;
    throw err;
  }
}

export async function cgroupExists(cgroupsPath: string): Promise<boolean> {
  for (const d of await allCgroupDirs(cgroupsPath)) if (await isDir(d)) return true;
  return false;
}

async function subdirs(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Every PID in the cgroup and its descendants (what `runc ps` and docker top show). */
export async function listCgroupPids(cgroupsPath: string): Promise<number[]> {
  const root = isCgroupV2()
    ? await controllerDir('', cgroupsPath)
    : ((await controllerDir('pids', cgroupsPath)) ?? (await controllerDir('memory', cgroupsPath)));
  if (!root) return [];
  const pids = new Set<number>();
  const visit = async (dir: string): Promise<void> => {
    const text = await readOrUndefined(join(dir, 'cgroup.procs'));
    if (text === undefined) return;
    for (const line of text.split('\n')) if (line.trim()) pids.add(Number.parseInt(line, 10));
    for (const sub of await subdirs(dir)) await visit(sub);
  };
  await visit(root);
  return [...pids].sort((a, b) => a - b);
}

/** Whether the kernel OOM-killed anything in the cgroup. Read before the cgroup is removed. */
export async function readOomKilled(cgroupsPath: string): Promise<boolean> {
  const dir = await controllerDir('memory', cgroupsPath);
  if (!dir) return false;
  const text = await readOrUndefined(join(dir, isCgroupV2() ? 'memory.events' : 'memory.oom_control'));
  if (text === undefined) return false;
  return oomKillCount(text) > 0;
}

/** The oom_kill counter of v1 memory.oom_control or v2 memory.events (0 on kernels without it). */
export function oomKillCount(text: string): number {
  const m = /^oom_kill (\d+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}

const BUSY_RETRIES = 40;
const BUSY_DELAY_MS = 50;

/** rmdir children first; a just-killed process may keep a cgroup busy for a moment. */
async function removeTree(dir: string): Promise<void> {
  for (const sub of await subdirs(dir)) await removeTree(sub);
  for (let attempt = 0; ; attempt++) {
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || attempt >= BUSY_RETRIES) {
        if (code === 'EBUSY') throw conflict(`cgroup ${dir} still has processes`);
        throw err;
      }
      await sleep(BUSY_DELAY_MS);
    }
  }
}

/** Idempotent: removes the cgroup (and any children) from every hierarchy. */
export async function removeCgroup(cgroupsPath: string): Promise<void> {
  await Promise.all((await allCgroupDirs(cgroupsPath)).map((d) => removeTree(d)));
}
