// The container verbs behind the ContainerService: create, start, stop, kill,
// restart, pause, unpause, remove, wait, rename, update. Each takes the
// container's lock. Callers go through container-service.ts.
import { join } from 'node:path';
import { conflict, invalid, TugError } from '../errdefs.js';
import { validateResources, type ResourceSpec } from '../runtime/spec/container-spec.js';
import { resourcesToOci } from '../runtime/cgroups/index.js';
import type { Engine } from './engine.js';
import type { ContainerRecord, HostConfig } from './container-record.js';
import type { ContainerSpec, ContainerUpdate } from './container-spec.js';
import type { Lifecycle } from './lifecycle-context.js';
import type { ExitResult } from './lifecycle-state.js';
import { buildRecord, parseRestartPolicy, validateName, validateSignalName } from './create-config.js';
import { resolveMounts } from './mounts.js';
import { resolveCreateNetworks } from './container-networking.js';
import { resolveJoinedModes } from './shared-namespaces.js';
import { followRename, linkTargetsOf, storedLinks } from './links.js';
import { copiedNotShadowed, volumesFromMounts, withoutReplacedAnonymous } from './volumes-from.js';

const notModified = (msg: string): TugError => new TugError('not-modified', msg);

function resourcesOf(hc: Partial<HostConfig>): ResourceSpec {
  return {
    memory: hc.Memory || undefined,
    memorySwap: hc.MemorySwap || undefined,
    memoryReservation: hc.MemoryReservation || undefined,
    nanoCpus: hc.NanoCpus || undefined,
    cpuShares: hc.CpuShares || undefined,
    cpuPeriod: hc.CpuPeriod || undefined,
    cpuQuota: hc.CpuQuota || undefined,
    cpusetCpus: hc.CpusetCpus || undefined,
    pidsLimit: hc.PidsLimit && hc.PidsLimit > 0 ? hc.PidsLimit : undefined,
  };
}

