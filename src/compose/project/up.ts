// `compose up` (and `create`): converge the engine on the project, as docker
// compose does. Networks and volumes first, then images (build or pull),
// then each service in dependency order once its depends_on conditions hold:
// containers whose config hash (or image) changed are recreated, the others
// kept (started if stopped), the count brought to the service's scale by
// container number, the highest numbers removed first. A service that fails
// loses only the containers this run made for it; what already ran keeps
// running, and a network this run made that nothing uses is removed again.
import { invalid, messageOf, TugError, unavailable } from '../../errdefs.js';
import type { ComposeProject, ServiceConfig } from '../model/project-types.js';
import { createServiceContainer } from './create-container.js';
import { waitForCondition, waitRunningOrHealthy } from './dependency-wait.js';
import { inDependencyOrder, withDependencies } from './graph.js';
import { CONFIG_HASH, configHash, containerName } from './labels.js';
import { ensureNetworks, ensureVolumes, networksUsed, removeUnusedNetworks, volumesUsed } from './project-resources.js';
import { orphansOf, projectContainers, type ProjectContainer } from './project-state.js';
import { step } from './progress.js';
import type { Runtime } from './runtime.js';
import { ensureImages, imageOf, type ImageOptions } from './service-images.js';
import { removeContainers } from './lifecycle.js';

export interface UpOptions {
  /** Services named on the command line; empty means all. */
  services: string[];
  noDeps?: boolean;
  forceRecreate?: boolean;
  noRecreate?: boolean;
  /** --scale SERVICE=N */
  scale?: Record<string, number>;
  removeOrphans?: boolean;
  /** Create only (`compose create`, `up --no-start`). */
  noStart?: boolean;
  /** --wait: return once every container runs (and is healthy, when it has a healthcheck). */
  wait?: boolean;
  /** --wait-timeout in seconds: --wait fails after this long. */
  waitTimeout?: number;
  images?: ImageOptions;
  /** Seconds to wait when stopping a container to recreate or remove it. */
  timeout?: number;
}

/** A container of the project after up, as the attached mode follows it. */
export interface UpContainer {
  id: string;
  name: string;
  service: string;
  /** It was created or (re)started by this run. */
  fresh: boolean;
  /** It replaced an older container of the same number (recreate). */
  replaced?: boolean;
}

/** The services `up` works on: the named ones and, unless --no-deps, what they depend on. */
export function selectServices(project: ComposeProject, names: string[], noDeps = false): string[] {
  for (const n of names) {
    if (!project.services[n]) {
      throw invalid(project.disabled_services[n] ? `service "${n}" is not enabled by the active profiles` : `no such service: ${n}`);
    }
  }
  if (!names.length) return Object.keys(project.services);
  return noDeps ? [...names] : withDependencies(project.services, names);
}

