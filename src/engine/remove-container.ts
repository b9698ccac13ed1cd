// Removing a container: its runtime state, rootfs, network, cgroup, record and
// (with -v) its anonymous volumes. Idempotent, so a crash half way is finished
// by the next attempt.
import { removeContainerLayer } from '../snapshot/container-layer.js';
import type { Engine } from './engine.js';
import type { ContainerRecord } from './container-record.js';
import { releaseContainer } from './exit-handler.js';

export async function removeContainerUnlocked(engine: Engine, c: ContainerRecord, opts: { removeVolumes: boolean }): Promise<void> {
  const timer = engine.restartTimers.get(c.Id);
  if (timer) clearTimeout(timer);
  engine.restartTimers.delete(c.Id);
  engine.backoffMs.delete(c.Id);
  engine.health.stop(c);
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
  engine.notifyWaiters(c.Id, 'removed', c.State.ExitCode);
}