export async function createContainer(engine: Engine, spec: ContainerSpec): Promise<{ Id: string; Warnings: string[] }> {
  if (!spec.image) throw invalid('No image specified');
  const askedName = spec.name ? validateName(spec.name) : undefined;
  if (askedName) {
    const existing = engine.containers.byName(askedName);
    if (existing) {
      throw conflict(`Conflict. The container name "${askedName}" is already in use by container "${existing.Id}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
  }
  const image = await engine.images.get(spec.image);
  // User-defined networks by name or id, and the endpoints on them (container-networking.ts).
  const nets = resolveCreateNetworks(engine, spec.network);
  const netSpec = { ...spec, network: { ...spec.network, mode: nets.mode } };
  const { record, mounts } = buildRecord({ name: askedName ?? '', spec: netSpec, image: { id: image.id, config: image.config.config ?? {} }, imageRef: spec.image, userNetwork: nets.endpoints ? nets.mode : undefined });
  if (nets.endpoints) record.NetworkSettings.Networks = nets.endpoints;
  if (nets.defaultEndpoint) record.NetworkSettings.DefaultEndpoint = nets.defaultEndpoint;
  resolveJoinedModes(engine, record.HostConfig);
  validateResources(resourcesOf(record.HostConfig));
  const apiMountTargets = new Set((spec.mounts?.mounts ?? []).map((m) => m.target));
  // Volumes before the one save of the record: a daemon killed mid-create must
  // not leave a record on disk that lacks its mounts (it would run without them).
  const copied = volumesFromMounts(engine, record.HostConfig.VolumesFrom);
  const links = linkTargetsOf(engine, record.HostConfig.Links);
  const ownMounts = await resolveMounts(engine.volumes, withoutReplacedAnonymous(mounts, copied), apiMountTargets);
  const resolvedMounts = [...ownMounts, ...copiedNotShadowed(ownMounts, copied)];
  // Names are claimed synchronously below, after the last await that can fail on input.
  // A generated name is drawn here too: drawn before those awaits, two
  // concurrent creates could draw the same one and the later would fail.
  if (askedName && engine.containers.byName(askedName)) throw conflict(`Conflict. The container name "${askedName}" is already in use.`);
  const name = askedName ?? `/${randomName(engine)}`;
  const rec: ContainerRecord = {
    ...record,
    Name: name,
    HostConfig: { ...record.HostConfig, Links: storedLinks(links, name) },
    Mounts: resolvedMounts,
    LogPath: join(engine.containerDir(record.Id), `${record.Id}-json.log`),
    ResolvConfPath: '',
    HostnamePath: '',
    HostsPath: '',
    Tug: { cgroupsPath: engine.cgroupsPathFor(record.Id), manuallyStopped: false },
  };
  await engine.containers.save(rec);
  engine.emitContainer(rec, 'create');
  return { Id: rec.Id, Warnings: [] };
}

export async function startContainer(lc: Lifecycle, ref: string): Promise<void> {
  const { engine } = lc;
  const c = engine.containers.get(ref);
  await engine.lock.run(c.Id, async () => {
    if (c.State.Paused) throw conflict('cannot start a paused container, try unpause instead');
    if (c.State.Running) throw notModified('container already started');
    c.Tug.manuallyStopped = false;
    await lc.startUnlocked(c);
  });
}

async function waitForExit(lc: Lifecycle, id: string, timeoutMs: number): Promise<boolean> {
  const c = lc.engine.containers.find(id);
  if (!c || !c.State.Running) return true;
  return await new Promise<boolean>((resolve) => {
    const t = timeoutMs >= 0 ? setTimeout(() => resolve(false), timeoutMs) : undefined;
    lc.waiters.add(id, {
      condition: 'next-exit',
      resolve: () => {
        if (t) clearTimeout(t);
        resolve(true);
      },
    });
  });
}

/** Sends the stop signal, waits, then SIGKILL. Caller must not hold the lock (the exit handler needs it). */
export async function stopContainer(lc: Lifecycle, ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
  const { engine } = lc;
  const c = engine.containers.get(ref);
  if (opts.signal) validateSignalName(opts.signal);
  if (c.State.Restarting) {
    // Between runs of a restart policy: cancel the pending restart. Its timer
    // may already have fired with the start under way, so settle under the
    // lock; if that start won the race, stop what it started below.
    lc.restarts.cancel(c.Id);
    c.Tug.manuallyStopped = true;
    await engine.lock.run(c.Id, async () => {
      if (!c.State.Running) {
        c.State = { ...c.State, Status: 'exited', Restarting: false };
        await engine.containers.save(c);
      }
    });
    if (!c.State.Running) return;
  }
  if (!c.State.Running) throw notModified('container already stopped');
  c.Tug.manuallyStopped = true;
  await engine.containers.save(c);
  if (c.State.Paused) await engine.runtime.resume(c.Id).catch(() => undefined);
  const timeoutS = opts.timeout ?? c.Config.StopTimeout ?? 10;
  const signal = opts.signal || c.Config.StopSignal || 'SIGTERM';
  engine.emitContainer(c, 'kill', { signal: signalNumberText(signal) });
  const exited = waitForExit(lc, c.Id, timeoutS < 0 ? -1 : timeoutS * 1000);
  await engine.runtime.kill(c.Id, signal).catch(() => undefined);
  if (!(await exited)) {
    engine.emitContainer(c, 'kill', { signal: '9' });
    const killed = waitForExit(lc, c.Id, 30_000);
    await engine.runtime.kill(c.Id, 'SIGKILL').catch(() => undefined);
    await killed;
  }
  engine.emitContainer(c, 'stop');
}

function signalNumberText(sig: string): string {
  const map: Record<string, string> = { HUP: '1', INT: '2', QUIT: '3', KILL: '9', USR1: '10', USR2: '12', TERM: '15' };
  const n = Number(sig);
  if (Number.isInteger(n)) return String(n);
  return map[sig.toUpperCase().replace(/^SIG/, '')] ?? sig;
}

function isSigkill(signal: string): boolean {
  const s = signal.toUpperCase().replace(/^SIG/, '');
  return s === 'KILL' || s === '9';
}

/**
 * Sends signal. For SIGKILL it returns only once the exit is handled, as
 * dockerd does: a client that inspects, lists or prunes right after a kill
 * must see the container stopped.
 */
export async function killContainer(lc: Lifecycle, ref: string, signal = 'SIGKILL'): Promise<void> {
  const { engine } = lc;
  const c = engine.containers.get(ref);
  validateSignalName(signal);
  if (!c.State.Running) throw conflict(`Cannot kill container: ${ref}: Container ${c.Id} is not running`);
  c.Tug.manuallyStopped = true;
  await engine.containers.save(c);
  engine.emitContainer(c, 'kill', { signal: signalNumberText(signal) });
  const sigkill = isSigkill(signal);
  if (c.State.Paused && sigkill) await engine.runtime.resume(c.Id).catch(() => undefined);
  // Registered before the signal goes out, so an exit handled at once is not missed.
  const exited = sigkill ? waitForExit(lc, c.Id, 30_000) : undefined;
  await engine.runtime.kill(c.Id, signal);
  if (exited && !(await exited)) throw new TugError('unavailable', `container ${c.Id} did not exit within 30s of SIGKILL`);
}

export async function restartContainer(lc: Lifecycle, ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
  const { engine } = lc;
  const c = engine.containers.get(ref);
  if (c.State.Running) await stopContainer(lc, ref, opts);
  await engine.lock.run(c.Id, async () => {
    const cur = engine.containers.get(c.Id);
    if (cur.State.Running) return;
    cur.Tug.manuallyStopped = false;
    cur.State = { ...cur.State, Restarting: false };
    await lc.startUnlocked(cur);
  });
  engine.emitContainer(c, 'restart');
}

export async function pauseContainer(engine: Engine, ref: string): Promise<void> {
  const c = engine.containers.get(ref);
  await engine.lock.run(c.Id, async () => {
    if (!c.State.Running) throw conflict(`Container ${c.Id} is not running`);
    if (c.State.Paused) throw conflict(`Container ${c.Id} is already paused`);
    await engine.runtime.pause(c.Id);
    c.State = { ...c.State, Status: 'paused', Paused: true };
    await engine.containers.save(c);
    engine.emitContainer(c, 'pause');
  });
}

export async function unpauseContainer(engine: Engine, ref: string): Promise<void> {
  const c = engine.containers.get(ref);
  await engine.lock.run(c.Id, async () => {
    if (!c.State.Paused) throw conflict(`Container ${c.Id} is not paused`);
    await engine.runtime.resume(c.Id);
    c.State = { ...c.State, Status: 'running', Paused: false };
    await engine.containers.save(c);
    engine.emitContainer(c, 'unpause');
  });
}

export async function removeContainer(lc: Lifecycle, ref: string, opts: { force: boolean; removeVolumes: boolean }): Promise<void> {
  const { engine } = lc;
  const c = engine.containers.get(ref);
  if (c.State.Restarting) {
    // Between runs of its restart policy it counts as running, as in dockerd.
    if (!opts.force) throw conflict(`cannot remove container "${c.Name}": container is restarting: stop the container before removing or force remove`);
    lc.restarts.cancel(c.Id);
    c.Tug.manuallyStopped = true;
    // A restart whose timer already fired holds the lock: let it finish, then kill what it started below.
    await engine.lock.run(c.Id, () => Promise.resolve());
  }
  if (c.State.Running || c.State.Paused) {
    if (!opts.force) {
      const what = c.State.Paused ? 'paused' : 'running';
      throw conflict(`cannot remove container "${c.Name}": container is ${what}: stop the container before removing or force remove`);
    }
    c.Tug.manuallyStopped = true;
    c.HostConfig.AutoRemove = false; // we remove it ourselves below
    const exited = waitForExit(lc, c.Id, 30_000);
    if (c.State.Paused) await engine.runtime.resume(c.Id).catch(() => undefined);
    await engine.runtime.kill(c.Id, 'SIGKILL').catch(() => undefined);
    if (!(await exited)) {
      // The monitor is gone (killed by hand?): treat the container as exited.
      await engine.lock.run(c.Id, () => lc.handleExit(c.Id, { exitCode: 137, oomKilled: false, finishedAt: new Date().toISOString() }));
    }
  }
  await engine.lock.run(c.Id, async () => {
    if (!engine.containers.find(c.Id)) return;
    await lc.removeUnlocked(c, { removeVolumes: opts.removeVolumes });
  });
}

export async function waitContainer(lc: Lifecycle, ref: string, condition: string): Promise<ExitResult> {
  const c = lc.engine.containers.get(ref);
  const cond = condition || 'not-running';
  if (!['not-running', 'next-exit', 'removed'].includes(cond)) throw invalid(`invalid condition: "${cond}"`);
  if (cond === 'not-running' && !c.State.Running && !c.State.Restarting) return { StatusCode: c.State.ExitCode, Error: null };
  return await new Promise((resolve) => lc.waiters.add(c.Id, { condition: cond === 'removed' ? 'removed' : 'next-exit', resolve }));
}

export async function renameContainer(engine: Engine, ref: string, newName: string): Promise<void> {
  const c = engine.containers.get(ref);
  if (!newName) throw invalid('Neither old nor new names may be empty');
  const full = validateName(newName);
  const other = engine.containers.byName(full);
  if (other && other.Id !== c.Id) throw conflict(`Conflict. The container name "${full}" is already in use by container "${other.Id}". You have to remove (or rename) that container to be able to reuse that name.`);
  const old = c.Name;
  c.Name = full;
  await engine.containers.save(c);
  for (const linked of followRename(engine, old, full)) await engine.containers.save(linked);
  engine.emitContainer(c, 'rename', { oldName: old });
}

export async function updateContainer(engine: Engine, ref: string, update: ContainerUpdate): Promise<{ Warnings: string[] }> {
  const c = engine.containers.get(ref);
  return await engine.lock.run(c.Id, async () => {
    const next: HostConfig = { ...c.HostConfig };
    const r = update.resources ?? {};
    if (r.memory !== undefined) next.Memory = r.memory;
    if (r.memorySwap !== undefined) next.MemorySwap = r.memorySwap;
    if (r.memoryReservation !== undefined) next.MemoryReservation = r.memoryReservation;
    if (r.nanoCpus !== undefined) next.NanoCpus = r.nanoCpus;
    if (r.cpuShares !== undefined) next.CpuShares = r.cpuShares;
    if (r.cpuPeriod !== undefined) next.CpuPeriod = r.cpuPeriod;
    if (r.cpuQuota !== undefined) next.CpuQuota = r.cpuQuota;
    if (r.cpusetCpus !== undefined) next.CpusetCpus = r.cpusetCpus;
    if (r.pidsLimit !== undefined) next.PidsLimit = r.pidsLimit;
    if (update.restartPolicy) next.RestartPolicy = parseRestartPolicy(update.restartPolicy, next.AutoRemove);
    if (next.Memory && next.MemorySwap && next.MemorySwap > 0 && next.MemorySwap < next.Memory) {
      throw invalid('Minimum memoryswap limit should be larger than memory limit, see usage');
    }
    validateResources(resourcesOf(next));
    if (c.State.Running) await engine.runtime.update(c.Id, resourcesToOci(resourcesOf(next)));
    c.HostConfig = next;
    await engine.containers.save(c);
    engine.emitContainer(c, 'update');
    return { Warnings: [] };
  });
}

const adjectives = ['admiring', 'brave', 'clever', 'eager', 'focused', 'gentle', 'happy', 'jolly', 'keen', 'lucid', 'nifty', 'quirky', 'serene', 'vibrant', 'zealous'];
const nouns = ['turing', 'hopper', 'lovelace', 'curie', 'noether', 'ritchie', 'thompson', 'torvalds', 'knuth', 'dijkstra', 'liskov', 'hamilton', 'shannon', 'babbage', 'euler'];

function randomName(engine: Engine): string {
  for (let i = 0; ; i++) {
    const a = adjectives[Math.floor(Math.random() * adjectives.length)]!;
    const n = nouns[Math.floor(Math.random() * nouns.length)]!;
    const name = i > 10 ? `${a}_${n}${i}` : `${a}_${n}`;
    if (!engine.containers.byName(`/${name}`)) return name;
  }
}

