// The image store of one engine root: image records (what `docker images`
// lists), content-addressed blobs (configs, manifests, layer tars) and the
// unpacked layers containers run on.
//
// Layout under <root>/images:
//   images.json            records, rewritten atomically under one mutex
//   blobs/sha256/<hex>     configs, manifests and layer blobs as received
//   layers/<hex>/fs        each layer unpacked once, keyed by diff ID
// An image ID is the digest of its config blob, as in Docker.
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { BlobStore } from '../store/blob-store.js';
import { Mutex } from '../store/mutex.js';
import { LayerStore } from '../snapshot/layer-store.js';
import { writeLayerDiff } from '../snapshot/layer-diff.js';
import { writeJsonAtomic } from '../util/atomic-file.js';
import { conflict, invalid, notFound, TugError } from '../errdefs.js';
import { compressionOfFile, diffIdOfFile, isDigest } from '../oci/digest.js';
import { MediaTypes, type OciContainerConfig, type OciHistory, type OciImageConfig, type OciManifest } from '../oci/image-spec.js';
import {
  DEFAULT_DOMAIN,
  familiarName,
  familiarRepository,
  parseNamed,
  parseReference,
  type ImageReference,
} from '../oci/reference.js';
import { applyChanges } from './config-changes.js';
import { buildBusyboxLayer, BUSYBOX_REF } from './busybox.js';
import { writeImageArchive } from './archive-save.js';
import { readImageArchive } from './archive-load.js';

export interface ImageLayer {
  /** Digest of the blob as stored (compressed or not). */
  digest: string;
  /** Digest of the uncompressed tar (config.rootfs.diff_ids[i]). */
  diffId: string;
  /** Bytes of the blob as stored. */
  size: number;
  mediaType: string;
}

export interface ImageRecord {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  created: string;
  /** Bytes of unpacked layer content (what `docker images` shows). */
  size: number;
  config: OciImageConfig;
  layers: ImageLayer[];
  /** Digest of the manifest blob stored for this image (as pulled, or made locally). */
  manifestDigest: string;
}

/** A layer for addImage: a file to take into the store, or a blob already in `store.blobs`. */
export interface LayerBlobInput {
  path?: string;
  digest?: string;
  mediaType?: string;
}

export interface AddImageOptions {
  /** Manifest bytes to keep as is (a pull keeps the registry's manifest so its digest stays valid). */
  manifest?: Uint8Array;
  repoDigests?: string[];
}

export interface HistoryEntry {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

export type DeleteResponseItem = { Untagged?: string; Deleted?: string };

interface StoreFile {
  version: 1;
  images: ImageRecord[];
  /** Images deleted by force while a container used them: gone from listings, their layers kept until no container uses them. */
  zombies?: ImageRecord[];
}

interface Resolved {
  image: ImageRecord;
  /** How the string matched: a tag or digest reference (then `ref` is its familiar form), or an ID. */
  via: 'tag' | 'digest' | 'id';
  ref?: string;
}

const ZERO_TIME = '0001-01-01T00:00:00Z';
const SHORT_ID_RE = /^(?:sha256:)?([a-f0-9]{1,64})$/;

export class ImageStore {
  readonly blobs: BlobStore;
  readonly layerStore: LayerStore;
  private readonly images = new Map<string, ImageRecord>();
  private readonly zombies = new Map<string, ImageRecord>();
  private readonly mutex = new Mutex();
  private readonly metaPath: string;
  private readonly tmpDir: string;
  private inUse: (imageId: string) => boolean = () => false;
  private busyboxBuild: Promise<ImageRecord> | undefined;
  /** Blob digests and diff IDs an unfinished addImage relies on; garbage collection leaves them alone. */
  private readonly pinned = new Map<string, number>();
  /** Images a caller is about to use (between lowerDirs and registering its container): count by image ID. */
  private readonly leases = new Map<string, number>();

  private constructor(readonly root: string) {
    const dir = join(root, 'images');
    this.blobs = new BlobStore(join(dir, 'blobs'));
    this.layerStore = new LayerStore(join(dir, 'layers'));
    this.metaPath = join(dir, 'images.json');
    this.tmpDir = join(dir, 'tmp');
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
    await s.sweepOrphans();
    return s;
  }

