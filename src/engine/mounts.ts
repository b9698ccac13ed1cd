// Resolves a container's mount requests into host paths: named and anonymous
// volumes, bind mounts and tmpfs. Volumes are created when the container is
// created, and filled from the image's content on first use, as Docker does.
import { mkdir, readdir, rmdir, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { runTool } from '../util/exec-file.js';
import { mountPoints } from '../snapshot/mounts.js';
import { invalid, messageOf } from '../errdefs.js';
import { errno, openDirAt, ScopedRoot } from '../rootfs/scoped-root.js';
import { readResolved } from '../rootfs/tree-reader.js';
import { writeTree } from '../rootfs/tree-writer.js';
import type { MountPoint } from './container-record.js';
import type { MountRequest } from './create-config.js';
import type { VolumeStore } from './volume-store.js';

export async function resolveMounts(volumes: VolumeStore, reqs: MountRequest[], fromApiMounts: Set<string>): Promise<MountPoint[]> {
  // Refuse bad --mount binds before creating anything: a refused container
  // must not leave behind the named volumes it asked for.
  for (const r of reqs) {
    if (r.type !== 'bind' || !fromApiMounts.has(r.destination)) continue;
    await stat(r.source).catch(() => {
      throw invalid(`invalid mount config for type "bind": bind source path does not exist: ${r.source}`);
    });
  }
  const out: MountPoint[] = [];
  for (const r of reqs) {
    if (r.type === 'bind') {
      try {
        await stat(r.source);
      } catch {
        // -v creates a missing host directory; --mount refuses, as Docker does.
        if (fromApiMounts.has(r.destination)) throw invalid(`invalid mount config for type "bind": bind source path does not exist: ${r.source}`);
        await mkdir(r.source, { recursive: true });
      }
      out.push({ Type: 'bind', Source: r.source, Destination: r.destination, Mode: r.mode, RW: r.rw, Propagation: 'rprivate' });
    } else if (r.type === 'volume') {
      const v = await volumes.create({ Name: r.source || undefined });
      out.push({ Type: 'volume', Name: v.Name, Source: v.Mountpoint, Destination: r.destination, Driver: 'local', Mode: r.mode || 'z', RW: r.rw, Propagation: '', ...(r.subpath ? { Subpath: r.subpath } : {}) });
    } else {
      out.push({ Type: 'tmpfs', Source: '', Destination: r.destination, Mode: r.tmpfsOptions ?? '', RW: r.rw, Propagation: '' });
    }
  }
  return out;
}

/**
 * Copies what the image has at a volume's path into the volume, once, if it is
 * empty. The image's tree is read inside its root (its symlinks, absolute or
 * '../..', resolve there, never to host paths) and written into the volume
 * with owners, modes, times and links kept, as Docker's copy-up does.
 */
export async function populateVolume(volumes: VolumeStore, m: MountPoint, rootfs: string): Promise<void> {
  if (m.Type !== 'volume' || !m.Name) return;
  const v = volumes.find(m.Name);
  if (!v || v.populated) return;
  const existing = await readdir(v.Mountpoint).catch(() => [] as string[]);
  if (existing.length === 0) {
    const image = await ScopedRoot.open(rootfs);
    const volume = await ScopedRoot.open(v.Mountpoint);
    try {
      const src = await image.resolve(m.Destination, { followFinal: true }).catch(() => undefined);
      if (src && (await src.lstat())?.isDirectory()) {
        // '.' as the top name: the directory's owner and mode go to the volume's root, its content inside.
        await writeTree(volume, '/', readResolved(src, '.'));
      }
      await src?.close();
    } finally {
      await image.close();
      await volume.close();
    }
  }
  await volumes.markPopulated(v.Name);
}

/**
 * The directories of volumes mounted by a subpath, staged for runc. The
 * container can write to the volume (another container of it can, while
 * this one starts), so the subpath is walked inside the volume (symlinks stay
 * in it) and the directory it leads to is opened; that handle is bind-mounted
 * (through /proc/<tug>/fd, which the kernel resolves to the opened directory
 * whatever the path names by then) on a staging directory runc mounts from,
 * as dockerd's safepath does. runc cannot take the /proc path itself: it
 * mounts in a namespace of its own, and a bind source must be in the
 * caller's. The staging mounts live under <root>/subpath-mounts, which
 * nothing removes recursively, so a mount a crash leaves behind never leads
 * a removal into the volume; the next start or removal of the container
 * unmounts it. Close once the runtime has created the container.
 */
export class PinnedSubpaths {
  private readonly staged = new Map<MountPoint, string>();

  constructor(private readonly stageRoot = '', private readonly containerId = '') {}

  static async open(engineRoot: string, containerId: string, mounts: MountPoint[]): Promise<PinnedSubpaths> {
    const pinned = new PinnedSubpaths(join(engineRoot, 'subpath-mounts'), containerId);
    if (!mounts.some((m) => m.Type === 'volume' && m.Subpath)) return pinned;
    await releaseSubpathMounts(engineRoot, containerId);
    await mkdir(pinned.stageRoot, { recursive: true, mode: 0o700 });
    try {
      let i = 0;
      for (const m of mounts) {
        if (m.Type !== 'volume' || !m.Subpath) continue;
        const stage = join(pinned.stageRoot, `${containerId}.${i++}`);
        const dir = await openSubpath(m.Source, m.Subpath, m.Name ?? '');
        try {
          await mkdir(stage, { mode: 0o700 });
          pinned.staged.set(m, stage);
          await runTool('mount', ['--bind', `/proc/${process.pid}/fd/${dir.fd}`, stage]);
        } finally {
          await dir.close();
        }
      }
    } catch (err) {
      await pinned.close();
      throw err;
    }
    return pinned;
  }

  /** What runc bind-mounts for `m`: its staged directory, or the mount's own source. */
  source(m: MountPoint): string {
    return this.staged.get(m) ?? m.Source;
  }

  async close(): Promise<void> {
    this.staged.clear();
    if (this.stageRoot) await releaseSubpathMounts(dirname(this.stageRoot), this.containerId);
  }
}

/**
 * Unmounts and removes a container's staging directories (after its start,
 * at its removal, or left by a crash). rmdir, never a recursive removal: a
 * directory still mounted stays, with the volume under it untouched.
 */
export async function releaseSubpathMounts(engineRoot: string, containerId: string): Promise<void> {
  const stageRoot = join(engineRoot, 'subpath-mounts');
  const names = (await readdir(stageRoot).catch(() => [] as string[])).filter((n) => n.startsWith(`${containerId}.`));
  // Nearly every container has none: no read of the mount table (hundreds of lines under a pod burst).
  if (names.length === 0) return;
  const mounted = new Set(await mountPoints());
  for (const n of names) {
    const stage = join(stageRoot, n);
    // Loop: a crash between two starts can stack mounts on one directory.
    for (let i = 0; i < 8 && mounted.has(stage); i++) {
      const res = await runTool('umount', [stage], { allowFailure: true });
      if (res.code !== 0) await runTool('umount', ['-l', stage], { allowFailure: true });
      if (!(await mountPoints()).includes(stage)) break;
    }
    await rmdir(stage).catch(() => undefined);
  }
}

async function openSubpath(volumeDir: string, subpath: string, volumeName: string): Promise<FileHandle> {
  const root = await ScopedRoot.open(volumeDir);
  try {
    const r = await root.resolve(subpath, { followFinal: true }).catch((err: unknown) => {
      throw invalid(`cannot access path ${subpath} in volume ${volumeName}: ${messageOf(err)}`);
    });
    try {
      return await openDirAt(r.dirFd, r.name);
    } catch (err) {
      const why = errno(err) === 'ENOENT' ? 'no such file or directory' : errno(err) === 'ENOTDIR' ? 'not a directory' : messageOf(err);
      throw invalid(`cannot access path ${subpath} in volume ${volumeName}: ${why}`);
    } finally {
      await r.close();
    }
  } finally {
    await root.close();
  }
}
