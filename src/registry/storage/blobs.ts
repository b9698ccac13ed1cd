// Content-addressed blobs (stored once for all repositories) and the
// per-repository links that say a repository "has" a blob. A blob is visible
// through a repository only via its link, like Distribution's _layers links.
import { stat, rename, rm, mkdir, open, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import { fsyncDir } from '../../util/atomic-file.js';
import { Layout } from './layout.js';
import { exists, isNotFound } from './fs-helpers.js';

export class BlobStore {
  constructor(readonly layout: Layout) {}

  /** Size of a blob if `repo` links it and the content exists; undefined otherwise. */
  async statInRepo(repo: string, digest: string): Promise<number | undefined> {
    if (!(await exists(this.layout.layerLink(repo, digest)))) return undefined;
    return this.size(digest);
  }

  async size(digest: string): Promise<number | undefined> {
    try {
      return (await stat(this.layout.blob(digest))).size;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Durable before it returns, like the blob: its directory entry is synced (and
   * those of directories made for it). Only the link's name is ever consulted, so
   * its content (the digest, as Distribution writes it) needs no fsync of its own:
   * one journal commit per link instead of two.
   */
  async link(repo: string, digest: string): Promise<void> {
    const p = this.layout.layerLink(repo, digest);
    if (await exists(p)) return;
    const dir = dirname(p);
    const made = await mkdir(dir, { recursive: true });
    const tmp = join(dir, `.${basename(p)}.${randomBytes(6).toString('hex')}.tmp`);
    await writeFile(tmp, digest, { mode: 0o600 });
    try {
      await rename(tmp, p);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    await fsyncDir(dir);
    await syncMadeDirs(dir, made);
  }

  async unlink(repo: string, digest: string): Promise<boolean> {
    try {
      await rm(this.layout.layerLink(repo, digest));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /**
   * Move a fully written, fsynced, digest-verified file into the store. If the
   * content is already there (another repo pushed it), the new copy is dropped:
   * same digest, same bytes.
   */
  async commitFile(verifiedPath: string, digest: string): Promise<void> {
    const dest = this.layout.blob(digest);
    if (await exists(dest)) {
      await rm(verifiedPath, { force: true });
      return;
    }
    // A new fan-out directory (blobs/sha256/ab) is itself an entry in its parent:
    // without syncing that, a crash could lose the directory and the blob in it.
    const made = await mkdir(dirname(dest), { recursive: true });
    await rename(verifiedPath, dest);
    await fsyncDir(dirname(dest));
    await syncMadeDirs(dirname(dest), made);
  }

  /** Store small content (manifests) by digest; returns the digest. */
  async putBytes(data: Buffer): Promise<string> {
    const digest = 'sha256:' + createHash('sha256').update(data).digest('hex');
    const dest = this.layout.blob(digest);
    if (await exists(dest)) return digest;
    const tmp = `${this.layout.tmpDir()}/${randomBytes(8).toString('hex')}`;
    await mkdir(this.layout.tmpDir(), { recursive: true });
    const fh = await open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await this.commitFile(tmp, digest);
    return digest;
  }
}

/**
 * A directory mkdir -p made is itself an entry in its parent: without syncing
 * that, a crash could lose the directory and what is in it. `made` is the first
 * directory mkdir created (undefined: none), `leaf` the deepest.
 */
async function syncMadeDirs(leaf: string, made: string | undefined): Promise<void> {
  if (made === undefined) return;
  for (let d = leaf; d !== dirname(made); d = dirname(d)) await fsyncDir(dirname(d));
}
