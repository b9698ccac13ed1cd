// Directories whose mode is part of the security story (engine, registry and
// cluster state roots, per-container dirs). mkdir's mode is filtered by the
// umask and ignored for a directory that already exists, so an older tug's
// 0755 root would stay world-readable: ensureDir sets the exact mode every
// time, as dockerd chmods its root on every start. Parents that do not exist
// yet get the ordinary default mode, so `--root /srv/new/tug` leaves /srv/new
// traversable for other programs.
import { chmod, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Creates `path` if missing and gives it exactly `mode` (also when it already existed). */
export async function ensureDir(path: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  try {
    await mkdir(path, { mode });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  await chmod(path, mode);
}

/** chmod that ignores a file which is not there (state from an older tug may lack it). */
export async function chmodIfExists(path: string, mode: number): Promise<void> {
  try {
    await chmod(path, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
