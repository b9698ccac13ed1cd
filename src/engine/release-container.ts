// Releasing what a stopped container held: its runtime state and cgroup, its
// network attachment, its rootfs mount and any subpath staging mount. Safe to repeat (after a crash, say).
import { unmountContainerLayer } from '../snapshot/container-layer.js';
import { removeCgroup } from '../runtime/cgroups/index.js';
import type { Engine } from './engine.js';
import { releaseSubpathMounts } from './mounts.js';
import { emitConnects, hasOwnNetworking, releaseNetworking } from './container-networking.js';

export async function releaseContainer(engine: Engine, id: string): Promise<void> {
  const c = engine.containers.find(id);
  // Runtime, network and rootfs do not depend on each other once the process
  // is gone (a busy rootfs is detached lazily), so they are released side by
  // side: exit-to-removal latency is what `docker run --rm` waits for.
  await Promise.all([
    engine.runtime
      .delete(id, { force: true })
      .catch(() => undefined)
      .then(() => (c ? removeCgroup(c.Tug.cgroupsPath).catch(() => undefined) : undefined)),
    // Every network's attachment (the default bridge's, user-defined networks'), and the endpoints' live fields.
    (async () => {
      const wasLive = Boolean(c && hasOwnNetworking(c) && c.NetworkSettings.SandboxKey && (c.State.Running || c.State.Paused));
      await releaseNetworking(engine, c, id).catch(() => undefined);
      if (c && wasLive) emitConnects(engine, c, 'disconnect');
    })(),
    unmountContainerLayer(engine.root, id).catch(() => undefined),
    releaseSubpathMounts(engine.root, id).catch(() => undefined),
  ]);
}
