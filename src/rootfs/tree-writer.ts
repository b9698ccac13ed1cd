// Writes entries (from an archive or another tree) under a directory inside a
// ScopedRoot. Every parent is resolved inside the root (a symlink the tree or
// the container planted is followed as a chrooted tar would, never out of the
// root); every final name is created with O_EXCL/O_NOFOLLOW under its
// parent's fd, after removing what was there (the way Docker's archive
// unpacker replaces it). An entry whose name climbs out of the destination is
// refused. What the writer created is logged, so a failed write is rolled
// back and leaves nothing half-made.
import { constants } from 'node:fs';
import { link, lchown, lutimes, mkdir, open, rmdir, symlink, unlink } from 'node:fs/promises';
import { invalid } from '../errdefs.js';
import { runTool } from '../util/exec-file.js';
import { removeTreeAt } from './remove-tree.js';
import { openDirAt, type Resolved, type ScopedRoot, splitPath } from './scoped-root.js';
import type { TreeEntry } from './tree-entry.js';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;

export interface WriteTreeOptions {
  /** Owner for every entry, instead of the one each entry carries (build COPY --chown; docker cp without -a). */
  owner?: { uid: number; gid: number };
  /** Mode for every entry (COPY --chmod), keeping the file-type. */
  mode?: number;
  /** Refuse to replace a directory with a non-directory or the reverse (docker cp's noOverwriteDirNonDir). */
  noOverwriteDirNonDir?: boolean;
}

/** An entry's path inside the root (destination + name), or an error if its name climbs out of the destination. */
export function entryTarget(destParts: string[], name: string): string[] {
  const parts = [...destParts];
  for (const p of splitPath(name)) {
    if (p === '.') continue;
    if (p === '..') {
      if (parts.length <= destParts.length) throw invalid(`archive entry "${name}" would be written outside the destination`);
      parts.pop();
    } else parts.push(p);
  }
  return parts;
}

export class TreeWriter {
  /** Paths (inside the root) this writer created, in order: what rollback removes. */
  private readonly created: string[] = [];
  /** Directories whose times are set last (writing into them changes their mtime). */
  private readonly dirTimes: Array<{ path: string; mtime: Date }> = [];
  private readonly destParts: string[];

  constructor(
    private readonly root: ScopedRoot,
    /** The destination directory's path inside the root (already resolved, no symlinks). */
    destPath: string,
    private readonly opts: WriteTreeOptions = {},
  ) {
    this.destParts = splitPath(destPath);
  }

  private target(name: string): string[] {
    return entryTarget(this.destParts, name);
  }

  async write(e: TreeEntry): Promise<void> {
    const parts = this.target(e.name);
    if (parts.length === this.destParts.length) {
      // The entry for the destination itself ('./'): its owner, mode and times apply, as with tar.
      if (e.type === 'directory') {
        const r = await this.root.resolve(parts.join('/'), { followFinal: false });
        try {
          await setDirOwnerMode(r, this.opts.owner ?? { uid: e.uid, gid: e.gid }, this.opts.mode ?? e.mode);
        } finally {
          await r.close();
        }
        this.dirTimes.push({ path: parts.join('/'), mtime: e.mtime });
      }
      await drain(e);
      return;
    }
    const r = await this.root.resolve(parts.join('/'), { followFinal: false, createParents: true, onCreate: (p) => this.created.push(p) });
    try {
      await this.place(r, e);
    } finally {
      await r.close();
    }
  }

