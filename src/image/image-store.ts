// The image store of one engine root: image records and their tags (what
// `docker images` lists), content-addressed blobs (configs, manifests, layer
// tars) and the unpacked layers containers run on.
//
// Layout under <root>/images:
//   images.json            records, rewritten atomically under one mutex
//   blobs/sha256/<hex>     configs, manifests and layer blobs as received
//   layers/<hex>/fs        each layer unpacked once, keyed by diff ID
//   tmp/                   scratch for commit, load, save, busybox; emptied at open
// An image ID is the digest of its config blob, as in Docker.
//
// Crash safety: files are written before the record naming them and records
// rewritten before files are deleted, so images.json never names a missing
// file; open() drops the files no record names (image-gc.ts).
//
// This file owns records and tags. Around it, each in its own file: resolving
// names (resolve-image.ts), rmi's rules (untag-image.ts), taking layers in
// (layer-intake.ts), leases and garbage collection (leases.ts, image-gc.ts),
// history (image-history.ts), busybox (busybox.ts), docker import
// (import-rootfs.ts), docker commit (commit-image.ts), docker save and load
// (archive/). Those take the small ImageIntake interface (image-record.ts),
// never this class; the methods here that reach them are thin doors, so
// callers keep one object to talk to.
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BlobStore } from '../store/blob-store.js';
import { Mutex } from '../store/mutex.js';
import { LayerStore } from '../snapshot/layer-store.js';
import { writeJsonAtomic } from '../util/atomic-file.js';
import { invalid, notFound, TugError } from '../errdefs.js';
import { isDigest } from '../oci/digest.js';
import { MediaTypes, type OciImageConfig, type OciManifest } from '../oci/image-spec.js';
import { familiarName, parseNamed, type ImageReference } from '../oci/reference.js';
import {
  parseTagReference,
  ZERO_TIME,
  type AddImageOptions,
  type DeleteResponseItem,
  type ImageIntake,
  type ImageLayer,
  type ImageRecord,
  type LayerBlobInput,
} from './image-record.js';
import { resolveImage, type Resolved } from './resolve-image.js';
import { takeLayer } from './layer-intake.js';
import { untagForRemoval } from './untag-image.js';
import { ImageGc, type DiskUsage } from './image-gc.js';
import { historyOf, type HistoryEntry } from './image-history.js';
import { BuiltinBusybox } from './busybox.js';
import { importRootfs, type ImportOptions } from './import-rootfs.js';
import { commitImage, type CommitOptions } from './commit-image.js';
import { loadArchive } from './archive/load-archive.js';
import { saveArchive } from './archive/save-archive.js';

export type { AddImageOptions, DeleteResponseItem, ImageLayer, ImageRecord, LayerBlobInput } from './image-record.js';
export type { HistoryEntry } from './image-history.js';
export { chainIdsOf } from './image-gc.js';

interface StoreFile {
  version: 1;
  images: ImageRecord[];
  /** Images deleted by force while a container used them: gone from listings, their layers kept until no container uses them. */
  zombies?: ImageRecord[];
}

export class ImageStore implements ImageIntake {
  readonly blobs: BlobStore;
  readonly layerStore: LayerStore;
  private readonly images = new Map<string, ImageRecord>();
  private readonly zombies = new Map<string, ImageRecord>();
  private readonly mutex = new Mutex();
  private readonly metaPath: string;
  private readonly tmpDir: string;
  private readonly gc: ImageGc;
  private readonly busybox: BuiltinBusybox;

  private constructor(readonly root: string) {
    const dir = join(root, 'images');
    this.blobs = new BlobStore(join(dir, 'blobs'));
    this.layerStore = new LayerStore(join(dir, 'layers'));
    this.metaPath = join(dir, 'images.json');
    this.tmpDir = join(dir, 'tmp');
    this.gc = new ImageGc(this.blobs, this.layerStore, () => [...this.images.values(), ...this.zombies.values()]);
    this.busybox = new BuiltinBusybox(this, this.tmpDir);
  }

