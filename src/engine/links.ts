// Legacy container links (--link name[:alias]) on the default bridge, as
// dockerd keeps them: stored as '/<target>:/<this container>/<alias>', and at
// each start turned into /etc/hosts lines and the <ALIAS>_NAME, _PORT_* and
// _ENV_* variables from the target's current address, ports and Env.
import { conflict, invalid, notFound } from '../errdefs.js';
import type { ContainerRecord } from './container-record.js';
import type { Engine } from './engine.js';

export interface LinkTarget {
  /** The target's name, with its leading '/'. */
  target: string;
  alias: string;
}

/** At create, before anything is made: every target must exist. */
export function linkTargetsOf(engine: Engine, links: readonly string[] | null | undefined): LinkTarget[] {
  return (links ?? []).map((spec) => {
    const [ref = '', alias, ...rest] = spec.split(':');
    if (!ref || rest.length || alias === '') throw invalid(`invalid link specification: '${spec}'`);
    const found = engine.containers.find(ref.replace(/^\//, ''));
    if (!found) throw notFound(`could not get container for ${ref}: No such container: ${ref}`);
    const name = alias ?? found.Name.slice(1);
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw invalid(`invalid link alias: '${name}'`);
    return { target: found.Name, alias: name };
  });
}

/** dockerd's stored form, once the new container's name is known. */
export function storedLinks(targets: LinkTarget[], ownName: string): string[] | null {
  return targets.length ? targets.map((t) => `${t.target}:${ownName}/${t.alias}`) : null;
}

interface Peer {
  alias: string;
  /** '/<this container>/<alias>', the value of <ALIAS>_NAME. */
  path: string;
  target: ContainerRecord;
}

/** At start: each linked container, which must be running (it needs an address). */
export function linkedPeers(engine: Engine, c: ContainerRecord): Peer[] {
  return (c.HostConfig.Links ?? []).map((stored) => {
    const i = stored.indexOf(':');
    const targetName = stored.slice(0, i);
    const path = stored.slice(i + 1);
    const target = engine.containers.find(targetName.slice(1));
    if (!target || !target.State.Running) throw conflict(`Cannot link to a non running container: ${targetName} AS ${path}`);
    return { alias: path.slice(path.lastIndexOf('/') + 1), path, target };
  });
}

/** The target's short id and name follow the alias in its /etc/hosts line. */
export function linkHostsLines(peers: Peer[]): string[] {
  return peers.map(({ alias, target }) => {
    const name = target.Name.slice(1);
    const id = target.Id.slice(0, 12);
    return alias === name ? `${target.NetworkSettings.IPAddress}\t${name} ${id}` : `${target.NetworkSettings.IPAddress}\t${alias} ${id} ${name}`;
  });
}

/** The legacy link variables; the container's own Env comes after them and wins. */
export function linkEnv(peers: Peer[]): string[] {
  const env: string[] = [];
  for (const { alias, path, target } of peers) {
    const prefix = alias.toUpperCase().replace(/-/g, '_');
    const ip = target.NetworkSettings.IPAddress;
    env.push(`${prefix}_NAME=${path}`);
    const ports = Object.keys(target.Config.ExposedPorts ?? {})
      .map((k) => k.split('/') as [string, string?])
      .map(([port, proto]) => ({ port: Number(port), proto: proto ?? 'tcp' }))
      .sort((a, b) => a.port - b.port || a.proto.localeCompare(b.proto));
    if (ports[0]) env.push(`${prefix}_PORT=${ports[0].proto}://${ip}:${ports[0].port}`);
    for (const { port, proto } of ports) {
      const p = `${prefix}_PORT_${port}_${proto.toUpperCase()}`;
      env.push(`${p}=${proto}://${ip}:${port}`, `${p}_ADDR=${ip}`, `${p}_PORT=${port}`, `${p}_PROTO=${proto}`);
    }
    for (const kv of target.Config.Env) {
      const eq = kv.indexOf('=');
      if (eq <= 0) continue;
      const key = kv.slice(0, eq);
      // dockerd leaves out what every image sets.
      if (key === 'HOME' || key === 'PATH') continue;
      env.push(`${prefix}_ENV_${key}=${kv.slice(eq + 1)}`);
    }
  }
  return env;
}

/** DELETE /containers/<parent>/<alias>?link=1: the parent forgets the link (both containers stay). */
export async function removeLink(engine: Engine, parentRef: string, alias: string): Promise<void> {
  const parent = engine.containers.find(parentRef);
  if (!parent) throw notFound(`Cannot get parent /${parentRef} for link name /${parentRef}/${alias}`);
  await engine.lock.run(parent.Id, async () => {
    const suffix = `:${parent.Name}/${alias}`;
    const links = parent.HostConfig.Links ?? [];
    if (!links.some((l) => l.endsWith(suffix))) throw notFound(`Could not find entity for ${parent.Name}/${alias}`);
    const left = links.filter((l) => !l.endsWith(suffix));
    parent.HostConfig = { ...parent.HostConfig, Links: left.length ? left : null };
    await engine.containers.save(parent);
  });
}

/** After a rename: links name containers by name, so every link that names the old one follows (as dockerd's do). */
export function followRename(engine: Engine, oldName: string, newName: string): ContainerRecord[] {
  const changed: ContainerRecord[] = [];
  for (const c of engine.containers.all()) {
    const links = c.HostConfig.Links;
    if (!links?.length) continue;
    const next = links.map((stored) => {
      const i = stored.indexOf(':');
      const target = stored.slice(0, i);
      const path = stored.slice(i + 1);
      const cut = path.lastIndexOf('/');
      const parent = path.slice(0, cut);
      return `${target === oldName ? newName : target}:${parent === oldName ? newName : parent}${path.slice(cut)}`;
    });
    if (next.some((l, i) => l !== links[i])) {
      c.HostConfig = { ...c.HostConfig, Links: next };
      changed.push(c);
    }
  }
  return changed;
}
