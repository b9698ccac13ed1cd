// A container's filesystem as a ScopedRoot, for docker cp and docker export:
// the live mount namespace view of a running container (volumes included, as
// Docker's cp sees them), the overlay of a stopped one, mounted for the call.
// A stopped container's volumes and bind mounts are not in its overlay: a
// path under one of their mount points is served from the mount's source,
// opened as a root of its own (dockerd mounts them for the copy).
import { posix } from 'node:path';
import { ScopedRoot } from '../rootfs/scoped-root.js';
import { prepareContainerLayer, unmountContainerLayer } from '../snapshot/container-layer.js';
import type { Engine } from './engine.js';
import type { ContainerRecord, MountPoint } from './container-record.js';

/**
 * fn gets the root that holds the container's `path` and the path inside that
 * root. A trailing '/' or '/.' of `path` is kept: it means "what the directory holds".
 */
export async function withContainerPath<T>(engine: Engine, c: ContainerRecord, path: string, fn: (root: ScopedRoot, inner: string) => Promise<T>): Promise<T> {
  if (c.State.Running && c.State.Pid) return withScopedRoot(`/proc/${c.State.Pid}/root`, (root) => fn(root, path));
  const held = mountHolding(c, path);
  // A volume mounted by its subpath: the container's path is below that directory of the volume.
  if (held) return withScopedRoot(held.mount.Source, (root) => fn(root, held.mount.Subpath ? `/${held.mount.Subpath}${held.inner}` : held.inner));
  return withOverlayRoot(engine, c, (root) => fn(root, path));
}

/**
 * The volume or bind mount whose mount point is `path` or above it (the
 * deepest one), and `path` below its mount point. Paths are compared as
 * written, with '.' and '..' cleaned: a symlink in the container that leads
 * into a mount point is not followed into the mount. A tmpfs holds nothing
 * once its container stopped, so it is never the answer.
 */
export function mountHolding(c: ContainerRecord, path: string): { mount: MountPoint; inner: string } | undefined {
  const clean = cleanPath(path);
  let best: { mount: MountPoint; dest: string } | undefined;
  for (const m of c.Mounts) {
    if (m.Type === 'tmpfs' || !m.Source) continue;
    const dest = cleanPath(m.Destination);
    if (dest === '/' || (clean !== dest && !clean.startsWith(dest + '/'))) continue;
    if (!best || dest.length > best.dest.length) best = { mount: m, dest };
  }
  if (!best) return undefined;
  const dest = best.dest;
  let inner = clean.slice(dest.length) || '/';
  if (path.endsWith('/.')) inner = inner === '/' ? '/.' : `${inner}/.`;
  else if (path.endsWith('/') && inner !== '/') inner += '/';
  return { mount: best.mount, inner };
}

const cleanPath = (p: string): string => posix.normalize('/' + p).replace(/\/+$/, '') || '/';

async function withScopedRoot<T>(hostPath: string, fn: (root: ScopedRoot) => Promise<T>): Promise<T> {
  const root = await ScopedRoot.open(hostPath);
  try {
    return await fn(root);
  } finally {
    await root.close();
  }
}

/**
 * Mounts a container's overlay for fn and unmounts it after (unless running), under the
 * container's lock: the client sees the response end before our unmount, and a
 * `docker start` sent at once would otherwise find its fresh rootfs unmounted
 * under it (cp then start: "executable file not found", or no output).
 * The overlay's merged dir carries no volume, /proc or /sys mounts (those live
 * in the container's mount namespace), so it is exactly what Docker exports.
 */
export function withOverlayRoot<T>(engine: Engine, c: ContainerRecord, fn: (root: ScopedRoot) => Promise<T>): Promise<T> {
  return engine.lock.run(c.Id, async () => {
    const image = await engine.images.get(c.Image);
    const layer = await prepareContainerLayer(engine.root, c.Id, await engine.images.lowerDirs(image));
    try {
      return await withScopedRoot(layer.merged, fn);
    } finally {
      if (!engine.containers.find(c.Id)?.State.Running) await unmountContainerLayer(engine.root, c.Id).catch(() => undefined);
    }
  });
}