  static async open(root: string): Promise<ImageStore> {
    const s = new ImageStore(root);
    await s.blobs.init();
    await s.layerStore.init();
    await rm(s.tmpDir, { recursive: true, force: true });
    await mkdir(s.tmpDir, { recursive: true });
    let file: StoreFile | undefined;
    try {
      file = JSON.parse(await readFile(s.metaPath, 'utf8')) as StoreFile;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const img of file?.images ?? []) s.images.set(img.id, img);
    for (const img of file?.zombies ?? []) s.zombies.set(img.id, img);
    await s.gc.sweepOrphans();
    return s;
  }

  setInUseCheck(fn: (imageId: string) => boolean): void {
    this.gc.setInUseCheck(fn);
  }

  async list(): Promise<ImageRecord[]> {
    return [...this.images.values()].map((i) => structuredClone(i));
  }

  async get(refOrId: string): Promise<ImageRecord> {
    // A container keeps running on (and can restart from) an image deleted by
    // force; its full ID still resolves, though the image is no longer listed.
    const zombie = this.zombies.get(refOrId.startsWith('sha256:') ? refOrId : `sha256:${refOrId}`);
    if (zombie && !this.images.has(zombie.id)) return structuredClone(zombie);
    return structuredClone((await this.resolve(refOrId, true)).image);
  }

  /** Like get, but undefined instead of not-found (and never builds busybox). */
  async find(refOrId: string): Promise<ImageRecord | undefined> {
    try {
      return structuredClone((await this.resolve(refOrId, false)).image);
    } catch (err) {
      if (err instanceof TugError && err.kind === 'not-found') return undefined;
      throw err;
    }
  }

  async tag(refOrId: string, newRef: string): Promise<void> {
    const target = parseTagReference(newRef);
    const { image } = await this.resolve(refOrId, true);
    await this.mutex.run(async () => {
      if (!this.images.has(image.id)) throw notFound(`No such image: ${refOrId}`);
      this.setTagLocked(image.id, target);
      await this.persist();
    });
  }

  /** `docker rmi`: untags, and deletes the image once nothing names or uses it. Returns Docker's ImageDeleteResponse items. */
  async remove(refOrId: string, opts: { force?: boolean; noPrune?: boolean } = {}): Promise<DeleteResponseItem[]> {
    const force = opts.force === true;
    return this.mutex.run(async () => {
      await this.reapZombies();
      const r = await this.resolve(refOrId, false);
      const img = r.image;
      const used = this.gc.isUsed(img.id);
      const { records, deleteImage } = untagForRemoval(r, refOrId, used, force);
      if (!deleteImage) {
        await this.persist();
        return records;
      }
      this.images.delete(img.id);
      // A forced delete of an image a container still uses keeps its layers
      // (they are the container's lowerdirs) until a later reap finds it unused.
      if (used) this.zombies.set(img.id, img);
      await this.persist();
      records.push({ Deleted: img.id });
      if (!used) records.push(...(await this.gc.collect(img)));
      return records;
    });
  }

  /**
   * Marks an image as in use until the returned release() is called, so rmi
   * treats it like an image a container uses. For the window between
   * lowerDirs() and the engine registering the container.
   */
  lease(imageId: string): () => void {
    return this.gc.leases.hold([imageId]);
  }

  /**
   * `docker image prune`: deletes dangling images (no tags), or with `all`
   * every image no container uses. Returns Docker's ImagesPrune response.
   */
  async prune(opts: { all?: boolean } = {}): Promise<{ ImagesDeleted: DeleteResponseItem[]; SpaceReclaimed: number }> {
    await this.mutex.run(() => this.reapZombies());
    const deleted: DeleteResponseItem[] = [];
    let reclaimed = 0;
    const candidates = [...this.images.values()].filter((img) => (opts.all || img.repoTags.length === 0) && !this.gc.isUsed(img.id));
    for (const img of candidates) {
      const before = (await this.diskUsage()).layersSize;
      try {
        deleted.push(...(await this.remove(img.id, { force: true })));
      } catch (err) {
        if (err instanceof TugError && err.kind === 'not-found') continue; // removed meanwhile
        throw err;
      }
      reclaimed += before - (await this.diskUsage()).layersSize;
    }
    return { ImagesDeleted: deleted, SpaceReclaimed: reclaimed };
  }

