// Device nodes for a container: --device entries (a node or a directory of
// nodes) and, for --privileged, every node on the host, as Docker does.
import { lstat, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { invalid } from '../../errdefs.js';
import type { OciDevice, OciDeviceCgroup } from './oci-runtime-types.js';

export interface DeviceRequest {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

// Linux dev_t layout (glibc's gnu_dev_major/minor).
const major = (rdev: bigint): number => Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
const minor = (rdev: bigint): number => Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));

async function nodeAt(hostPath: string, containerPath: string): Promise<OciDevice | undefined> {
  const st = await stat(hostPath, { bigint: true });
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : undefined;
  if (!type) return undefined;
  return {
    type,
    path: containerPath,
    major: major(st.rdev),
    minor: minor(st.rdev),
    fileMode: Number(st.mode & 0o777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
  };
}

/** Host device nodes under `dir`, each mapped to `dir`'s place in the container. */
async function walk(hostDir: string, containerDir: string, skip: Set<string>, out: OciDevice[]): Promise<void> {
  for (const ent of await readdir(hostDir, { withFileTypes: true })) {
    const h = join(hostDir, ent.name);
    const c = join(containerDir, ent.name);
    if (skip.has(h)) continue;
    if (ent.isDirectory()) await walk(h, c, skip, out);
    else if (ent.isCharacterDevice() || ent.isBlockDevice()) {
      const d = await nodeAt(h, c).catch(() => undefined);
      if (d) out.push(d);
    }
  }
}

function checkPermissions(p: string): string {
  if (!/^[rwm]{1,3}$/.test(p) || new Set(p).size !== p.length) {
    throw invalid(`invalid device cgroup permissions "${p}": use a combination of r, w and m`);
  }
  return p;
}

/** --device: returns the nodes to create and the cgroup rules allowing them. */
export async function customDevices(reqs: readonly DeviceRequest[]): Promise<{ devices: OciDevice[]; rules: OciDeviceCgroup[] }> {
  const devices: OciDevice[] = [];
  const rules: OciDeviceCgroup[] = [];
  for (const req of reqs) {
    const hostPath = req.PathOnHost;
    const containerPath = req.PathInContainer || hostPath;
    const access = checkPermissions(req.CgroupPermissions || 'rwm');
    if (!hostPath.startsWith('/') || !containerPath.startsWith('/')) {
      throw invalid(`device paths must be absolute: "${hostPath}:${containerPath}"`);
    }
    let st;
    try {
      st = await lstat(hostPath);
    } catch (err) {
      throw invalid(`error gathering device information while adding custom device "${hostPath}": ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
    }
    const found: OciDevice[] = [];
    if (st.isDirectory()) await walk(hostPath, containerPath, new Set(), found);
    else {
      const d = await nodeAt(hostPath, containerPath);
      if (!d) throw invalid(`error gathering device information while adding custom device "${hostPath}": not a device node`);
      found.push(d);
    }
    for (const d of found) {
      devices.push(d);
      rules.push({ allow: true, type: d.type === 'b' ? 'b' : 'c', major: d.major, minor: d.minor, access });
    }
  }
  return { devices, rules };
}

/** Every device node on the host for --privileged (pts/shm/mqueue are the container's own). */
export async function hostDevices(): Promise<OciDevice[]> {
  const out: OciDevice[] = [];
  await walk('/dev', '/dev', new Set(['/dev/pts', '/dev/shm', '/dev/mqueue', '/dev/console', '/dev/ptmx']), out);
  return out;
}

/** moby's device cgroup rule syntax (--device-cgroup-rule): type, major:minor (or *), access. */
const deviceRule = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/;

/** A device cgroup rule as an allow entry of linux.resources.devices. */
export function deviceRuleToOci(rule: string): OciDeviceCgroup {
  const m = deviceRule.exec(rule);
  if (!m) throw invalid(`invalid device cgroup format '${rule}'`);
  return {
    allow: true,
    type: m[1] as 'a' | 'b' | 'c',
    ...(m[2] === '*' ? {} : { major: Number(m[2]) }),
    ...(m[3] === '*' ? {} : { minor: Number(m[3]) }),
    access: m[4]!,
  };
}
