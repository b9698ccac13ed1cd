// Resolves a container's mount requests into host paths: named and anonymous
// volumes, bind mounts and tmpfs. Volumes are created when the container is
// created, and filled from the image's content on first use, as Docker does.
import { mkdir, readdir, stat } from 'node:fs/promises';
import { invalid } from '../errdefs.js';
import { ScopedRoot } from '../rootfs/scoped-root.js';
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
      out.push({ Type: 'volume', Name: v.Name, Source: v.Mountpoint, Destination: r.destination, Driver: 'local', Mode: r.mode || 'z', RW: r.rw, Propagation: '' });
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
