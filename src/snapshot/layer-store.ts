// Unpacked layers, one directory per diff ID, shared by every image and
// container that has the layer: <dir>/<hex>/fs plus <hex>/size.json.
//
// A layer is unpacked into a temp dir and renamed into place, so a crash or a
// concurrent unpack never leaves a half-filled layer where readers look.
// Concurrent requests in this process share one unpack; across processes the
// loser of the rename race throws its copy away.
import { mkdir, rename, rm, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { hexOf } from '../oci/digest.js';
import { writeJsonAtomic, fsyncDir } from '../util/atomic-file.js';
import { unpackLayer, unpackedSize } from './layer-unpack.js';
import { invalid } from '../errdefs.js';

export interface UnpackedLayer {
  diffId: string;
  dir: string;
  size: number;
  /** Set when this call unpacked the layer: the blob it read (and so verified against diffId). */
  unpackedFrom?: string;
}

export class LayerStore {
  private readonly inflight = new Map<string, Promise<UnpackedLayer>>();

  constructor(readonly dir: string) {}

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await rm(join(this.dir, 'tmp'), { recursive: true, force: true });
    await mkdir(join(this.dir, 'tmp'), { recursive: true });
  }

  /** The lowerdir of a layer (whether or not it is unpacked yet). */
  dirOf(diffId: string): string {
    return join(this.dir, hexOf(diffId), 'fs');
  }

  async get(diffId: string): Promise<UnpackedLayer | undefined> {
    try {
      const meta = JSON.parse(await readFile(join(this.dir, hexOf(diffId), 'size.json'), 'utf8')) as { size: number };
      return { diffId, dir: this.dirOf(diffId), size: meta.size };
    } catch {
      return undefined;
    }
  }

  /** Unpacks the blob as layer `diffId` unless that is done already; refuses (invalid) a blob whose content is not that diff ID. */
  ensure(diffId: string, blobPath: string): Promise<UnpackedLayer> {
    let p = this.inflight.get(diffId);
    if (!p) {
      p = this.unpackOnce(diffId, blobPath).finally(() => this.inflight.delete(diffId));
      this.inflight.set(diffId, p);
    }
    return p;
  }

  /** Diff IDs of every unpacked layer on disk. */
  async list(): Promise<string[]> {
    const names = await readdir(this.dir);
    return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }

  async remove(diffId: string): Promise<void> {
    const final = join(this.dir, hexOf(diffId));
    const doomed = join(this.dir, 'tmp', `rm-${randomBytes(6).toString('hex')}`);
    try {
      // Rename first so the layer vanishes atomically, then delete at leisure.
      await rename(final, doomed);
    } catch {
      return;
    }
    await rm(doomed, { recursive: true, force: true });
  }

  private async unpackOnce(diffId: string, blobPath: string): Promise<UnpackedLayer> {
    const have = await this.get(diffId);
    if (have) return have;
    const final = join(this.dir, hexOf(diffId));
    const tmp = join(this.dir, 'tmp', `unpack-${randomBytes(6).toString('hex')}`);
    try {
      await mkdir(join(tmp, 'fs'), { recursive: true, mode: 0o755 });
      const { diffId: measured } = await unpackLayer(blobPath, join(tmp, 'fs'));
      if (measured !== diffId) throw invalid(`layer content has diff ID ${measured}, expected ${diffId}`);
      const size = await unpackedSize(join(tmp, 'fs'));
      await writeJsonAtomic(join(tmp, 'size.json'), { size });
      try {
        await rename(tmp, final);
      } catch (err) {
        // Another process won the race; its copy is as good as ours.
        const winner = await this.get(diffId);
        if (winner) return winner;
        if (await exists(final)) {
          // A leftover without size.json (crash mid-way in an old version): replace it.
          await this.remove(diffId);
          await rename(tmp, final);
        } else {
          throw err;
        }
      }
      await fsyncDir(this.dir);
      return { diffId, dir: this.dirOf(diffId), size, unpackedFrom: blobPath };
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