  async diskUsage(): Promise<DiskUsage> {
    return this.gc.usage([...this.images.values()]);
  }

  async history(refOrId: string): Promise<HistoryEntry[]> {
    const img = (await this.resolve(refOrId, true)).image;
    const sizes = await Promise.all(img.layers.map(async (l) => (await this.layerStore.get(l.diffId))?.size ?? l.size));
    return historyOf(img, sizes);
  }

  /** `docker import` (import-rootfs.ts). */
  importTar(input: NodeJS.ReadableStream, opts: ImportOptions = {}): Promise<ImageRecord> {
    return importRootfs(this, input, opts);
  }

  /** `docker save` (archive/save-archive.ts). */
  save(refsOrIds: string[], out: NodeJS.WritableStream): Promise<void> {
    const source = { blobs: this.blobs, hold: (d: string[]) => this.hold(d), resolve: (s: string) => this.resolve(s, true), images: () => this.images.values() };
    return saveArchive(source, refsOrIds, out, this.tmpDir);
  }

  /** `docker load` (archive/load-archive.ts). */
  load(input: NodeJS.ReadableStream): Promise<string[]> {
    return loadArchive(this, input, this.tmpDir);
  }

  /** `docker commit`'s image from a container's upper dir (commit-image.ts). */
  commit(base: ImageRecord | null, upperDir: string, opts: CommitOptions = {}): Promise<ImageRecord> {
    return commitImage(this, this.tmpDir, base, upperDir, opts);
  }

  /** Unpacked layer dirs, top-most first (overlay lowerdir order). Unpacks what is missing. */
  async lowerDirs(image: ImageRecord): Promise<string[]> {
    const dirs: string[] = [];
    for (const l of image.layers) {
      const u = await this.layerStore.ensure(l.diffId, this.blobs.path(l.digest));
      dirs.push(u.dir);
    }
    return dirs.reverse();
  }

  hold(digests: string[]): () => void {
    return this.gc.pins.hold(digests);
  }

  discard(digests: string[]): Promise<void> {
    return this.mutex.run(() => this.gc.dropUnreferenced(digests));
  }