  private async place(r: Resolved, e: TreeEntry): Promise<void> {
    const existing = await r.lstat();
    const owner = this.opts.owner ?? { uid: e.uid, gid: e.gid };
    const mode = this.opts.mode ?? e.mode;
    if (existing) {
      if (e.type === 'directory' && existing.isDirectory()) {
        // Merge into it; its mode and owner follow the archive, as tar does.
        await setDirOwnerMode(r, owner, mode);
        this.dirTimes.push({ path: r.pathInRoot, mtime: e.mtime });
        return;
      }
      if (this.opts.noOverwriteDirNonDir && existing.isDirectory() !== (e.type === 'directory')) {
        throw invalid(`cannot overwrite ${existing.isDirectory() ? 'directory' : 'non-directory'} "/${r.pathInRoot}" with ${e.type === 'directory' ? 'directory' : 'non-directory'} "${e.name}"`);
      }
      if (existing.isDirectory()) await removeTreeAt(r.dirFd, r.name);
      else await unlink(r.procPath);
    }
    this.created.push(r.pathInRoot);
    switch (e.type) {
      case 'directory':
        await mkdir(r.procPath, { mode: 0o700 });
        await setDirOwnerMode(r, owner, mode);
        this.dirTimes.push({ path: r.pathInRoot, mtime: e.mtime });
        return;
      case 'file': {
        const fh = await open(r.procPath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
        try {
          if (e.body) for await (const chunk of e.body) await fh.write(chunk);
          await fh.chown(owner.uid, owner.gid);
          await fh.chmod(mode);
          await fh.utimes(e.mtime, e.mtime);
        } finally {
          await fh.close();
        }
        return;
      }
      case 'symlink':
        await symlink(e.linkname ?? '', r.procPath);
        await lchown(r.procPath, owner.uid, owner.gid);
        await lutimes(r.procPath, e.mtime, e.mtime);
        return;
      case 'link': {
        const src = await this.root.resolve(this.target(e.linkname ?? '').join('/'), { followFinal: false });
        try {
          // link(2) does not follow a symlink named as its source: the link is to what is there.
          await link(src.procPath, r.procPath);
        } finally {
          await src.close();
        }
        return;
      }
      default: {
        // Node has no mknod: the tool gets a path through our fd, which names the same directory.
        const kind = e.type === 'fifo' ? ['p'] : [e.type === 'block-device' ? 'b' : 'c', String(e.devmajor ?? 0), String(e.devminor ?? 0)];
        await runTool('mknod', ['-m', (mode & 0o7777).toString(8), `/proc/${process.pid}/fd/${r.dirFd}/${r.name}`, ...kind]);
        await lchown(r.procPath, owner.uid, owner.gid);
      }
    }
  }

  /** Sets the directories' times, deepest first, once nothing more is written into them. */
  async finish(): Promise<void> {
    for (const d of this.dirTimes.reverse()) {
      const r = await this.root.resolve(d.path, { followFinal: false });
      try {
        const fh = await openDirAt(r.dirFd, r.name).catch(() => undefined);
        if (fh) {
          await fh.utimes(d.mtime, d.mtime).finally(() => fh.close());
        }
      } catch {
        // gone or swapped meanwhile: times are best effort
      } finally {
        await r.close();
      }
    }
  }

  /** Removes what this writer created, newest first (after a bad entry or a failed write). */
  async rollback(): Promise<void> {
    for (const p of this.created.reverse()) {
      const r = await this.root.resolve(p, { followFinal: false }).catch(() => undefined);
      if (!r) continue;
      try {
        const st = await r.lstat();
        if (st?.isDirectory()) await rmdir(r.procPath).catch(() => removeTreeAt(r.dirFd, r.name));
        else if (st) await unlink(r.procPath);
      } catch {
        // best effort: keep removing the rest
      } finally {
        await r.close();
      }
    }
  }
}

/** chown and chmod through a handle opened with O_NOFOLLOW: a path would follow a symlink swapped in meanwhile. */
async function setDirOwnerMode(r: Resolved, owner: { uid: number; gid: number }, mode: number): Promise<void> {
  const fh = await openDirAt(r.dirFd, r.name);
  try {
    await fh.chown(owner.uid, owner.gid);
    await fh.chmod(mode); // after chown, which clears setgid
  } finally {
    await fh.close();
  }
}

async function drain(e: TreeEntry): Promise<void> {
  if (e.body) for await (const chunk of e.body) void chunk;
}

/** Writes all entries; on any failure removes what was created and rethrows. */
export async function writeTree(root: ScopedRoot, destPath: string, entries: AsyncIterable<TreeEntry>, opts: WriteTreeOptions = {}): Promise<void> {
  const w = new TreeWriter(root, destPath, opts);
  try {
    for await (const e of entries) await w.write(e);
    await w.finish();
  } catch (err) {
    await w.rollback();
    throw err;
  }
}
