// Where a container's cgroup lives on this host. cgroup v2 ("unified") has one
// tree at /sys/fs/cgroup; v1 (and hybrid hosts, where v1 owns the controllers
// and a v2 tree sits at /sys/fs/cgroup/unified only for systemd) has one tree
// per controller. runc uses the v1 trees unless /sys/fs/cgroup itself is v2.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { invalid } from '../../errdefs.js';

export const CGROUP_ROOT = '/sys/fs/cgroup';

let v2: boolean | undefined;

/** Checked once per process: the cgroup layout does not change while we run. */
export function isCgroupV2(): boolean {
  v2 ??= existsSync(join(CGROUP_ROOT, 'cgroup.controllers'));
  return v2;
}

let swapAccounting: boolean | undefined;

/** Whether memory+swap limits can be set (v1 memsw files, or v2 memory.swap.max). */
export function hasSwapAccounting(): boolean {
  // v2 kernels built with memcg have memory.swap.max; v1 needs swapaccount=1 for memsw.
  swapAccounting ??= isCgroupV2() || existsSync(join(CGROUP_ROOT, 'memory', 'memory.memsw.limit_in_bytes'));
  return swapAccounting;
}

let v1Mounts: Promise<Map<string, string[]>> | undefined;

/**
 * v1 hierarchies from /proc/self/mountinfo: controller (or 'name=systemd') ->
 * mount points. Only hierarchies mounted at their root are used, because
 * runc's absolute cgroupsPath is relative to the hierarchy root.
 */
export function v1Hierarchies(): Promise<Map<string, string[]>> {
  v1Mounts ??= (async () => {
    const out = new Map<string, string[]>();
    const text = await readFile('/proc/self/mountinfo', 'utf8');
    for (const line of text.split('\n')) {
      const [pre, post] = line.split(' - ');
      if (!pre || !post) continue;
      const preF = pre.split(' ');
      const postF = post.split(' ');
      if (postF[0] !== 'cgroup' || preF[3] !== '/') continue;
      const mountPoint = preF[4];
      for (const opt of (postF[2] ?? '').split(',')) {
        if (['rw', 'ro'].includes(opt) || opt.startsWith('release_agent') || opt === 'clone_children' || opt === 'noprefix') continue;
        const list = out.get(opt) ?? [];
        if (!list.includes(mountPoint)) list.push(mountPoint);
        out.set(opt, list);
      }
    }
    return out;
  })();
  return v1Mounts;
}

/** Reject paths that could escape the hierarchy before they reach rmdir/readFile. */
export function checkCgroupsPath(cgroupsPath: string): string {
  if (!cgroupsPath.startsWith('/') || cgroupsPath.split('/').some((p) => p === '..' || p === '.')) {
    throw invalid(`cgroupsPath must be absolute without . or .. components: "${cgroupsPath}"`);
  }
  const clean = cgroupsPath.replace(/\/+/g, '/').replace(/\/$/, '');
  if (clean === '') throw invalid('cgroupsPath must not be the root cgroup');
  return clean;
}

/** The directory of `cgroupsPath` for one v1 controller, or the unified dir on v2. */
export async function controllerDir(controller: string, cgroupsPath: string): Promise<string | undefined> {
  const p = checkCgroupsPath(cgroupsPath);
  if (isCgroupV2()) return join(CGROUP_ROOT, p);
  const mounts = (await v1Hierarchies()).get(controller);
  return mounts?.[0] !== undefined ? join(mounts[0], p) : undefined;
}

let hybridUnified: boolean | undefined;

/** Every directory that may hold `cgroupsPath`: one per distinct v1 mount, or the one v2 dir. */
export async function allCgroupDirs(cgroupsPath: string): Promise<string[]> {
  const p = checkCgroupsPath(cgroupsPath);
  if (isCgroupV2()) return [join(CGROUP_ROOT, p)];
  const mountPoints = new Set<string>();
  for (const list of (await v1Hierarchies()).values()) for (const m of list) mountPoints.add(m);
  // runc also mirrors v1 containers into the hybrid unified tree when it exists.
  hybridUnified ??= existsSync(join(CGROUP_ROOT, 'unified', 'cgroup.controllers'));
  if (hybridUnified) mountPoints.add(join(CGROUP_ROOT, 'unified'));
  return [...mountPoints].map((m) => join(m, p));
}
