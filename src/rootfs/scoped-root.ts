// A directory tree that someone else controls (a container's root, an image's
// filesystem, a volume), opened so that no path inside it can lead out.
//
// Docker does this with chrootarchive, and the kernel offers openat2 with
// RESOLVE_IN_ROOT; Node has neither. So every step opens
// /proc/self/fd/<dirfd>/<name> with O_NOFOLLOW: the kernel resolves that
// relative to the open directory (the magic link pins it), as openat would.
// Symlinks are read and followed by us, inside the root ('..' and absolute
// targets stop at the root, as under chroot). A container that swaps a
// directory for a symlink while we walk can only make a step retry or fail
// (ELOOP, ENOTDIR), never make it reach a host file. No host tool (cp, tar)
// ever walks such a tree.
import { constants } from 'node:fs';
import { lstat, mkdir, open, readlink, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Stats } from 'node:fs';
import { invalid, notFound, TugError, unavailable } from '../errdefs.js';

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = constants;

/** The path that reaches `name` inside the directory open as `fd`, without following a final symlink. */
export const at = (fd: number, name: string): string => `/proc/self/fd/${fd}/${name}`;

/** Opens a directory under an open one; refuses to follow a symlink in its place. */
export const openDirAt = (fd: number, name: string): Promise<FileHandle> => open(at(fd, name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);

const MAX_SYMLINKS = 40;
/** How often one step is retried when the tree changes between lstat and open (a racing container). */
const MAX_RACE_RETRIES = 64;

export interface ResolveOptions {
  /** Follow a symlink in the last component (the default); false names the link itself. */
  followFinal?: boolean;
  /** Create missing directories on the way (mode 0755), as tar does for an archive's parents. */
  createParents?: boolean;
  /** Told about each directory created on the way, by its path inside the root. */
  onCreate?: (pathInRoot: string) => void;
}

/**
 * Where a path inside the root ended up: an open handle on the directory that
 * holds it and the last name ('.' when the path is the root itself). Close it.
 */
export class Resolved {
  constructor(
    private readonly handle: FileHandle | undefined,
    private readonly rootFd: number,
    /** The directory's path inside the root, '/'-separated, without a leading '/'. */
    readonly dirPath: string,
    readonly name: string,
  ) {}

  get dirFd(): number {
    return this.handle?.fd ?? this.rootFd;
  }

  /** The path inside the root this resolved to (symlinks followed as asked). */
  get pathInRoot(): string {
    return this.name === '.' ? this.dirPath : posix.join(this.dirPath, this.name);
  }

  /** A path for one syscall on the final name itself (never follows a final symlink). */
  get procPath(): string {
    return at(this.dirFd, this.name);
  }

  /** lstat of the final name, or undefined when nothing is there. */
  async lstat(): Promise<Stats | undefined> {
    try {
      return await lstat(this.procPath);
    } catch (err) {
      if (errno(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.handle?.close();
  }
}

export function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * A filesystem error met inside a root, in the error vocabulary: the tree is the
 * caller's (or a racing container's), so a missing or changed path is their
 * not-found or invalid, not the daemon's fault. The message names the path in
 * the root, never the /proc/self/fd path it was reached by.
 */
export function inRootError(err: unknown, path: string): unknown {
  if (err instanceof TugError) return err;
  switch (errno(err)) {
    case 'ENOENT':
      return notFound(`no such file or directory: ${path}`);
    case 'ENOTDIR':
      return invalid(`not a directory: ${path}`);
    case 'ELOOP':
      return invalid(`too many levels of symbolic links, or a symbolic link where a directory was expected: ${path}`);
    case 'EEXIST':
    case 'ENOTEMPTY':
    case 'EISDIR':
      return invalid(`${path} changed while it was being written (${errno(err)})`);
    case 'ENOSPC':
    case 'EDQUOT':
      return unavailable(`no space left on the device while writing ${path}`);
    default:
      return err;
  }
}

export class ScopedRoot {
  private constructor(
    private readonly handle: FileHandle,
    /** The host path the root was opened from (for messages only; never joined with a name). */
    readonly hostPath: string,
  ) {}

  /** Opens a root: `hostPath` itself is trusted (a path tug made, or /proc/PID/root). */
  static async open(hostPath: string): Promise<ScopedRoot> {
    try {
      return new ScopedRoot(await open(hostPath, O_RDONLY | O_DIRECTORY), hostPath);
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') throw notFound(`root ${hostPath} does not exist`);
      throw err;
    }
  }

  get fd(): number {
    return this.handle.fd;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  /** mkdir -p inside the root (symlinks followed inside it); returns the directory's path there. */
  async mkdirAll(path: string, mode = 0o755): Promise<string> {
    const r = await this.resolve(path, { followFinal: true, createParents: true });
    try {
      const st = await r.lstat();
      if (!st) await mkdir(r.procPath, { mode });
      else if (!st.isDirectory()) throw invalid(`not a directory: ${path}`);
      return r.pathInRoot;
    } finally {
      await r.close();
    }
  }

  /**
   * Resolves `path` (absolute or not, it is taken inside the root) to its
   * directory and last name. Missing parents are not-found unless createParents.
   */
  async resolve(path: string, opts: ResolveOptions = {}): Promise<Resolved> {
    const followFinal = opts.followFinal ?? true;
    const parts = splitPath(path);
    const stack: Array<{ fh: FileHandle; name: string }> = [];
    const dirPath = (): string => stack.map((s) => s.name).join('/');
    const topFd = (): number => stack[stack.length - 1]?.fh.fd ?? this.fd;
    const closeAll = async (): Promise<void> => {
      for (const s of stack.splice(0)) await s.fh.close();
    };
    let links = 0;
    let races = 0;
    try {
      while (parts.length) {
        const part = parts.shift()!;
        if (part === '.') continue;
        if (part === '..') {
          await stack.pop()?.fh.close(); // '..' at the root stays at the root, as under chroot
          continue;
        }
        const isLast = parts.length === 0;
        const here = at(topFd(), part);
        let st: Stats;
        try {
          st = await lstat(here);
        } catch (err) {
          if (errno(err) !== 'ENOENT') throw err;
          if (isLast) {
            parts.unshift(part);
            break;
          }
          if (!opts.createParents) throw notFound(`no such file or directory: ${posix.join('/', dirPath(), part)}`);
          await mkdir(here, { mode: 0o755 }).catch((e: unknown) => {
            if (errno(e) !== 'EEXIST') throw e;
          });
          opts.onCreate?.(posix.join(dirPath(), part));
          parts.unshift(part);
          continue;
        }
        if (st.isSymbolicLink() && (!isLast || followFinal)) {
          if (++links > MAX_SYMLINKS) throw invalid(`too many levels of symbolic links: ${path}`);
          let target: string;
          try {
            target = await readlink(here);
          } catch (err) {
            // Replaced between lstat and readlink (a racing container): look again.
            if ((errno(err) === 'ENOENT' || errno(err) === 'EINVAL') && ++races <= MAX_RACE_RETRIES) {
              links--;
              parts.unshift(part);
              continue;
            }
            throw err;
          }
          if (target.startsWith('/')) await closeAll();
          parts.unshift(...splitPath(target));
          continue;
        }
        if (isLast) {
          parts.unshift(part);
          break;
        }
        if (!st.isDirectory()) throw invalid(`not a directory: ${posix.join('/', dirPath(), part)}`);
        try {
          stack.push({ fh: await openDirAt(topFd(), part), name: part });
        } catch (err) {
          const code = errno(err);
          // Changed between lstat and open (a symlink or file now): look again.
          if ((code === 'ELOOP' || code === 'ENOTDIR' || code === 'ENOENT') && ++races <= MAX_RACE_RETRIES) {
            parts.unshift(part);
            continue;
          }
          throw err;
        }
      }
      // Either the last name is in parts (it exists or not, and is not followed
      // further), or the path ended on a directory we are in ('.', '..', '/').
      const name = parts[0] ?? '.';
      const dir = stack.pop();
      const dp = [...stack.map((s) => s.name), ...(dir ? [dir.name] : [])].join('/');
      await closeAll();
      return new Resolved(dir?.fh, this.fd, dp, name);
    } catch (err) {
      await closeAll();
      throw err;
    }
  }
}

/** Splits a path into its names; empty names (from '//' or a leading '/') are dropped. */
export function splitPath(path: string): string[] {
  return path.split('/').filter((p) => p.length > 0);
}
