// docker diff (GET /containers/{id}/changes): what a container changed in its
// filesystem, read from its overlay upper dir against its image's layers.
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { containerChanges, type FsChange } from '../snapshot/changes.js';
import type { Engine } from './engine.js';

// Mount points runc creates in the rootfs for us. Docker keeps these in a
// hidden "-init" layer, so its diff never shows them; neither do we.
const runtimeStubs = ['/proc', '/sys', '/dev', '/etc/hostname', '/etc/hosts', '/etc/resolv.conf', '/etc/mtab', '/.dockerenv'];

export async function changesOf(engine: Engine, ref: string): Promise<FsChange[]> {
  const c = engine.containers.get(ref);
  const upper = join(engine.root, 'containers-fs', c.Id, 'upper');
  // Never started: no upper dir yet, so nothing changed.
  if (!(await access(upper).then(() => true, () => false))) return [];
  const lowers = await engine.images.lowerDirs(await engine.images.get(c.Image));
  const all = await containerChanges(upper, lowers);
  const hidden = new Set(runtimeStubs);
  const kept = all.filter((ch) => !hidden.has(ch.Path));
  // A directory that shows as changed only because a stub was created in it
  // (/etc for /etc/hosts) is not a change either.
  const isAncestor = (dir: string, p: string): boolean => p.startsWith(dir === '/' ? '/' : `${dir}/`);
  return kept.filter((ch) => {
    if (ch.Kind !== 0) return true;
    const hidesStub = [...hidden].some((h) => isAncestor(ch.Path, h) && all.some((x) => x.Path === h));
    return !hidesStub || kept.some((x) => isAncestor(ch.Path, x.Path));
  });
}
