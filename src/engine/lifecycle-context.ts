// What the pieces of a container's life (start-container, exit-handler,
// remove-container, recovery, lifecycle) get from their owner, the
// ContainerService: the engine, the lifecycle state, and the steps that call
// each other (a start watches for the exit, an exit restarts or removes).
// Passed in rather than imported, so those files do not import each other.
import type { Engine } from './engine.js';
import type { ContainerRecord } from './container-record.js';
import type { ExitInfo } from '../runtime/runtime.js';
import type { ExitWaiters, PendingAttaches, RestartTimers } from './lifecycle-state.js';

/** Healthcheck probes (health-monitor.ts), as the lifecycle drives them. */
export interface HealthProbes {
  /** At every start, with the lock held, before the record is saved. */
  start(c: ContainerRecord): void;
  /** At exit or removal, before the record is saved. */
  stop(c: ContainerRecord): void;
}

export interface Lifecycle {
  readonly engine: Engine;
  readonly waiters: ExitWaiters;
  readonly attaches: PendingAttaches;
  readonly restarts: RestartTimers;
  readonly health: HealthProbes;
  /** Starts a container whose lock the caller holds. */
  startUnlocked(c: ContainerRecord): Promise<void>;
  /** Removes a stopped container whose lock the caller holds. */
  removeUnlocked(c: ContainerRecord, opts: { removeVolumes: boolean }): Promise<void>;
  /** Waits for the runtime to report the exit, then handles it under the lock. */
  watchExit(id: string): void;
  /** Records an exit and acts on it (--rm, restart policy); the caller holds the lock. */
  handleExit(id: string, exit: ExitInfo, daemonStarting?: boolean): Promise<void>;
}
