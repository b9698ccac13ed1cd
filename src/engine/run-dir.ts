// Where an engine keeps its runtime state (runc's root, conmon's pidfiles,
// fifos, attach sockets and exit files): on tmpfs, as Docker keeps it under
// /run/docker. Every container start and exit creates and deletes a dozen of
// these files; on a disk filesystem each new inode is an allocation (on an
// ext4 without journal, a scan past every recently deleted inode: measured at
// a sixth of all CPU in a 100-pod burst). The state only matters while the
// host is up (after a reboot no container runs), so tmpfs loses nothing.
//
// One directory per engine root, so side-by-side daemons stay apart.
import { createHash } from 'node:crypto';
import { access, statfs } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const TMPFS_MAGIC = 0x01021994;

async function isTmpfs(path: string): Promise<boolean> {
  try {
    return (await statfs(path)).type === TMPFS_MAGIC;
  } catch {
    return false;
  }
}

/** The tmpfs base: TUG_RUN_DIR, else /run/tug when /run is tmpfs, else /dev/shm/tug. */
async function runBase(): Promise<string> {
  if (process.env.TUG_RUN_DIR) return process.env.TUG_RUN_DIR;
  return (await isTmpfs('/run')) ? '/run/tug' : '/dev/shm/tug';
}

/**
 * The runtime state dir for an engine root. An engine that already keeps its
 * state in ROOT/runtime (made before this moved to tmpfs) keeps using it, so
 * its running containers are still found.
 */
export async function runtimeStateDir(root: string): Promise<string> {
  const legacy = join(root, 'runtime');
  try {
    await access(join(legacy, 'runc'));
    return legacy;
  } catch {
    const key = createHash('sha256').update(resolve(root)).digest('hex').slice(0, 16);
    return join(await runBase(), key);
  }
}
