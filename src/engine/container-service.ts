// The engine's door for containers: one typed service per engine that the
// Docker API, the builder's RUN steps and the node agent's pods all go
// through. It is the one owner of what a container's life keeps in memory:
// exit waiters, attaches parked until a start, restart timers and back-off,
// exec sessions (one ExecService, so an exec started for a pod shows in the
// node's Docker API) and healthcheck probes. The verbs themselves live in
// lifecycle.ts, start-container.ts, exit-handler.ts and remove-container.ts;
// they reach each other only through the Lifecycle this service wires up.
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { conflict, invalid } from '../errdefs.js';
import { readLogs, type LogEntry } from '../runtime/logs/k8s-file.js';
import type { AttachStreams } from '../runtime/runtime.js';
import type { Engine } from './engine.js';
import type { ContainerSpec, ContainerUpdate } from './container-spec.js';
import type { Lifecycle } from './lifecycle-context.js';
import { ExitWaiters, PendingAttaches, RestartTimers, type AttachTarget, type ExitResult } from './lifecycle-state.js';
import {
  createContainer, killContainer, pauseContainer, removeContainer, renameContainer, restartContainer,
  startContainer, stopContainer, unpauseContainer, updateContainer, waitContainer,
} from './lifecycle.js';
import { startContainerUnlocked } from './start-container.js';
import { removeContainerUnlocked } from './remove-container.js';
import { handleExit, watchExit } from './exit-handler.js';
import { recoverContainers } from './recovery.js';
import { ExecService } from './exec-service.js';
import { dirSize } from './volume-store.js';
import { HealthMonitor } from './health-monitor.js';
import { statsSamples, type StatsOptions } from './stats.js';
import { changesOf } from './container-changes.js';
import { prunable, type PruneFilters } from './container-prune.js';
import { mountHolding, withContainerPath, withOverlayRoot } from './container-root.js';
import { archiveContainerPath, archiveSpoolDir, exportRootfs, extractIntoContainer, statContainerPath, type ContainerPathStat } from './container-archive.js';
import { removeLink } from './links.js';

export type { AttachTarget, ExitResult };

export interface StopOptions {
  /** Seconds before SIGKILL; the container's StopTimeout (or 10) when absent, forever when negative. */
  timeout?: number;
  signal?: string;
}

export interface LogsOptions {
  follow: boolean;
  since?: Date;
  until?: Date;
  tail?: number;
  signal?: AbortSignal;
}

export interface PutArchiveOptions {
  /** Keep the archive's owners (docker cp -a); otherwise files belong to root. */
  copyUIDGID: boolean;
  noOverwriteDirNonDir: boolean;
}

export class ContainerService {
  /** docker exec, kubectl exec, healthcheck probes and pod probes: one table of exec sessions. */
  readonly execs: ExecService;
  private readonly health: HealthMonitor;
  private readonly lc: Lifecycle;

  constructor(readonly engine: Engine) {
    this.execs = new ExecService(engine);
    this.health = new HealthMonitor(engine, this.execs);
    const lc: Lifecycle = {
      engine,
      waiters: new ExitWaiters(),
      attaches: new PendingAttaches(),
      restarts: new RestartTimers(),
      health: this.health,
      startUnlocked: (c) => startContainerUnlocked(lc, c),
      removeUnlocked: (c, opts) => removeContainerUnlocked(lc, c, opts),
      watchExit: (id) => watchExit(lc, id),
      handleExit: (id, exit, daemonStarting) => handleExit(lc, id, exit, daemonStarting),
    };
    this.lc = lc;
  }

  /** After a daemon restart: reconcile every record with the runtime (recovery.ts). Before serving. */
  recover(): Promise<void> {
    return recoverContainers(this.lc);
  }

  create(spec: ContainerSpec): Promise<{ Id: string; Warnings: string[] }> {
    return createContainer(this.engine, spec);
  }

  start(ref: string): Promise<void> {
    return startContainer(this.lc, ref);
  }

  /** Sends the stop signal, waits, then SIGKILL. */
  stop(ref: string, opts: StopOptions = {}): Promise<void> {
    return stopContainer(this.lc, ref, opts);
  }

  kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    return killContainer(this.lc, ref, signal);
  }

  restart(ref: string, opts: StopOptions = {}): Promise<void> {
    return restartContainer(this.lc, ref, opts);
  }

  pause(ref: string): Promise<void> {
    return pauseContainer(this.engine, ref);
  }

  unpause(ref: string): Promise<void> {
    return unpauseContainer(this.engine, ref);
  }

  remove(ref: string, opts: { force: boolean; removeVolumes: boolean }): Promise<void> {
    return removeContainer(this.lc, ref, opts);
  }

  /** Drops the legacy link <alias> from container <parentRef> (docker rm --link). */
  removeLink(parentRef: string, alias: string): Promise<void> {
    return removeLink(this.engine, parentRef, alias);
  }

  /** condition: 'not-running' (default), 'next-exit' or 'removed'. Resolves when it holds. */
  wait(ref: string, condition = ''): Promise<ExitResult> {
    return waitContainer(this.lc, ref, condition);
  }

  rename(ref: string, newName: string): Promise<void> {
    return renameContainer(this.engine, ref, newName);
  }

  update(ref: string, update: ContainerUpdate): Promise<{ Warnings: string[] }> {
    return updateContainer(this.engine, ref, update);
  }

  async resize(ref: string, cols: number, rows: number): Promise<void> {
    const c = this.engine.containers.get(ref);
    if (!c.State.Running) throw conflict(`Container ${c.Id} is not running`);
    await this.engine.runtime.resize(c.Id, cols, rows);
  }

  async top(ref: string, psArgs?: string): Promise<Awaited<ReturnType<Engine['runtime']['top']>>> {
    const c = this.engine.containers.get(ref);
    if (!c.State.Running) throw conflict(`Container ${c.Id} is not running`);
    return await this.engine.runtime.top(c.Id, psArgs);
  }

  changes(ref: string): ReturnType<typeof changesOf> {
    return changesOf(this.engine, ref);
  }

  /** The exec sessions of a container, for inspect's ExecIDs. */
  execIds(containerId: string): string[] {
    return this.execs.forContainer(containerId);
  }

  /** How many containers have healthcheck probes scheduled. */
  get probing(): number {
    return this.health.size;
  }

  /**
   * Connects target to the container's stdio: at once when it runs; right
   * after runtime create when it is about to start (docker run attaches
   * before it starts, so early output is not lost); otherwise target is
   * aborted. Returns how to take back a parked attach (its client went away).
   */
  async attach(ref: string, opts: { stdin: boolean }, target: AttachTarget): Promise<() => void> {
    const c = this.engine.containers.get(ref);
    if (c.State.Running) {
      target.connect(await this.engine.runtime.attach(c.Id, { stdin: opts.stdin }));
      return () => undefined;
    }
    if (c.State.Status === 'created' || c.State.Restarting || c.State.Status === 'exited') return this.lc.attaches.park(c.Id, opts.stdin, target);
    target.abort();
    return () => undefined;
  }

  /** Connects to a running container's stdio now (kubectl attach): no parking, the runtime's error if it has none. */
  async attachNow(ref: string, opts: { stdin: boolean }): Promise<AttachStreams> {
    const c = this.engine.containers.get(ref);
    return await this.engine.runtime.attach(c.Id, { stdin: opts.stdin });
  }

  /** The container's log, as written; with follow, until it stops or signal aborts. */
  logs(ref: string, opts: LogsOptions): AsyncIterable<LogEntry> {
    const c = this.engine.containers.get(ref);
    return readLogs(c.LogPath, { ...opts, stillRunning: () => this.engine.containers.find(c.Id)?.State.Running ?? false });
  }

  /** docker stats samples (stats.ts); bad options and an unknown container throw before the first. */
  stats(ref: string, opts: StatsOptions, signal: AbortSignal): AsyncGenerator<Record<string, unknown>> {
    return statsSamples(this.engine, ref, opts, signal);
  }

  /**
   * docker cp from a container: the path's stat, and its tar when fn asks for
   * it. fn runs while the container's root is held (a stopped container's
   * overlay stays mounted until fn returns).
   */
  async readArchive<T>(ref: string, path: string, fn: (stat: ContainerPathStat, tar: () => Promise<Readable>) => Promise<T>): Promise<T> {
    const c = this.engine.containers.get(ref);
    if (!path) throw invalid('path is required');
    return await withContainerPath(this.engine, c, path, async (root, inner) => {
      const { stat } = await statContainerPath(root, inner, path);
      return await fn(stat, () => archiveContainerPath(root, inner, path));
    });
  }

  /** docker cp into a container: extracts the tar into the directory at path, all or nothing. */
  async putArchive(ref: string, path: string, input: NodeJS.ReadableStream, opts: PutArchiveOptions): Promise<void> {
    const c = this.engine.containers.get(ref);
    if (!path) throw invalid('path is required');
    if (c.HostConfig.ReadonlyRootfs) throw invalid('container rootfs is marked read-only');
    if (mountHolding(c, path)?.mount.RW === false) throw invalid('mounted volume is marked read-only');
    await withContainerPath(this.engine, c, path, (root, inner) =>
      extractIntoContainer(root, inner, input, { ...opts, spoolDir: archiveSpoolDir(this.engine.root) }, path));
  }

  /** docker export: the container's filesystem as one tar, handed to fn while the root is held. */
  async exportFs<T>(ref: string, fn: (tar: Readable) => Promise<T>): Promise<T> {
    const c = this.engine.containers.get(ref);
    return await withOverlayRoot(this.engine, c, (root) => fn(exportRootfs(root)));
  }

  /** docker container prune: removes the stopped containers the filters match. */
  async prune(filters: PruneFilters): Promise<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }> {
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const c of this.engine.containers.all()) {
      if (!prunable(c, filters)) continue;
      // What the container wrote (its overlay's upper dir) is the space its removal frees, as dockerd counts it.
      const rw = await dirSize(join(this.engine.root, 'containers-fs', c.Id, 'upper'));
      await this.remove(c.Id, { force: false, removeVolumes: false });
      deleted.push(c.Id);
      reclaimed += rw;
    }
    return { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
  }
}
