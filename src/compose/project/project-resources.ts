// A project's networks and volumes: made when `up` needs them (labelled so
// docker-compose finds them too), refused when declared external and absent,
// removed by `down`. What this run created is recorded so a failed `up` can
// take back a network it made and nothing uses.
import { isKind, notFound } from '../../errdefs.js';
import type { ComposeProject, NetworkConfig } from '../model/project-types.js';
import type { EngineClient } from './engine-client.js';
import { NETWORK, networkLabels, PROJECT, VOLUME, volumeLabels } from './labels.js';
import { step, type Progress } from './progress.js';

/** The network keys the services use (a service without networks or network_mode is on `default`). */
export function networksUsed(project: ComposeProject, services: string[]): string[] {
  const keys = new Set<string>();
  for (const s of services) {
    const svc = project.services[s];
    if (!svc || svc.network_mode) continue;
    const nets = Object.keys(svc.networks);
    for (const k of nets.length ? nets : ['default']) keys.add(k);
  }
  return [...keys].sort();
}

/** The network config for a key; `default` exists even when the file does not declare it. */
export function networkConfig(project: ComposeProject, key: string): NetworkConfig {
  return (
    project.networks[key] ?? {
      name: `${project.name}_${key}`,
      external: false,
      driver_opts: {},
      internal: false,
      attachable: false,
      enable_ipv6: false,
      labels: {},
    }
  );
}

/** Makes the networks that do not exist yet; returns the names it created. */
export async function ensureNetworks(engine: EngineClient, project: ComposeProject, keys: string[], progress: Progress): Promise<string[]> {
  const created: string[] = [];
  // One at a time, as compose does: each takes the next free subnet from the engine's pools.
  try {
    for (const key of keys) await ensureNetwork(engine, project, key, progress, created);
  } catch (e) {
    await removeUnusedNetworks(engine, created);
    throw e;
  }
  return created;
}

async function ensureNetwork(engine: EngineClient, project: ComposeProject, key: string, progress: Progress, created: string[]): Promise<void> {
  const net = networkConfig(project, key);
  const found = await engine.inspectNetwork(net.name);
  if (net.external) {
    if (!found) throw notFound(`network ${net.name} declared as external, but could not be found`);
    return;
  }
  if (found) {
    const labels = found.Labels ?? {};
    if (labels[PROJECT] !== project.name || labels[NETWORK] !== key) {
      progress.warn(`a network with name ${net.name} exists but was not created for project "${project.name}".\nSet \`external: true\` to use an existing network`);
    }
    return;
  }
  await step(progress, 'Network', net.name, 'Creating', 'Created', () =>
    engine.createNetwork({
      Name: net.name,
      CheckDuplicate: true,
      Driver: net.driver ?? 'bridge',
      Options: net.driver_opts,
      Internal: net.internal,
      Attachable: net.attachable,
      EnableIPv6: net.enable_ipv6,
      IPAM: net.ipam
        ? {
            Driver: net.ipam.driver ?? 'default',
            Options: net.ipam.options,
            Config: net.ipam.config.map((c) => ({ Subnet: c.subnet, IPRange: c.ip_range, Gateway: c.gateway, AuxiliaryAddresses: c.aux_addresses })),
          }
        : undefined,
      Labels: networkLabels(project.name, key, net.labels),
    }),
  );
  created.push(net.name);
}

/** The volume keys the services mount by name. */
export function volumesUsed(project: ComposeProject, services: string[]): string[] {
  const keys = new Set<string>();
  for (const s of services) {
    for (const v of project.services[s]?.volumes ?? []) if (v.type === 'volume' && v.source && project.volumes[v.source]) keys.add(v.source);
  }
  return [...keys].sort();
}

export async function ensureVolumes(engine: EngineClient, project: ComposeProject, keys: string[], progress: Progress): Promise<void> {
  for (const key of keys) {
    const vol = project.volumes[key]!;
    const found = await engine.inspectVolume(vol.name);
    if (vol.external) {
      if (!found) throw notFound(`external volume "${vol.name}" not found`);
      continue;
    }
    if (found) {
      const labels = found.Labels ?? {};
      if (labels[PROJECT] !== project.name || labels[VOLUME] !== key) {
        progress.warn(`volume "${vol.name}" already exists but was not created by Docker Compose. Use \`external: true\` to use an existing volume`);
      }
      continue;
    }
    await step(progress, 'Volume', vol.name, 'Creating', 'Created', () =>
      engine.createVolume({ Name: vol.name, Driver: vol.driver ?? 'local', DriverOpts: vol.driver_opts, Labels: volumeLabels(project.name, key, vol.labels) }),
    );
  }
}

/** The project's own networks (not external ones) that exist, for `down`: by label, plus those the file names. */
export async function removeNetworks(engine: EngineClient, project: ComposeProject, progress: Progress): Promise<void> {
  const names = new Set<string>();
  for (const key of [...Object.keys(project.networks), 'default']) {
    const net = networkConfig(project, key);
    if (!net.external) names.add(net.name);
  }
  for (const n of await engine.listNetworks([`${PROJECT}=${project.name}`])) {
    if (n.Labels?.[PROJECT] === project.name) names.add(n.Name);
  }
  for (const name of [...names].sort()) {
    const found = await engine.inspectNetwork(name);
    if (!found) continue;
    try {
      await step(progress, 'Network', name, 'Removing', 'Removed', () => engine.removeNetwork(name));
    } catch (e) {
      // Still used by a container outside the project's services (an orphan kept): reported, not fatal.
      if (!isKind(e, 'conflict') && !isKind(e, 'forbidden')) throw e;
      progress.warn(`error while removing network ${name}: ${(e as Error).message}`);
    }
  }
}

/** Removes networks this run made that no container is attached to (after a failed up). */
export async function removeUnusedNetworks(engine: EngineClient, names: string[]): Promise<void> {
  for (const name of names) {
    const n = await engine.inspectNetwork(name);
    if (n && Object.keys(n.Containers ?? {}).length === 0) await engine.removeNetwork(name).catch(() => undefined);
  }
}

/** `down -v`: the project's named volumes (never external ones). */
export async function removeVolumes(engine: EngineClient, project: ComposeProject, progress: Progress): Promise<void> {
  const names = new Set<string>();
  for (const v of Object.values(project.volumes)) if (!v.external) names.add(v.name);
  const listed = await engine.listVolumes([`${PROJECT}=${project.name}`]);
  for (const v of listed.Volumes ?? []) if (v.Labels?.[PROJECT] === project.name) names.add(v.Name);
  for (const name of [...names].sort()) {
    if (!(await engine.inspectVolume(name))) continue;
    try {
      await step(progress, 'Volume', name, 'Removing', 'Removed', () => engine.removeVolume(name));
    } catch (e) {
      // In use by a container outside the project: compose reports it and goes on.
      if (!isKind(e, 'conflict')) throw e;
      progress.warn(`volume ${name} is in use: ${(e as Error).message}`);
    }
  }
}
