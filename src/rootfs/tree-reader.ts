// Walks a tree inside a ScopedRoot and yields its entries, never following a
// symlink: directories are opened with O_NOFOLLOW under their parent's fd, and
// files are read from the handle that was checked to be a regular file. What a
// container swaps in while we walk is either read as what it now is or skipped;
// nothing outside the root is ever opened.
import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir, readlink, type FileHandle } from 'node:fs/promises';
import { at, errno, openDirAt, type Resolved, type ScopedRoot } from './scoped-root.js';
import type { EntryType, TreeEntry } from './tree-entry.js';

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = constants;
const CHUNK = 256 * 1024;

export interface ReadTreeOptions {
  /** Name of the top entry in the output ('' yields only what a directory holds, with no entry for itself). */
  as: string;
}

/** Opens `path` inside root (following a final symlink only if followFinal) and yields it and everything under it. */
export async function* readTree(root: ScopedRoot, path: string, followFinal: boolean, opts: ReadTreeOptions): AsyncGenerator<TreeEntry> {
  const r = await root.resolve(path, { followFinal });
  try {
    yield* walk(r.dirFd, r.name, opts.as, new Map());
  } finally {
    await r.close();
  }
}

/** Yields what one resolved path is (and holds), as readTree does. */
export async function* readResolved(r: Resolved, as: string): AsyncGenerator<TreeEntry> {
  yield* walk(r.dirFd, r.name, as, new Map());
}

function entryType(st: Stats): EntryType | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'character-device';
  if (st.isBlockDevice()) return 'block-device';
  if (st.isFIFO()) return 'fifo';
  return undefined; // sockets are not archived, as tar leaves them out
}

async function* walk(dirFd: number, name: string, as: string, links: Map<string, string>): AsyncGenerator<TreeEntry> {
  let st: Stats;
  try {
    st = await lstat(at(dirFd, name));
  } catch (err) {
    if (errno(err) === 'ENOENT') return; // removed while we walked
    throw err;
  }
  const type = entryType(st);
  if (!type) return;
  const base = { name: as, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime, size: 0 };
  if (type === 'directory') {
    let dir: FileHandle;
    try {
      dir = await openDirAt(dirFd, name);
    } catch (err) {
      if (['ELOOP', 'ENOTDIR', 'ENOENT'].includes(errno(err) ?? '')) return; // swapped while we walked
      throw err;
    }
    try {
      if (as !== '') yield { ...base, type, name: as === '.' ? './' : `${as}/` };
      const names = (await readdir(`/proc/self/fd/${dir.fd}`)).sort();
      // Names below '.' keep the './' prefix, as Docker's archives of 'dir/.' do.
      for (const n of names) yield* walk(dir.fd, n, as === '' ? n : `${as}/${n}`, links);
    } finally {
      await dir.close();
    }
    return;
  }
  if (st.nlink > 1) {
    const key = `${st.dev}:${st.ino}`;
    const first = links.get(key);
    if (first !== undefined) {
      yield { ...base, type: 'link', linkname: first };
      return;
    }
    links.set(key, as);
  }
  if (type === 'symlink') {
    yield { ...base, type, linkname: await readlink(at(dirFd, name)) };
  } else if (type === 'file') {
    let fh: FileHandle;
    try {
      // O_NONBLOCK: a fifo swapped in after lstat must not block the open.
      fh = await open(at(dirFd, name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    } catch (err) {
      if (['ELOOP', 'ENOENT'].includes(errno(err) ?? '')) return;
      throw err;
    }
    try {
      const now = await fh.stat();
      if (!now.isFile()) return;
      yield { ...base, type, size: now.size, body: readExactly(fh, now.size) };
    } finally {
      await fh.close();
    }
  } else {
    yield { ...base, type, devmajor: major(st.rdev), devminor: minor(st.rdev) };
  }
}

/** Exactly `size` bytes of a file (zeros if it shrank meanwhile, cut if it grew), as an archive header promised. */
async function* readExactly(fh: FileHandle, size: number): AsyncGenerator<Buffer> {
  let pos = 0;
  while (pos < size) {
    const want = Math.min(CHUNK, size - pos);
    const buf = Buffer.alloc(want);
    const { bytesRead } = await fh.read(buf, 0, want, pos);
    if (bytesRead === 0) {
      yield buf; // already zeros
      pos += want;
      continue;
    }
    pos += bytesRead;
    yield bytesRead === want ? buf : buf.subarray(0, bytesRead);
  }
}

// Linux's dev_t encoding (glibc's gnu_dev_major/minor).
const major = (dev: number): number => Number(((BigInt(dev) >> 8n) & 0xfffn) | ((BigInt(dev) >> 32n) & ~0xfffn));
const minor = (dev: number): number => Number((BigInt(dev) & 0xffn) | ((BigInt(dev) >> 12n) & ~0xffn));