export async function up(rt: Runtime, project: ComposeProject, opts: UpOptions): Promise<UpContainer[]> {
  const targets = selectServices(project, opts.services, opts.noDeps);
  for (const [name, n] of Object.entries(opts.scale ?? {})) {
    if (!project.services[name]) throw invalid(`no such service: ${name}`);
    if (n > 1 && project.services[name]!.container_name) throw invalid(`service "${name}" has container_name set, so it cannot be scaled to ${n}`);
  }
  const existing = await projectContainers(rt.engine, project.name);
  await handleOrphans(rt, project, existing, opts.removeOrphans ?? false, opts.timeout);

  const createdNetworks: string[] = [];
  const result: UpContainer[] = [];
  // Service → its containers' ids, filled as services converge (network_mode service:X reads it).
  const live = new Map<string, Array<{ id: string; name: string }>>();
  const replaced = new Set<string>(); // services with a container recreated by this run
  for (const c of existing) if (!c.oneoff) live.set(c.service, [...(live.get(c.service) ?? []), { id: c.id, name: c.name }]);
  try {
    createdNetworks.push(...(await ensureNetworks(rt.engine, project, networksUsed(project, targets), rt.progress)));
    await ensureVolumes(rt.engine, project, volumesUsed(project, targets), rt.progress);
    const imageIds = await ensureImages(rt.engine, project, targets, opts.images ?? {}, rt.progress, rt.auth);
    await inDependencyOrder(project.services, targets, 'up', async (name) => {
      const svc = project.services[name]!;
      if (!opts.noStart) {
        for (const [dep, cond] of Object.entries(svc.depends_on)) {
          if (!targets.includes(dep)) continue;
          await waitForCondition(rt, dep, cond, live.get(dep) ?? []);
        }
      }
      const mine = existing.filter((c) => c.service === name && !c.oneoff);
      // depends_on restart: true — a dependency replaced in this run restarts this service.
      const depReplaced = Object.entries(svc.depends_on).some(([dep, cond]) => cond.restart && replaced.has(dep));
      const conv = await convergeService(rt, project, svc, mine, imageIds.get(name), { ...opts, restartRunning: depReplaced }, live);
      if (conv.some((c) => c.replaced)) replaced.add(name);
      live.set(name, conv.map((c) => ({ id: c.id, name: c.name })));
      result.push(...conv);
    });
  } catch (e) {
    await removeUnusedNetworks(rt.engine, createdNetworks);
    throw e;
  }
  if (opts.wait && !opts.noStart) {
    const all = Promise.all(result.map((c) => step(rt.progress, 'Container', c.name, 'Waiting', 'Healthy', () => waitRunningOrHealthy(rt, c))));
    if (opts.waitTimeout === undefined) await all;
    else {
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(unavailable(`application not healthy after ${opts.waitTimeout}s`)), opts.waitTimeout! * 1000);
      });
      try {
        await Promise.race([all, expired]);
      } finally {
        clearTimeout(timer);
      }
    }
  }
  return result;
}

async function handleOrphans(rt: Runtime, project: ComposeProject, existing: ProjectContainer[], remove: boolean, timeout?: number): Promise<void> {
  const orphans = orphansOf(project, existing);
  if (!orphans.length) return;
  if (remove) await removeContainers(rt, orphans, { stop: true, timeout });
  else {
    rt.progress.warn(
      `Found orphan containers ([${orphans.map((o) => o.name).join(' ')}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`,
    );
  }
}

/** Brings one service to its scale and config; returns its containers. */
async function convergeService(
  rt: Runtime,
  project: ComposeProject,
  svc: ServiceConfig,
  mine: ProjectContainer[],
  imageId: string | undefined,
  opts: UpOptions & { restartRunning?: boolean },
  live: Map<string, Array<{ id: string; name: string }>>,
): Promise<UpContainer[]> {
  const hash = configHash(svc);
  const desired = opts.scale?.[svc.name] ?? svc.deploy?.replicas ?? svc.scale ?? 1;
  const outdated = (c: ProjectContainer): boolean =>
    !opts.noRecreate &&
    (opts.forceRecreate === true || c.summary.Labels[CONFIG_HASH] !== hash || (imageId !== undefined && c.summary.ImageID !== imageId) || sharesStaleNetwork(c));
  // network_mode service:X names X's container by id: once X is recreated, this one must follow.
  const sharesStaleNetwork = (c: ProjectContainer): boolean => {
    const m = svc.network_mode;
    if (!m?.startsWith('service:')) return false;
    const current = live.get(m.slice('service:'.length))?.[0]?.id;
    return current !== undefined && c.summary.HostConfig?.NetworkMode !== undefined && c.summary.HostConfig.NetworkMode !== `container:${current}`;
  };
  // Up-to-date containers are kept before outdated ones, lower numbers before higher.
  const ordered = [...mine].sort((a, b) => Number(outdated(a)) - Number(outdated(b)) || a.number - b.number);
  const keep = ordered.slice(0, desired).sort((a, b) => a.number - b.number);
  const excess = ordered.slice(desired);
  if (excess.length) await removeContainers(rt, excess.sort((a, b) => b.number - a.number), { stop: true, timeout: opts.timeout });

  const containerOf = (s: string): string => {
    const first = live.get(s)?.[0];
    if (!first) throw invalid(`service "${svc.name}" depends on service "${s}", which has no container`);
    return first.id;
  };
  const image = imageOf(project, svc);
  const made: string[] = []; // ids this run created for the service, removed again on failure
  const out: UpContainer[] = [];
  try {
    for (const c of keep) {
      if (outdated(c)) {
        const id = await recreate(rt, project, svc, c, { image, imageId, containerOf, timeout: opts.timeout }, made);
        const name = containerName(project.name, svc, c.number);
        if (!opts.noStart) await start(rt, svc, id, name);
        out.push({ id, name, service: svc.name, fresh: true, replaced: true });
      } else if (!opts.noStart && c.state === 'running' && opts.restartRunning) {
        await step(rt.progress, 'Container', c.name, 'Restarting', 'Restarted', () => rt.engine.restartContainer(c.id, opts.timeout));
        out.push({ id: c.id, name: c.name, service: svc.name, fresh: true });
      } else if (!opts.noStart && c.state !== 'running') {
        await start(rt, svc, c.id, c.name);
        out.push({ id: c.id, name: c.name, service: svc.name, fresh: true });
      } else {
        rt.progress.event({ kind: 'Container', name: c.name, status: c.state === 'running' ? 'Running' : 'Created', done: true });
        out.push({ id: c.id, name: c.name, service: svc.name, fresh: false });
      }
    }
    const used = new Set(keep.map((c) => c.number));
    for (let n = 1; out.length < desired; n++) {
      if (used.has(n)) continue;
      const name = containerName(project.name, svc, n);
      const id = await step(rt.progress, 'Container', name, 'Creating', 'Created', () =>
        createServiceContainer(rt, project, { service: svc, name, number: n, oneoff: false, image, imageId, containerOf }),
      );
      made.push(id);
      if (!opts.noStart) await start(rt, svc, id, name);
      out.push({ id, name, service: svc.name, fresh: true });
    }
  } catch (e) {
    for (const id of made) await rt.engine.removeContainer(id, { force: true, volumes: true }).catch(() => undefined);
    throw e;
  }
  return out;
}

