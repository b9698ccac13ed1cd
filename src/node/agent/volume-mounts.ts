// A container's volumeMounts as bind mounts: the volume's host path, or with
// subPath / subPathExpr ($(VAR) from the container's env) a path inside it,
// made if missing, read-only when the mount or the volume says so.
//
// A subPath is a name inside a directory the pod's containers can write to,
// so a container may have planted symlinks there (`ln -s / vol/escape`). The
// kubelet refuses a subPath that leads out of its volume; so does this: each
// existing component is examined with lstat, a symlink's target is resolved
// as the host would resolve it and must stay inside the volume, and what is
// missing is made through the volume opened as a ScopedRoot (rootfs/), whose
// fd-relative, no-follow walk cannot leave the volume even if the tree
// changes under it. The bind source handed to the engine has no symlinks in it.
import { constants } from 'node:fs';
import { lstat, open, readlink, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { invalid } from '../../errdefs.js';
import { ScopedRoot } from '../../rootfs/scoped-root.js';
import { expand } from './container-config.js';
import type { PodContainer } from './pod-types.js';

/** The pod's volumes on the host as the mounts need them. */
export interface HostVolumes {
  /** volume name -> host path */
  paths: Map<string, string>;
  /** Volumes every mount of which is read-only (persistentVolumeClaim.readOnly, ...). */
  readOnly: Set<string>;
}

const MAX_LINKS = 40;

/** "src:dst:ro|rw" bind specifications for one container's volumeMounts. */
export async function containerBinds(c: PodContainer, vols: HostVolumes, env: string[]): Promise<string[]> {
  const vars = new Map(env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const binds: string[] = [];
  for (const m of c.volumeMounts ?? []) {
    const src = vols.paths.get(m.name);
    if (!src) throw invalid(`container "${c.name}": volumeMount "${m.name}" names no volume of the pod`);
    let sub = m.subPath ?? '';
    if (m.subPathExpr) {
      if (m.subPath) throw invalid(`container "${c.name}": volumeMount "${m.name}": subPath and subPathExpr are mutually exclusive`);
      sub = expand(m.subPathExpr, vars);
    }
    let host = src;
    if (sub) {
      checkSubPath(sub, c.name, m.name);
      try {
        host = await resolveSubPath(src, sub);
      } catch (err) {
        // As the kubelet: the reason stays in the agent's log, the user sees which mount failed.
        throw invalid(`failed to create subPath directory for volumeMount "${m.name}" of container "${c.name}" (${(err as Error).message})`);
      }
    }
    const ro = Boolean(m.readOnly) || vols.readOnly.has(m.name);
    binds.push(`${host}:${m.mountPath}:${ro ? 'ro' : 'rw'}`);
  }
  return binds;
}

/** What API validation refuses in a subPath (and what an expanded subPathExpr must obey too). */
function checkSubPath(sub: string, container: string, mount: string): void {
  if (isAbsolute(sub)) throw invalid(`container "${container}": volumeMount "${mount}": subPath "${sub}" must be a relative path`);
  if (sub.split('/').includes('..')) throw invalid(`container "${container}": volumeMount "${mount}": subPath "${sub}" must not contain '..'`);
}

const inside = (root: string, p: string): boolean => p === root || p.startsWith(root + sep);

/**
 * The host path of `sub` inside the volume `volume`, with directories made as
 * needed (mode of the volume's root, as the kubelet makes them). Refuses any
 * path whose symlinks lead out of the volume.
 */
export async function resolveSubPath(volume: string, sub: string): Promise<string> {
  const root = await realpath(volume);
  let cur = root;
  const parts = normalize(sub).split('/').filter((p) => p && p !== '.');
  let links = 0;
  while (parts.length) {
    const name = parts.shift()!;
    if (name === '..') {
      cur = dirname(cur);
      if (!inside(root, cur)) throw invalid(`subpath "${sub}" not within volume path "${volume}"`);
      continue;
    }
    const next = join(cur, name);
    const st = await lstat(next).catch(() => undefined);
    if (!st) {
      cur = next;
      // The rest does not exist yet: it is made below, inside the volume.
      cur = join(cur, ...parts);
      parts.length = 0;
      break;
    }
    if (st.isSymbolicLink()) {
      if (++links > MAX_LINKS) throw invalid(`too many levels of symbolic links in subpath "${sub}"`);
      const target = await readlink(next);
      const to = resolve(cur, target);
      if (!inside(root, to)) throw invalid(`subpath "${sub}" not within volume path "${volume}": ${name} points to ${target}`);
      // Resolve the target's own components the same way.
      parts.unshift(...relative(root, to).split(sep).filter(Boolean));
      cur = root;
      continue;
    }
    if (parts.length && !st.isDirectory()) throw invalid(`subpath "${sub}": ${relative(root, next)} is not a directory`);
    cur = next;
  }
  const rel = relative(root, cur);
  if (!inside(root, cur)) throw invalid(`subpath "${sub}" not within volume path "${volume}"`);
  if (!rel) return root;
  const existing = await lstat(cur).catch(() => undefined);
  if (existing) return cur; // a file or directory, checked above
  const mode = (await lstat(root)).mode & 0o7777;
  const scoped = await ScopedRoot.open(root);
  try {
    const made = await scoped.mkdirAll(rel, mode);
    // mkdir's mode went through the umask; set it on the directory itself, never through a symlink.
    const r = await scoped.resolve(made, { followFinal: false });
    try {
      const fh = await open(r.procPath, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
      await fh.chmod(mode).finally(() => fh.close());
    } finally {
      await r.close();
    }
    return join(root, made);
  } finally {
    await scoped.close();
  }
}