  /**
   * Stores an image: layer blobs (files are hard-linked or copied in; digests
   * already in `blobs` are used as is), the config, a manifest, and unpacks each
   * layer once. `ref` (familiar or full) is tagged onto it, moving it off any other image.
   */
  async addImage(
    config: OciImageConfig | Uint8Array,
    layers: LayerBlobInput[],
    ref?: string,
    opts: AddImageOptions = {},
  ): Promise<ImageRecord> {
    const tagRef = ref !== undefined ? parseTagReference(ref) : undefined;
    const configBytes = config instanceof Uint8Array ? config : Buffer.from(JSON.stringify(config));
    const cfg = parseConfig(configBytes);
    if (cfg.rootfs.diff_ids.length !== layers.length) {
      throw invalid(`image config lists ${cfg.rootfs.diff_ids.length} layer diff IDs but ${layers.length} layers were given`);
    }
    // Everything this call stores stays pinned until the record naming it is written (or the call fails).
    const pins: string[] = [...cfg.rootfs.diff_ids];
    this.gc.pins.add(pins);
    const pin = (digest: string): void => {
      pins.push(digest);
      this.gc.pins.add([digest]);
    };
    const layerDigests: string[] = [];
    const cfgDigests: string[] = [];
    try {
      const stored: ImageLayer[] = [];
      let size = 0;
      const intake = {
        blobs: this.blobs,
        layers: this.layerStore,
        onStored: (digest: string) => {
          pin(digest);
          layerDigests.push(digest);
        },
        knownDiffId: (digest: string) => this.gc.knownDiffId(digest),
      };
      for (const [i, input] of layers.entries()) {
        const { layer, unpackedSize } = await takeLayer(intake, i, input, cfg.rootfs.diff_ids[i]!);
        size += unpackedSize;
        stored.push(layer);
      }
      const configBlob = await this.blobs.putBytes(configBytes);
      pin(configBlob.digest);
      cfgDigests.push(configBlob.digest);
      const manifestBytes = opts.manifest ?? Buffer.from(JSON.stringify(localManifest(configBlob, stored)));
      const manifestBlob = await this.blobs.putBytes(manifestBytes);
      pin(manifestBlob.digest);
      cfgDigests.push(manifestBlob.digest);
      const record: ImageRecord = {
        id: configBlob.digest,
        repoTags: [],
        repoDigests: [],
        created: cfg.created ?? ZERO_TIME,
        size,
        config: cfg,
        layers: stored,
        manifestDigest: manifestBlob.digest,
        ...(opts.parent ? { parent: opts.parent } : {}),
      };
      return await this.mutex.run(async () => {
        const existing = this.images.get(record.id);
        const img = existing ?? record;
        this.zombies.delete(img.id); // back from the dead: an ordinary image again
        if (!existing) this.images.set(img.id, img);
        for (const d of opts.repoDigests ?? []) {
          const n = familiarName(parseNamed(d));
          if (!img.repoDigests.includes(n)) img.repoDigests.push(n);
        }
        if (tagRef) this.setTagLocked(img.id, tagRef);
        await this.persist();
        return structuredClone(img);
      });
    } catch (err) {
      // Release our pins first so our own half-stored blobs are not protected from the cleanup.
      this.gc.pins.remove(pins);
      pins.length = 0;
      await this.mutex.run(() => this.gc.dropUnreferenced([...cfgDigests, ...layerDigests]));
      throw err;
    } finally {
      this.gc.pins.remove(pins);
    }
  }

  // ---- internals ----

  private resolve(refOrId: string, buildBusybox: boolean): Promise<Resolved> {
    return resolveImage(this.images, refOrId, buildBusybox ? (name, parsed) => this.busybox.forMissingTag(name, parsed) : undefined);
  }

  private setTagLocked(id: string, ref: ImageReference): void {
    const name = familiarName(ref);
    for (const img of this.images.values()) {
      if (img.id !== id && img.repoTags.includes(name)) img.repoTags = img.repoTags.filter((t) => t !== name);
    }
    const img = this.images.get(id)!;
    if (!img.repoTags.includes(name)) img.repoTags.push(name);
  }

  private async persist(): Promise<void> {
    const file: StoreFile = { version: 1, images: [...this.images.values()], zombies: [...this.zombies.values()] };
    await writeJsonAtomic(this.metaPath, file);
  }

  /** Frees the layers of force-deleted images no container uses any more. Call under the mutex. */
  private async reapZombies(): Promise<void> {
    const dead = [...this.zombies.values()].filter((z) => !this.gc.isUsed(z.id) && !this.images.has(z.id));
    if (dead.length === 0) return;
    for (const z of dead) this.zombies.delete(z.id);
    await this.persist();
    for (const z of dead) await this.gc.collect(z);
  }
}

function parseConfig(bytes: Uint8Array): OciImageConfig {
  let cfg: OciImageConfig;
  try {
    cfg = JSON.parse(Buffer.from(bytes).toString('utf8')) as OciImageConfig;
  } catch {
    throw invalid('image config is not valid JSON');
  }
  if (typeof cfg !== 'object' || cfg === null) throw invalid('image config is not a JSON object');
  if (!cfg.rootfs || !Array.isArray(cfg.rootfs.diff_ids)) throw invalid('image config has no rootfs.diff_ids');
  for (const d of cfg.rootfs.diff_ids) if (!isDigest(d)) throw invalid(`image config: bad diff ID ${JSON.stringify(d)}`);
  return cfg;
}

function localManifest(config: { digest: string; size: number }, layers: ImageLayer[]): OciManifest {
  return {
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    config: { mediaType: MediaTypes.ociConfig, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
}
