// depends_on conditions, as docker compose waits for them before starting a
// service: service_started (its containers were started), service_healthy
// (each container's healthcheck reports healthy; unhealthy or an exit fails
// the wait), service_completed_successfully (each container exited 0).
// Health is read from container inspect, which the engine keeps current.
import { conflict, invalid } from '../../errdefs.js';
import type { DependsOnConfig } from '../model/project-types.js';
import type { Runtime } from './runtime.js';

const POLL_MS = 250;

export interface DependencyContainer {
  id: string;
  name: string;
}

export async function waitForCondition(rt: Runtime, dep: string, cond: DependsOnConfig, containers: DependencyContainer[]): Promise<void> {
  if (cond.condition === 'service_started') return;
  await Promise.all(
    containers.map(async (c) => {
      rt.progress.event({ kind: 'Container', name: c.name, status: 'Waiting', done: false });
      try {
        if (cond.condition === 'service_healthy') await waitHealthy(rt, c);
        else {
          const code = await rt.engine.waitContainer(c.id);
          if (code !== 0) throw conflict(`service "${dep}" didn't complete successfully: exit ${code}`);
        }
      } catch (e) {
        rt.progress.event({ kind: 'Container', name: c.name, status: 'Error', done: true, error: true });
        throw e;
      }
      rt.progress.event({ kind: 'Container', name: c.name, status: cond.condition === 'service_healthy' ? 'Healthy' : 'Exited', done: true });
    }),
  );
}

/** Resolves once the container reports healthy; rejects when it is unhealthy, has no healthcheck, or stops. */
export async function waitHealthy(rt: Runtime, c: DependencyContainer): Promise<void> {
  for (;;) {
    const info = await rt.engine.inspectContainer(c.id);
    const health = info.State.Health?.Status;
    if (!health) throw invalid(`dependency failed to start: container ${c.name} has no healthcheck configured`);
    if (health === 'healthy') return;
    if (health === 'unhealthy') throw conflict(`dependency failed to start: container ${c.name} is unhealthy`);
    if (!info.State.Running) throw conflict(`dependency failed to start: container ${c.name} exited (${info.State.ExitCode})`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** --wait: running, and healthy when it has a healthcheck; a container that exited 0 and is not restarted counts as done. */
export async function waitRunningOrHealthy(rt: Runtime, c: DependencyContainer): Promise<void> {
  for (;;) {
    const info = await rt.engine.inspectContainer(c.id);
    const health = info.State.Health?.Status;
    if (!info.State.Running) {
      if (info.State.Status === 'exited' && info.State.ExitCode === 0) return;
      if (info.State.Status !== 'restarting' && info.State.Status !== 'created') throw conflict(`container ${c.name} exited (${info.State.ExitCode})`);
    } else if (!health || health === 'healthy') return;
    else if (health === 'unhealthy') throw conflict(`container ${c.name} is unhealthy`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
