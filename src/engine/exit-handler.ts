// What happens when a container's process exits: record the real exit code
// (and OOM kill), release its network and rootfs, tell waiters, then either
// remove it (--rm) or restart it per its restart policy, with back-off.
import { readOomKilled } from '../runtime/cgroups/index.js';
import type { ExitInfo } from '../runtime/runtime.js';
import type { Lifecycle } from './lifecycle-context.js';
import { nextBackoff, shouldRestart } from './restart-backoff.js';
import { releaseContainer } from './release-container.js';

export function watchExit(lc: Lifecycle, id: string): void {
  const { engine } = lc;
  engine.runtime
    .waitExit(id)
    .then((exit) => engine.lock.run(id, () => lc.handleExit(id, exit)))
    .catch((err) => {
      if (!engine.shuttingDown) process.stderr.write(`tug: watching container ${id.slice(0, 12)} failed: ${String(err)}\n`);
    });
}

export async function handleExit(lc: Lifecycle, id: string, exit: ExitInfo, daemonStarting = false): Promise<void> {
  const { engine } = lc;
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
  lc.health.stop(c);
  const removingNow = c.HostConfig.AutoRemove && !(engine.shuttingDown && !daemonStarting);
  // A --rm container's record is deleted right below: writing (and fsyncing)
  // its exited state first only delays the removal `docker run --rm` waits for.
  // Should the daemon die in between, recovery finds it not running and removes it.
  if (!removingNow) await engine.containers.save(c);
  if (oom) engine.emitContainer(c, 'oom');
  engine.emitContainer(c, 'die', { exitCode: String(exit.exitCode) });
  lc.waiters.notify(id, 'next-exit', exit.exitCode);

  if (engine.shuttingDown && !daemonStarting) return;
  if (c.HostConfig.AutoRemove) {
    await lc.removeUnlocked(c, { removeVolumes: true });
    trace('removed');
    return;
  }
  if (!shouldRestart(c, exit.exitCode, daemonStarting)) return;
  const ranFor = Date.now() - (Number.isFinite(startedMs) ? startedMs : Date.now());
  const delay = nextBackoff(lc.restarts.backoffOf(id), ranFor);
  c.State = { ...c.State, Status: 'restarting', Restarting: true };
  await engine.containers.save(c);
  lc.restarts.schedule(id, delay, () => {
    void engine.lock.run(id, async () => {
      const cur = engine.containers.find(id);
      if (!cur || !cur.State.Restarting) return;
      cur.RestartCount += 1;
      try {
        // start emits "start"; dockerd sends no "restart" event for a policy restart.
        await lc.startUnlocked(cur);
      } catch (err) {
        // A failed restart counts as another exit: try again with a longer back-off.
        cur.State = { ...cur.State, Status: 'exited', Restarting: false };
        await engine.containers.save(cur);
        if (shouldRestart(cur, cur.State.ExitCode)) {
          cur.State = { ...cur.State, Running: true };
          await lc.handleExit(id, { exitCode: cur.State.ExitCode, oomKilled: false, finishedAt: new Date().toISOString() });
        } else process.stderr.write(`tug: restarting ${id.slice(0, 12)}: ${String(err)}\n`);
      }
    });
  });
}