async function start(rt: Runtime, svc: ServiceConfig, id: string, name: string): Promise<void> {
  try {
    await step(rt.progress, 'Container', name, 'Starting', 'Started', () => rt.engine.startContainer(id));
  } catch (e) {
    throw new TugError(e instanceof TugError ? e.kind : 'internal', `service "${svc.name}" failed to start container ${name}: ${messageOf(e)}`);
  }
}

/**
 * Replaces a container as compose does: stop it, move it aside under
 * <id12>_<name>, create the new one under the name (taking over its anonymous
 * volumes), then remove the old one. If the new one cannot be made, the old
 * one gets its name back and runs again if it ran.
 */
async function recreate(
  rt: Runtime,
  project: ComposeProject,
  svc: ServiceConfig,
  old: ProjectContainer,
  c: { image: string; imageId?: string; containerOf(s: string): string; timeout?: number },
  made: string[],
): Promise<string> {
  return step(rt.progress, 'Container', old.name, 'Recreate', 'Recreated', async () => {
    const info = await rt.engine.inspectContainer(old.id);
    const named = new Set(Object.values(project.volumes).map((v) => v.name));
    const inherited = (info.Mounts ?? [])
      .filter((m) => m.Type === 'volume' && m.Name && !named.has(m.Name))
      .map((m) => ({ name: m.Name!, target: m.Destination }));
    const wasRunning = info.State.Running;
    if (wasRunning) await rt.engine.stopContainer(old.id, c.timeout);
    await rt.engine.renameContainer(old.id, `${old.id.slice(0, 12)}_${old.name}`);
    let id: string;
    try {
      id = await createServiceContainer(rt, project, {
        service: svc,
        name: containerName(project.name, svc, old.number),
        number: old.number,
        oneoff: false,
        image: c.image,
        imageId: c.imageId,
        containerOf: c.containerOf,
        inheritedVolumes: inherited,
      });
    } catch (e) {
      await rt.engine.renameContainer(old.id, old.name).catch(() => undefined);
      if (wasRunning) await rt.engine.startContainer(old.id).catch(() => undefined);
      throw e;
    }
    made.push(id);
    await rt.engine.removeContainer(old.id, { force: true });
    return id;
  });
}
