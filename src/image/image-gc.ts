// Garbage collection of an image store: which blobs and unpacked layers are
// still needed, and removing the rest.
//
// A blob or layer is live while an image record names it (a listed image, or a
// zombie: deleted by force while a container still runs on it) or while a pin
// holds it (an unfinished write). An image counts as used while a lease or a
// container holds it. The store writes new files before the record that names
// them, and rewrites records before deleting files, so a crash leaves at worst
// files no record names; sweepOrphans() at open drops exactly those.
import { createHash } from 'node:crypto';
import type { BlobStore } from '../store/blob-store.js';
import type { LayerStore } from '../snapshot/layer-store.js';
import { isDigest } from '../oci/digest.js';
import { Holds } from './leases.js';
import type { DeleteResponseItem, ImageRecord } from './image-record.js';

export interface DiskUsage {
  layersSize: number;
  images: Array<{ id: string; size: number; sharedSize: number }>;
}

export class ImageGc {
  /** Blob digests and diff IDs an unfinished operation relies on. */
  readonly pins = new Holds();
  /** Images a caller is about to use, by image ID. */
  readonly leases = new Holds();
  private inUse: (imageId: string) => boolean = () => false;

  /** `records` lists every image record that keeps content alive: listed images and zombies. */
  constructor(
    private readonly blobs: BlobStore,
    private readonly layers: LayerStore,
    private readonly records: () => ImageRecord[],
  ) {}

  /** The engine's answer to "does a container use this image?". */
  setInUseCheck(fn: (imageId: string) => boolean): void {
    this.inUse = fn;
  }

  isUsed(imageId: string): boolean {
    return this.leases.has(imageId) || this.inUse(imageId);
  }

  /**
   * At open, nothing else is running on this root, so every blob or unpacked
   * layer no image record names is a leftover of a crash between writing the
   * records and deleting files (or before recording a new image): drop it.
   * Anything that wants to keep blobs in this store must record an image.
   */
  async sweepOrphans(): Promise<void> {
    const live = this.liveSets();
    for (const d of await this.blobs.list()) if (!live.blobs.has(d)) await this.blobs.remove(d);
    for (const d of await this.layers.list()) if (!live.diffIds.has(d)) await this.layers.remove(d);
  }

  /**
   * Removes the blobs and unpacked layers of a deleted image (already gone
   * from the records) that no other image uses. Returns Docker's Deleted
   * records for layers. Call under the store's mutex.
   */
  async collect(img: ImageRecord): Promise<DeleteResponseItem[]> {
    const records: DeleteResponseItem[] = [];
    const live = this.liveSets();
    const chainIds = chainIdsOf(img.layers.map((l) => l.diffId));
    // Top-most first, as Docker lists removed layers.
    for (let i = img.layers.length - 1; i >= 0; i--) {
      const l = img.layers[i]!;
      if (!live.diffIds.has(l.diffId) && !this.pins.has(l.diffId)) {
        await this.layers.remove(l.diffId);
        records.push({ Deleted: chainIds[i]! });
      }
    }
    await this.dropUnreferenced([img.id, img.manifestDigest, ...img.layers.map((l) => l.digest)]);
    return records;
  }

  /** Deletes the given blobs unless an image or an unfinished operation still uses them. Call under the store's mutex. */
  async dropUnreferenced(digests: string[]): Promise<void> {
    const live = this.liveSets();
    for (const d of new Set(digests)) {
      if (!isDigest(d) || live.blobs.has(d) || this.pins.has(d)) continue;
      await this.blobs.remove(d);
    }
  }

  /** The diff ID an image already recorded for a layer blob, if any (then the blob was verified when it came in). */
  knownDiffId(blobDigest: string): string | undefined {
    for (const img of this.records()) {
      const l = img.layers.find((x) => x.digest === blobDigest);
      if (l) return l.diffId;
    }
    return undefined;
  }

  /** `docker system df` for images: unpacked bytes in all, and per image its own and its shared bytes. */
  async usage(images: ImageRecord[]): Promise<DiskUsage> {
    const users = new Map<string, number>();
    for (const img of images) for (const d of new Set(img.layers.map((l) => l.diffId))) users.set(d, (users.get(d) ?? 0) + 1);
    const sizes = new Map<string, number>();
    for (const d of users.keys()) sizes.set(d, (await this.layers.get(d))?.size ?? 0);
    let layersSize = 0;
    for (const s of sizes.values()) layersSize += s;
    return {
      layersSize,
      images: images.map((img) => {
        let size = 0;
        let sharedSize = 0;
        for (const d of new Set(img.layers.map((l) => l.diffId))) {
          const s = sizes.get(d) ?? 0;
          size += s;
          if ((users.get(d) ?? 0) > 1) sharedSize += s;
        }
        return { id: img.id, size, sharedSize };
      }),
    };
  }

  /** Blobs and layers some image (listed, or zombie) still needs. */
  private liveSets(): { blobs: Set<string>; diffIds: Set<string> } {
    const blobs = new Set<string>();
    const diffIds = new Set<string>();
    for (const img of this.records()) {
      blobs.add(img.id).add(img.manifestDigest);
      for (const l of img.layers) {
        blobs.add(l.digest);
        diffIds.add(l.diffId);
      }
    }
    return { blobs, diffIds };
  }
}

/** Docker's layer chain IDs: chain(0) = diff(0); chain(n) = sha256(chain(n-1) + ' ' + diff(n)). */
export function chainIdsOf(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : 'sha256:' + createHash('sha256').update(`${prev} ${d}`).digest('hex'));
  }
  return out;
}