  setInUseCheck(fn: (imageId: string) => boolean): void {
    this.inUse = fn;
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

  async remove(refOrId: string, opts: { force?: boolean; noPrune?: boolean } = {}): Promise<DeleteResponseItem[]> {
    const force = opts.force === true;
    return this.mutex.run(async () => {
      await this.reapZombies();
      const r = await this.resolve(refOrId, false);
      const img = r.image;
      const short = shortId(img.id);
      const records: DeleteResponseItem[] = [];
      const used = this.isUsed(img.id);
      if (r.via !== 'id') {
        const ref = r.ref!;
        const refCount = img.repoTags.length + img.repoDigests.length;
        if (!force && refCount === 1 && used) {
          throw conflict(`conflict: unable to remove repository reference "${refOrId}" (must force) - container is using its referenced image ${short}`);
        }
        if (r.via === 'tag') {
          img.repoTags = img.repoTags.filter((t) => t !== ref);
          // Docker: once no tag of a repository is left, its digest references go too.
          const repo = familiarRepository(parseReference(ref));
          if (!img.repoTags.some((t) => familiarRepository(parseReference(t)) === repo)) {
            img.repoDigests = img.repoDigests.filter((d) => familiarRepository(parseNamed(d)) !== repo);
          }
        } else {
          img.repoDigests = img.repoDigests.filter((d) => d !== ref);
        }
        records.push({ Untagged: ref });
        if (img.repoTags.length + img.repoDigests.length > 0 || used) {
          // Still referenced, or a container needs it (then it stays, dangling, as Docker does).
          await this.persist();
          return records;
        }
      } else {
        const repos = new Set([...img.repoTags, ...img.repoDigests].map((t) => familiarRepository(parseNamed(t))));
        if (!force && repos.size > 1) {
          throw conflict(`conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`);
        }
        if (!force && used) {
          throw conflict(`conflict: unable to delete ${short} (must be forced) - image is being used by a container`);
        }
        for (const t of [...img.repoTags, ...img.repoDigests]) records.push({ Untagged: t });
        img.repoTags = [];
        img.repoDigests = [];
      }
      this.images.delete(img.id);
      // A forced delete of an image a container still uses keeps its layers
      // (they are the container's lowerdirs) until a later reap finds it unused.
      if (used) this.zombies.set(img.id, img);
      await this.persist();
      records.push({ Deleted: img.id });
      if (!used) records.push(...(await this.collectGarbage(img)));
      return records;
    });
  }

  /**
   * Marks an image as in use until the returned release() is called, so rmi
   * treats it like an image a container uses. For the window between
   * lowerDirs() and the engine registering the container.
   */
  lease(imageId: string): () => void {
    this.leases.set(imageId, (this.leases.get(imageId) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.leases.get(imageId) ?? 0) - 1;
      if (n <= 0) this.leases.delete(imageId);
      else this.leases.set(imageId, n);
    };
  }

  /**
   * `docker image prune`: deletes dangling images (no tags), or with `all`
   * every image no container uses. Returns Docker's ImagesPrune response.
   */
  async prune(opts: { all?: boolean } = {}): Promise<{ ImagesDeleted: DeleteResponseItem[]; SpaceReclaimed: number }> {
    await this.mutex.run(() => this.reapZombies());
    const deleted: DeleteResponseItem[] = [];
    let reclaimed = 0;
    const candidates = [...this.images.values()].filter((img) => (opts.all || img.repoTags.length === 0) && !this.isUsed(img.id));
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

  async history(refOrId: string): Promise<HistoryEntry[]> {
    const img = (await this.resolve(refOrId, true)).image;
    const sizes = await Promise.all(img.layers.map(async (l) => (await this.layerStore.get(l.diffId))?.size ?? l.size));
    const hist: OciHistory[] = img.config.history && img.config.history.length > 0
      ? img.config.history
      : img.layers.map(() => ({ created: img.config.created, created_by: '' }));
    let layer = 0;
    const out: HistoryEntry[] = hist.map((h) => ({
      Id: '<missing>',
      Created: Math.floor(Date.parse(h.created ?? ZERO_TIME) / 1000) || 0,
      CreatedBy: h.created_by ?? '',
      Tags: null,
      Size: h.empty_layer ? 0 : (sizes[layer++] ?? 0),
      Comment: h.comment ?? '',
    }));
    out.reverse();
    if (out[0]) {
      out[0].Id = img.id;
      out[0].Tags = img.repoTags.length > 0 ? [...img.repoTags] : null;
    }
    return out;
  }

  async importTar(
    input: NodeJS.ReadableStream,
    opts: { ref?: string; changes?: string[]; message?: string; platform?: string } = {},
  ): Promise<ImageRecord> {
    // Validate everything cheap before reading a possibly large stream.
    const ref = opts.ref ? parseTagReference(opts.ref) : undefined;
    const containerConfig = applyChanges({}, opts.changes ?? []);
    const platform = parsePlatform(opts.platform);
    const blob = await this.blobs.putStream(input);
    this.pin([blob.digest]);
    let released = false;
    try {
      const compression = await compressionOfFile(this.blobs.path(blob.digest));
      const diffId = compression === 'none' ? blob.digest : (await diffIdOfFile(this.blobs.path(blob.digest))).diffId;
      const created = new Date().toISOString();
      const config: OciImageConfig = {
        architecture: platform.architecture,
        os: platform.os,
        ...(platform.variant ? { variant: platform.variant } : {}),
        created,
        config: containerConfig,
        rootfs: { type: 'layers', diff_ids: [diffId] },
        history: [{ created, comment: opts.message || 'Imported from -' }],
      };
      return await this.addImage(config, [{ digest: blob.digest }], ref ? familiarName(ref) : undefined);
    } catch (err) {
      this.unpin([blob.digest]);
      released = true;
      await this.mutex.run(() => this.dropUnreferenced([blob.digest]));
      throw err;
    } finally {
      if (!released) this.unpin([blob.digest]);
    }
  }

  async save(refsOrIds: string[], out: NodeJS.WritableStream): Promise<void> {
    if (refsOrIds.length === 0) throw invalid('save: no image names or IDs given');
    const byId = new Map<string, { record: ImageRecord; tags: string[] }>();
    for (const s of refsOrIds) {
      const r = await this.resolve(s, true);
      const entry = byId.get(r.image.id) ?? { record: r.image, tags: [] };
      byId.set(r.image.id, entry);
      let tags: string[] = [];
      if (r.via === 'tag') {
        // A bare repository name saves every tag of that repository, as docker does.
        const named = parseNamed(s);
        if (named.tag === undefined && named.digest === undefined) {
          const repo = familiarRepository(named);
          for (const img of this.images.values()) {
            const repoTags = img.repoTags.filter((t) => familiarRepository(parseReference(t)) === repo);
            if (repoTags.length === 0) continue;
            const e = byId.get(img.id) ?? { record: img, tags: [] };
            byId.set(img.id, e);
            e.tags.push(...repoTags);
          }
        } else {
          tags = [r.ref!];
        }
      }
      entry.tags.push(...tags);
    }
    const items = [...byId.values()].map((e) => ({ record: e.record, tags: [...new Set(e.tags)] }));
    const stage = join(this.tmpDir, `save-${randomHex()}`);
    const pins = items.flatMap((i) => [i.record.id, ...i.record.layers.map((l) => l.digest)]);
    this.pin(pins);
    try {
      await writeImageArchive(items, this.blobs, stage, out);
    } finally {
      this.unpin(pins);
      await rm(stage, { recursive: true, force: true });
    }
  }

  async load(input: NodeJS.ReadableStream): Promise<string[]> {
    const work = join(this.tmpDir, `load-${randomHex()}`);
    try {
      return await readImageArchive(input, work, {
        find: (ref) => this.find(ref),
        addImage: (config, layers, ref, opts) => this.addImage(config, layers, ref, opts),
        tag: (id, ref) => this.tag(id, ref),
      });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /**
   * `docker commit`: a new image = `base` (or nothing) + the changes in a
   * container's overlay upper dir as one more layer. `config` is the container
   * config to record (defaults to the base image's), then `changes` apply.
   */
  async commit(
    base: ImageRecord | null,
    upperDir: string,
    opts: { ref?: string; changes?: string[]; comment?: string; author?: string; createdBy?: string; config?: OciContainerConfig } = {},
  ): Promise<ImageRecord> {
    const ref = opts.ref ? familiarName(parseTagReference(opts.ref)) : undefined;
    const containerConfig = applyChanges(opts.config ?? base?.config.config ?? {}, opts.changes ?? []);
    const work = join(this.tmpDir, `commit-${randomHex()}`);
    try {
      const tarPath = join(work, 'layer.tar');
      const diff = await writeLayerDiff(upperDir, tarPath, join(work, 'scratch'));
      const created = new Date().toISOString();
      const baseCfg = base?.config;
      const history: OciHistory[] = [...(baseCfg?.history ?? [])];
      if (history.length === 0 && base) {
        // Keep one history entry per layer so `docker history` sizes line up.
        for (let i = 0; i < base.layers.length; i++) history.push({ created: baseCfg?.created });
      }
      const entry: OciHistory = { created, created_by: opts.createdBy ?? '' };
      if (opts.comment) entry.comment = opts.comment;
      if (opts.author) entry.author = opts.author;
      history.push(entry);
      const config: OciImageConfig = {
        architecture: baseCfg?.architecture ?? 'amd64',
        os: baseCfg?.os ?? 'linux',
        ...(baseCfg?.variant ? { variant: baseCfg.variant } : {}),
        created,
        ...(opts.author ? { author: opts.author } : {}),
        config: containerConfig,
        rootfs: { type: 'layers', diff_ids: [...(baseCfg?.rootfs.diff_ids ?? []), diff.diffId] },
        history,
      };
      const layers: LayerBlobInput[] = [
        ...(base?.layers ?? []).map((l) => ({ digest: l.digest, mediaType: l.mediaType })),
        { path: tarPath, mediaType: MediaTypes.ociLayer },
      ];
      return await this.addImage(config, layers, ref);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
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
    const pins: string[] = [...cfg.rootfs.diff_ids];
    this.pin(pins);
    const layerDigests: string[] = [];
    const cfgDigests: string[] = [];
    try {
      const stored: ImageLayer[] = [];
      let size = 0;
      for (const [i, input] of layers.entries()) {
        let digest: string;
        let blobSize: number;
        if (input.path !== undefined) {
          ({ digest, size: blobSize } = await this.blobs.putFile(input.path, input.digest));
        } else if (input.digest !== undefined && (await this.blobs.has(input.digest))) {
          digest = input.digest;
          blobSize = await this.blobs.size(digest);
        } else {
          throw invalid(`layer ${i}: neither a file path nor a stored blob digest`);
        }
        pins.push(digest);
        this.pin([digest]);
        layerDigests.push(digest);
        const blobPath = this.blobs.path(digest);
        const compression = await compressionOfFile(blobPath);
        const want = cfg.rootfs.diff_ids[i]!;
        // Plain tars: the blob digest is the diff ID. Compressed blobs an image already has
        // were verified when they came in. Others are verified by the unpack itself, which
        // hashes what it extracts, so a fresh gzip layer is read once, not twice.
        const known = compression === 'none' ? digest : this.knownDiffId(digest);
        if (known !== undefined && known !== want) throw invalid(`layer ${i}: content has diff ID ${known} but the image config says ${want}`);
        let unpacked;
        try {
          unpacked = await this.layerStore.ensure(want, blobPath);
        } catch (err) {
          if (err instanceof TugError && err.kind === 'invalid') throw invalid(`layer ${i} (${digest}): ${err.message}`);
          throw invalid(`layer ${i} (${digest}): cannot unpack: ${err instanceof Error ? err.message : String(err)}`);
        }
        if (known === undefined && unpacked.unpackedFrom !== blobPath) {
          // Someone else's copy of this diff ID was unpacked; check this blob really is it.
          const { diffId } = await diffIdOfFile(blobPath);
          if (diffId !== want) throw invalid(`layer ${i}: content has diff ID ${diffId} but the image config says ${want}`);
        }
        const diffId = want;
        size += unpacked.size;
        const mediaType = input.mediaType ?? (compression === 'gzip' ? MediaTypes.ociLayerGzip : MediaTypes.ociLayer);
        stored.push({ digest, diffId, size: blobSize, mediaType });
      }
      const configBlob = await this.blobs.putBytes(configBytes);
      pins.push(configBlob.digest);
      this.pin([configBlob.digest]);
      cfgDigests.push(configBlob.digest);
      const manifestBytes = opts.manifest ?? Buffer.from(JSON.stringify(localManifest(configBlob, stored)));
      const manifestBlob = await this.blobs.putBytes(manifestBytes);
      pins.push(manifestBlob.digest);
      this.pin([manifestBlob.digest]);
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
      this.unpin(pins);
      pins.length = 0;
      await this.mutex.run(() => this.dropUnreferenced([...cfgDigests, ...layerDigests]));
      throw err;
    } finally {
      this.unpin(pins);
    }
  }

  async diskUsage(): Promise<{ layersSize: number; images: Array<{ id: string; size: number; sharedSize: number }> }> {
    const users = new Map<string, number>();
    for (const img of this.images.values()) for (const d of new Set(img.layers.map((l) => l.diffId))) users.set(d, (users.get(d) ?? 0) + 1);
    const sizes = new Map<string, number>();
    for (const d of users.keys()) sizes.set(d, (await this.layerStore.get(d))?.size ?? 0);
    let layersSize = 0;
    for (const s of sizes.values()) layersSize += s;
    const images = [...this.images.values()].map((img) => {
      let size = 0;
      let sharedSize = 0;
      for (const d of new Set(img.layers.map((l) => l.diffId))) {
        const s = sizes.get(d) ?? 0;
        size += s;
        if ((users.get(d) ?? 0) > 1) sharedSize += s;
      }
      return { id: img.id, size, sharedSize };
    });
    return { layersSize, images };
  }

  // ---- internals ----

  private async resolve(refOrId: string, buildBusybox: boolean): Promise<Resolved> {
    if (refOrId === '') throw notFound('No such image: (empty name)');
    const full = /^(?:sha256:)?([a-f0-9]{64})$/.exec(refOrId);
    if (full) {
      const img = this.images.get(`sha256:${full[1]}`);
      if (img) return { image: img, via: 'id' };
      throw notFound(`No such image: ${refOrId}`);
    }
    let parsed: ImageReference | undefined;
    let parseError: unknown;
    if (!refOrId.startsWith('sha256:')) {
      try {
        parsed = parseReference(refOrId);
      } catch (err) {
        parseError = err;
      }
    }
    if (parsed) {
      if (parsed.digest !== undefined) {
        const name = familiarName({ domain: parsed.domain, path: parsed.path, digest: parsed.digest });
        for (const img of this.images.values()) if (img.repoDigests.includes(name)) return { image: img, via: 'digest', ref: name };
        // name@<image id> names the image itself when the repository matches a tag (Docker accepts this too).
        const img = this.images.get(parsed.digest);
        const repo = familiarRepository(parsed);
        if (img && img.repoTags.some((t) => familiarRepository(parseReference(t)) === repo)) return { image: img, via: 'id' };
      } else {
        const name = familiarName(parsed);
        for (const img of this.images.values()) if (img.repoTags.includes(name)) return { image: img, via: 'tag', ref: name };
        if (buildBusybox && name === BUSYBOX_REF && parsed.domain === DEFAULT_DOMAIN) {
          return { image: await this.ensureBusybox(), via: 'tag', ref: name };
        }
      }
    }
    const short = SHORT_ID_RE.exec(refOrId);
    if (short) {
      const matches = [...this.images.keys()].filter((id) => id.startsWith(`sha256:${short[1]}`));
      if (matches.length === 1) return { image: this.images.get(matches[0]!)!, via: 'id' };
      if (matches.length > 1) throw invalid(`ambiguous image ID prefix ${JSON.stringify(refOrId)}: matches ${matches.length} images`);
    }
    if (parseError && !short) throw parseError;
    throw notFound(`No such image: ${refOrId}`);
  }

  /**
   * At open, nothing else is running on this root, so every blob or unpacked
   * layer no image record names is a leftover of a crash between writing the
   * records and deleting files (or before recording a new image): drop it.
   * Anything that wants to keep blobs in this store must record an image.
   */
  private async sweepOrphans(): Promise<void> {
    const live = this.liveSets();
    for (const d of await this.blobs.list()) if (!live.blobs.has(d)) await this.blobs.remove(d);
    for (const d of await this.layerStore.list()) if (!live.diffIds.has(d)) await this.layerStore.remove(d);
  }

  private knownDiffId(blobDigest: string): string | undefined {
    for (const img of [...this.images.values(), ...this.zombies.values()]) {
      const l = img.layers.find((x) => x.digest === blobDigest);
      if (l) return l.diffId;
    }
    return undefined;
  }

  private isUsed(id: string): boolean {
    return this.leases.has(id) || this.inUse(id);
  }

  /** Builds busybox:latest from the host's busybox-static once, however many callers ask at once. */
  private ensureBusybox(): Promise<ImageRecord> {
    if (!this.busyboxBuild) {
      this.busyboxBuild = (async () => {
        const work = join(this.tmpDir, `busybox-${randomHex()}`);
        try {
          const { tarPath, config } = await buildBusyboxLayer(work);
          const { diffId } = await diffIdOfFile(tarPath);
          config.rootfs.diff_ids = [diffId];
          return await this.addImage(config, [{ path: tarPath, mediaType: MediaTypes.ociLayer }], BUSYBOX_REF);
        } finally {
          await rm(work, { recursive: true, force: true });
        }
      })().finally(() => {
        this.busyboxBuild = undefined;
      });
    }
    return this.busyboxBuild;
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

  /** Removes the blobs and unpacked layers of a deleted image that no other image uses. Returns Docker's Deleted records for layers. */
  private async collectGarbage(img: ImageRecord): Promise<DeleteResponseItem[]> {
    const records: DeleteResponseItem[] = [];
    const live = this.liveSets();
    const chainIds = chainIdsOf(img.layers.map((l) => l.diffId));
    // Top-most first, as Docker lists removed layers.
    for (let i = img.layers.length - 1; i >= 0; i--) {
      const l = img.layers[i]!;
      if (!live.diffIds.has(l.diffId) && !this.pinned.has(l.diffId)) {
        await this.layerStore.remove(l.diffId);
        records.push({ Deleted: chainIds[i]! });
      }
    }
    await this.dropUnreferenced([img.id, img.manifestDigest, ...img.layers.map((l) => l.digest)]);
    return records;
  }

  /** Deletes the given blobs unless an image or an unfinished operation still uses them. Call under the mutex. */
  private async dropUnreferenced(digests: string[]): Promise<void> {
    const live = this.liveSets();
    for (const d of new Set(digests)) {
      if (!isDigest(d) || live.blobs.has(d) || this.pinned.has(d)) continue;
      await this.blobs.remove(d);
    }
  }

  /** Blobs and layers some image (listed, or zombie) still needs. */
  private liveSets(): { blobs: Set<string>; diffIds: Set<string> } {
    const blobs = new Set<string>();
    const diffIds = new Set<string>();
    for (const img of [...this.images.values(), ...this.zombies.values()]) {
      blobs.add(img.id).add(img.manifestDigest);
      for (const l of img.layers) {
        blobs.add(l.digest);
        diffIds.add(l.diffId);
      }
    }
    return { blobs, diffIds };
  }

  /** Frees the layers of force-deleted images no container uses any more. Call under the mutex. */
  private async reapZombies(): Promise<void> {
    const dead = [...this.zombies.values()].filter((z) => !this.isUsed(z.id) && !this.images.has(z.id));
    if (dead.length === 0) return;
    for (const z of dead) this.zombies.delete(z.id);
    await this.persist();
    for (const z of dead) await this.collectGarbage(z);
  }

  private pin(keys: string[]): void {
    for (const k of keys) this.pinned.set(k, (this.pinned.get(k) ?? 0) + 1);
  }

  private unpin(keys: string[]): void {
    for (const k of keys) {
      const n = (this.pinned.get(k) ?? 0) - 1;
      if (n <= 0) this.pinned.delete(k);
      else this.pinned.set(k, n);
    }
  }
}

/** A reference that names a tag (digests cannot be tagged onto an image by hand). */
function parseTagReference(s: string): ImageReference {
  const r = parseReference(s);
  if (r.digest !== undefined) throw invalid(`refusing to create a tag with a digest reference: ${s}`);
  return r;
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

function parsePlatform(p: string | undefined): { os: string; architecture: string; variant?: string } {
  if (!p) return { os: 'linux', architecture: 'amd64' };
  const parts = p.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((x) => !/^[a-z0-9_.-]+$/.test(x))) {
    throw invalid(`invalid platform ${JSON.stringify(p)}: want os/arch[/variant]`);
  }
  return { os: parts[0]!, architecture: parts[1]!, ...(parts[2] ? { variant: parts[2] } : {}) };
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

function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

function randomHex(): string {
  return randomBytes(6).toString('hex');
}
