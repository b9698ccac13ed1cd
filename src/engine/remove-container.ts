// Removing a container: its runtime state, rootfs, network, cgroup, record and
// (with -v) its anonymous volumes. Idempotent, so a crash half way is finished
// by the next attempt.
import { removeContainerLayer } from '../snapshot/container-layer.js';
import type { ContainerRecord } from './container-record.js';
import type { Lifecycle } from './lifecycle-context.js';
import { releaseContainer } from './release-container.js';

export async function removeContainerUnlocked(lc: Lifecycle, c: ContainerRecord, opts: { removeVolumes: boolean }): Promise<void> {
  const { engine } = lc;
  lc.restarts.forget(c.Id);
  lc.health.stop(c);
  c.State = { ...c.State, Status: 'removing' };
  await releaseContainer(engine, c.Id);
  await removeContainerLayer(engine.root, c.Id);
  await engine.containers.remove(c.Id);
  if (opts.removeVolumes) {
    for (const m of c.Mounts) {
      if (m.Type !== 'volume' || !m.Name) continue;
      const v = engine.volumes.find(m.Name);
      if (!v?.anonymous) continue;
      const users = engine.containers.all().filter((o) => o.Mounts.some((om) => om.Name === m.Name));
      if (users.length === 0) await engine.volumes.remove(m.Name, []).catch(() => undefined);
    }
  }
  engine.emitContainer(c, 'destroy');
  lc.waiters.notify(c.Id, 'removed', c.State.ExitCode);
}
