// What happens when a container's process exits: record the real exit code
// (and OOM kill), release its network and rootfs, tell waiters, then either
// remove it (--rm) or restart it per its restart policy, with back-off.
import { unmountContainerLayer } from '../snapshot/container-layer.js';
import { readOomKilled, removeCgroup } from '../runtime/cgroups/index.js';
import type { ExitInfo } from '../runtime/runtime.js';
import type { Engine } from './engine.js';
import { nextBackoff, shouldRestart } from './restart-backoff.js';
import { startContainerUnlocked } from './start-container.js';
import { removeContainerUnlocked } from './remove-container.js';

export function watchExit(engine: Engine, id: string): void {
  engine.runtime
    .waitExit(id)
    .then((exit) => engine.lock.run(id, () => handleExit(engine, id, exit)))
    .catch((err) => {
      if (!engine.shuttingDown) process.stderr.write(`tug: watching container ${id.slice(0, 12)} failed: ${String(err)}\n`);
    });
}

/** Releases what a stopped container held. Safe to repeat (after a crash, say). */
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
    c?.HostConfig.NetworkMode === 'bridge' ? engine.network.detach(id).catch(() => undefined) : undefined,
    unmountContainerLayer(engine.root, id).catch(() => undefined),
  ]);
}

export async function handleExit(engine: Engine, id: string, exit: ExitInfo, daemonStarting = false): Promise<void> {
  const t0 = performance.now();
  const trace = (what: string): void => {
    if (process.env.TUG_TRACE) process.stderr.write(`trace ${id.slice(0, 12)} exit: ${what} +${(performance.now() - t0).toFixed(1)}ms\n`);
  };
  const c = engine.containers.find(id);
  if (!c || (!c.State.Running && !c.State.Paused)) return; // already handled (stop raced with exit)
  const oom = exit.oomKilled || (await readOomKilled(c.Tug.cgroupsPath).catch(() => false));
  const startedMs = Date.parse(c.State.StartedAt);
  await releaseContainer(engine, id);
  trace('released');
  c.State = {
    ...c.State,
    Status: 'exited',
    Running: false,
    Paused: false,
    Restarting: false,
    OOMKilled: oom,
    Pid: 0,
    ExitCode: exit.exitCode,
    FinishedAt: exit.finishedAt || new Date().toISOString(),
  };
  c.NetworkSettings.Ports = {};
  c.NetworkSettings.IPAddress = '';
  engine.health.stop(c);
  const removingNow = c.HostConfig.AutoRemove && !(engine.shuttingDown && !daemonStarting);
  // A --rm container's record is deleted right below: writing (and fsyncing)
  // its exited state first only delays the removal `docker run --rm` waits for.
  // Should the daemon die in between, recovery finds it not running and removes it.
  if (!removingNow) await engine.containers.save(c);
  if (oom) engine.emitContainer(c, 'oom');
  engine.emitContainer(c, 'die', { exitCode: String(exit.exitCode) });
  engine.notifyWaiters(id, 'next-exit', exit.exitCode);

  if (engine.shuttingDown && !daemonStarting) return;
  if (c.HostConfig.AutoRemove) {
    await removeContainerUnlocked(engine, c, { removeVolumes: true });
    trace('removed');
    return;
  }
  if (!shouldRestart(c, exit.exitCode, daemonStarting)) return;
  const ranFor = Date.now() - (Number.isFinite(startedMs) ? startedMs : Date.now());
  const delay = nextBackoff(engine.backoffMs.get(id) ?? 0, ranFor);
  engine.backoffMs.set(id, delay);
  c.State = { ...c.State, Status: 'restarting', Restarting: true };
  await engine.containers.save(c);
  const timer = setTimeout(() => {
    engine.restartTimers.delete(id);
    void engine.lock.run(id, async () => {
      const cur = engine.containers.find(id);
      if (!cur || !cur.State.Restarting) return;
      cur.RestartCount += 1;
      try {
        // start emits "start"; dockerd sends no "restart" event for a policy restart.
        await startContainerUnlocked(engine, cur);
      } catch (err) {
        // A failed restart counts as another exit: try again with a longer back-off.
        cur.State = { ...cur.State, Status: 'exited', Restarting: false };
        await engine.containers.save(cur);
        if (shouldRestart(cur, cur.State.ExitCode)) {
          cur.State = { ...cur.State, Running: true };
          await handleExit(engine, id, { exitCode: cur.State.ExitCode, oomKilled: false, finishedAt: new Date().toISOString() });
        } else process.stderr.write(`tug: restarting ${id.slice(0, 12)}: ${String(err)}\n`);
      }
    });
  }, delay);
  timer.unref();
  engine.restartTimers.set(id, timer);
}
