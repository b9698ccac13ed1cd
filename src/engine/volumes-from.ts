// --volumes-from: a new container mounts what another container mounts (its
// volumes and binds, not its tmpfs), at the same paths. ':ro' or ':rw' after
// the name forces the mode; without it each mount keeps the source's. The
// copied mounts are ordinary entries of the new container's Mounts, so a
// volume stays in use (and is kept by `rm -v` of the source) while either
// container holds it.
import { invalid, notFound } from '../errdefs.js';
import type { MountPoint } from './container-record.js';
import type { Engine } from './engine.js';
import type { MountRequest } from './create-config.js';

/** 'name[:ro|rw]' → the other container's mounts, re-moded; refused before anything is created. */
export function volumesFromMounts(engine: Engine, specs: readonly string[] | null | undefined): MountPoint[] {
  const out: MountPoint[] = [];
  for (const spec of specs ?? []) {
    const [ref = '', mode = '', ...rest] = spec.split(':');
    if (!ref || rest.length) throw invalid(`invalid volumes-from specification: '${spec}'`);
    const modes = mode ? mode.split(',') : [];
    for (const m of modes) if (!['ro', 'rw', 'z', 'Z'].includes(m)) throw invalid(`invalid mode for volumes-from: ${mode}`);
    const source = engine.containers.find(ref);
    if (!source) throw notFound(`No such container: ${ref}`);
    const rw = modes.includes('ro') ? false : modes.includes('rw') ? true : undefined;
    for (const m of source.Mounts) {
      if (m.Type === 'tmpfs') continue;
      out.push({ ...m, RW: rw ?? m.RW });
    }
  }
  return out;
}

/**
 * Which of the new container's own mount requests give way to copied mounts:
 * only anonymous volumes (the image's VOLUME or a bare -v path), as in
 * dockerd; a named volume, bind or tmpfs at the same path wins over the copy.
 */
export function withoutReplacedAnonymous(own: MountRequest[], copied: MountPoint[]): MountRequest[] {
  const dests = new Set(copied.map((m) => m.Destination));
  return own.filter((r) => !(r.type === 'volume' && r.source === '' && dests.has(r.destination)));
}

/** The copied mounts not at a path the container's own mounts already hold (the last --volumes-from wins among copies). */
export function copiedNotShadowed(own: MountPoint[], copied: MountPoint[]): MountPoint[] {
  const byDest = new Map(copied.map((m) => [m.Destination, m] as const));
  const taken = new Set(own.map((m) => m.Destination));
  return [...byDest.values()].filter((m) => !taken.has(m.Destination));
}
