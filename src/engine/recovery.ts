// After a daemon restart (clean or kill -9): reconcile every container record
// with what the runtime says. Running containers are watched again; ones that
// exited while we were down get their real exit code from the monitor's exit
// file; restart policies are honoured as on daemon start.
import type { Lifecycle } from './lifecycle-context.js';
import { releaseContainer } from './release-container.js';
import { shouldRestart } from './restart-backoff.js';

export async function recoverContainers(lc: Lifecycle): Promise<void> {
  const { engine } = lc;
  const live: string[] = [];
  // In parallel: releasing a container caught mid-create may wait out its
  // monitor (seconds each), and the API is not served until recovery is done.
  await Promise.all(engine.containers.all().map(async (c) => {
    await engine.lock.run(c.Id, async () => {
      if (c.State.Running || c.State.Paused) {
        const st = await engine.runtime.state(c.Id).catch(() => ({ status: 'absent' as const, pid: 0 }));
        if (st.status === 'running' || st.status === 'paused') {
          live.push(c.Id);
          c.State = { ...c.State, Paused: st.status === 'paused', Status: st.status, Pid: st.pid };
          lc.health.start(c); // as Docker's restore: probes resume, status back to starting
          await engine.containers.save(c);
          lc.watchExit(c.Id);
          return;
        }
        const exit = (await engine.runtime.readExit(c.Id)) ?? { exitCode: 255, oomKilled: false, finishedAt: new Date().toISOString() };
        await lc.handleExit(c.Id, exit, true);
        return;
      }
      if (c.State.Restarting) {
        c.State = { ...c.State, Restarting: false, Status: 'exited' };
        await engine.containers.save(c);
      }
      if (c.State.Status === 'exited' || c.State.Status === 'created') {
        await releaseContainer(engine, c.Id);
      }
      if (c.State.Status === 'exited' && shouldRestart(c, c.State.ExitCode, true) && c.HostConfig.RestartPolicy.Name !== 'on-failure') {
        await lc.startUnlocked(c).catch((err) => {
          process.stderr.write(`tug: restarting ${c.Id.slice(0, 12)} on daemon start: ${String(err)}\n`);
        });
        if (c.State.Running) live.push(c.Id);
      }
    });
  }));
  // Pods' pinned namespaces hold default-bridge addresses too (pod-sandboxes.ts).
  live.push(...(await engine.pods.recover()));
  await engine.network.recover(live).catch((err) => process.stderr.write(`tug: network recovery: ${String(err)}\n`));
  await engine.networks.recover(new Set(live)).catch((err) => process.stderr.write(`tug: networks recovery: ${String(err)}\n`));
}
