// A container's filesystem as a ScopedRoot, for docker cp and docker export:
// the live mount namespace view of a running container (volumes included, as
// Docker's cp sees them), the overlay of a stopped one, mounted for the call.
import { ScopedRoot } from '../rootfs/scoped-root.js';
import { prepareContainerLayer, unmountContainerLayer } from '../snapshot/container-layer.js';
import type { Engine } from './engine.js';
import type { ContainerRecord } from './container-record.js';

export async function withContainerRoot<T>(engine: Engine, c: ContainerRecord, fn: (root: ScopedRoot) => Promise<T>): Promise<T> {
  if (c.State.Running && c.State.Pid) return withScopedRoot(`/proc/${c.State.Pid}/root`, fn);
  return withOverlayRoot(engine, c, fn);
}

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
