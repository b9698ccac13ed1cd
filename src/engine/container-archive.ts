// docker cp and docker export, the engine's side: stat a path, archive a path,
// extract an archive into a directory, export the whole filesystem. All of
// them go through src/rootfs (paths resolved through directory fds inside the
// container's root; no host tool walks the tree), so neither a planted symlink
// nor a container racing us can lead a copy to a host file.
import { mkdir, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import type { Stats } from 'node:fs';
import { invalid, notFound } from '../errdefs.js';
import { extractArchiveStream } from '../rootfs/extract-archive.js';
import { inRootError, ScopedRoot } from '../rootfs/scoped-root.js';
import { tarFromEntries } from '../rootfs/tar-codec.js';
import { readResolved, readTree } from '../rootfs/tree-reader.js';

/** What the docker CLI decodes from X-Docker-Container-Path-Stat. */
export interface ContainerPathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

/** Go's os.FileMode bits, which the docker CLI decodes from the stat header. */
function goFileMode(st: Stats): number {
  let m = st.mode & 0o777;
  if (st.isDirectory()) m |= 2 ** 31;
  if (st.isSymbolicLink()) m |= 2 ** 27;
  // JS bitwise ops are signed 32-bit: the ModeDir bit (1<<31) made the number negative,
  // which Go's uint32 FileMode cannot decode (docker cp from a directory failed).
  return m >>> 0;
}

/** A path ending in '/' or '/.' names what the directory holds: a final symlink is followed, as Docker does. */
const followsFinal = (path: string): boolean => path.endsWith('/') || path.endsWith('/.');

/**
 * The stat docker cp shows for a path (a final symlink is described, not followed).
 * `shown` is the path as the client named it, when `path` is inside a mount's own root.
 */
export async function statContainerPath(root: ScopedRoot, path: string, shown = path): Promise<{ stat: ContainerPathStat; isDir: boolean }> {
  const r = await root.resolve(path, { followFinal: followsFinal(path) }).catch(() => undefined);
  const st = await r?.lstat();
  try {
    if (!r || !st) throw notFound(`Could not find the file ${shown} in container`);
    const linkTarget = st.isSymbolicLink() ? await readlink(r.procPath) : '';
    return { stat: { name: posix.basename(shown) || '/', size: st.size, mode: goFileMode(st), mtime: st.mtime.toISOString(), linkTarget }, isDir: st.isDirectory() };
  } finally {
    await r?.close();
  }
}

/** GET archive: a tar of the path, named by its last name ('path/.' gives what the directory holds). */
export async function archiveContainerPath(root: ScopedRoot, path: string, shown = path): Promise<Readable> {
  const contentOnly = path.endsWith('/.');
  const r = await root.resolve(path, { followFinal: followsFinal(path) }).catch((err: unknown) => {
    throw inRootError(err, shown);
  });
  const as = contentOnly ? '.' : posix.basename(posix.normalize('/' + shown)) || '.';
  const entries = (async function* () {
    try {
      yield* readResolved(r, as);
    } finally {
      await r.close();
    }
  })();
  return tarFromEntries(entries);
}

export interface ExtractOptions {
  /** Keep the archive's owners (docker cp -a); otherwise files belong to root. */
  copyUIDGID: boolean;
  noOverwriteDirNonDir: boolean;
  /** Where the archive is kept while it is checked (a directory of the daemon's). */
  spoolDir: string;
}

/** PUT archive: extracts into a directory of the container, all or nothing. */
export async function extractIntoContainer(root: ScopedRoot, path: string, input: NodeJS.ReadableStream, opts: ExtractOptions, shown = path): Promise<void> {
  const r = await root.resolve(path, { followFinal: true }).catch(() => undefined);
  const st = await r?.lstat();
  await r?.close();
  if (!r || !st) throw notFound(`Could not find the file ${shown} in container`);
  if (!st.isDirectory()) throw invalid(`extraction point is not a directory: ${shown}`);
  await mkdir(opts.spoolDir, { recursive: true, mode: 0o700 });
  await extractArchiveStream(input, opts.spoolDir, root, r.pathInRoot, {
    owner: opts.copyUIDGID ? undefined : { uid: 0, gid: 0 },
    noOverwriteDirNonDir: opts.noOverwriteDirNonDir,
  }).catch((err: unknown) => {
    throw inRootError(err, shown);
  });
}

/** docker export: the whole filesystem as one tar. */
export function exportRootfs(root: ScopedRoot): Readable {
  return tarFromEntries(readTree(root, '/', true, { as: '' }));
}

export const archiveSpoolDir = (engineRoot: string): string => join(engineRoot, 'tmp', 'archive');
