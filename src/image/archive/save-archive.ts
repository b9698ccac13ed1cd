// `docker save`: one tar that is both a docker-archive (manifest.json,
// repositories) and an OCI image layout (oci-layout, index.json, blobs/sha256),
// the way Docker 25+ writes it, so old and new `docker load`, skopeo and
// containerd all read it.
//
// The archive is staged as a directory of symlinks into the blob store and
// streamed by GNU tar with -h (dereference), so no blob is copied; only
// gzip-compressed layers are expanded, since docker-archive layers are plain tars.
// The blobs are held against garbage collection while they stream; the stage
// dir lives under the store's tmp dir, removed afterwards (or at next open).
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, symlink, writeFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { BlobStore } from '../../store/blob-store.js';
import { compressionOfFile, digestOf, hexOf } from '../../oci/digest.js';
import { Annotations, MediaTypes, type OciDescriptor, type OciIndex, type OciManifest } from '../../oci/image-spec.js';
import { familiarRepository, fullName, parseNamed, parseReference } from '../../oci/reference.js';
import { invalid } from '../../errdefs.js';
import type { ImageIntake, ImageRecord } from '../image-record.js';
import type { Resolved } from '../resolve-image.js';

/** What saving needs of the store: names resolved, the images to find other tags of a repository, blobs held while they stream. */
export interface SaveSource extends Pick<ImageIntake, 'blobs' | 'hold'> {
  resolve(refOrId: string): Promise<Resolved>;
  images(): Iterable<ImageRecord>;
}

/** `docker save NAME...` into `out`; `tmpDir` is the store's scratch dir. */
export async function saveArchive(source: SaveSource, refsOrIds: string[], out: NodeJS.WritableStream, tmpDir: string): Promise<void> {
  if (refsOrIds.length === 0) throw invalid('save: no image names or IDs given');
  const items = await saveItems(source, refsOrIds);
  const stage = join(tmpDir, `save-${randomBytes(6).toString('hex')}`);
  const release = source.hold(items.flatMap((i) => [i.record.id, ...i.record.layers.map((l) => l.digest)]));
  try {
    await writeImageArchive(items, source.blobs, stage, out);
  } finally {
    release();
    await rm(stage, { recursive: true, force: true });
  }
}

/** The images to save and, for each, the tags to record: the one named, or every tag of a bare repository name, as docker does. */
async function saveItems(source: SaveSource, refsOrIds: string[]): Promise<SaveItem[]> {
  const byId = new Map<string, { record: ImageRecord; tags: string[] }>();
  for (const s of refsOrIds) {
    const r = await source.resolve(s);
    const entry = byId.get(r.image.id) ?? { record: r.image, tags: [] };
    byId.set(r.image.id, entry);
    let tags: string[] = [];
    if (r.via === 'tag') {
      const named = parseNamed(s);
      if (named.tag === undefined && named.digest === undefined) {
        const repo = familiarRepository(named);
        for (const img of source.images()) {
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
  return [...byId.values()].map((e) => ({ record: e.record, tags: [...new Set(e.tags)] }));
}

export interface SaveItem {
  record: ImageRecord;
  /** Familiar tags to record for this image ('busybox:latest'); empty saves it untagged. */
  tags: string[];
}

interface DockerArchiveEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

async function writeImageArchive(items: SaveItem[], blobs: BlobStore, stage: string, out: NodeJS.WritableStream): Promise<void> {
  const blobDir = join(stage, 'blobs', 'sha256');
  await mkdir(blobDir, { recursive: true });
  const placed = new Set<string>();
  const place = async (hex: string, make: (dest: string) => Promise<void>): Promise<void> => {
    if (placed.has(hex)) return;
    placed.add(hex);
    await make(join(blobDir, hex));
  };

  const manifestJson: DockerArchiveEntry[] = [];
  const index: OciIndex = { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [] };
  const repositories: Record<string, Record<string, string>> = {};

  for (const { record, tags } of items) {
    await place(hexOf(record.id), (dest) => symlink(blobs.path(record.id), dest));
    const layerDescs: OciDescriptor[] = [];
    for (const l of record.layers) {
      const src = blobs.path(l.digest);
      const hex = hexOf(l.diffId);
      if ((await compressionOfFile(src)) === 'none') {
        await place(hex, (dest) => symlink(src, dest));
      } else {
        await place(hex, (dest) => pipeline(createReadStream(src), createGunzip(), createWriteStream(dest)));
      }
      layerDescs.push({ mediaType: MediaTypes.ociLayer, digest: l.diffId, size: (await stat(join(blobDir, hex))).size });
    }
    const configSize = (await stat(blobs.path(record.id))).size;
    const manifest: OciManifest = {
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: { mediaType: MediaTypes.ociConfig, digest: record.id, size: configSize },
      layers: layerDescs,
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const manifestDigest = digestOf(manifestBytes);
    await place(hexOf(manifestDigest), (dest) => writeFile(dest, manifestBytes));
    const desc: OciDescriptor = { mediaType: MediaTypes.ociManifest, digest: manifestDigest, size: manifestBytes.length };
    if (tags.length === 0) index.manifests.push(desc);
    for (const t of tags) {
      const ref = parseReference(t);
      index.manifests.push({ ...desc, annotations: { [Annotations.containerdImageName]: fullName(ref), [Annotations.refName]: ref.tag ?? 'latest' } });
      const top = record.layers[record.layers.length - 1];
      if (top && ref.tag !== undefined) (repositories[familiarRepository(ref)] ??= {})[ref.tag] = hexOf(top.diffId);
    }
    manifestJson.push({
      Config: `blobs/sha256/${hexOf(record.id)}`,
      RepoTags: tags,
      Layers: record.layers.map((l) => `blobs/sha256/${hexOf(l.diffId)}`),
    });
  }

  await writeFile(join(stage, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(stage, 'index.json'), JSON.stringify(index));
  await writeFile(join(stage, 'manifest.json'), JSON.stringify(manifestJson));
  const members = ['blobs', 'index.json', 'manifest.json', 'oci-layout'];
  if (Object.keys(repositories).length > 0) {
    await writeFile(join(stage, 'repositories'), JSON.stringify(repositories));
    members.push('repositories');
  }
  await streamTar(stage, members, out);
}

/** GNU tar writes the staged dir to `out`, following the symlinks into the blob store. */
async function streamTar(dir: string, members: string[], out: NodeJS.WritableStream): Promise<void> {
  const child = spawn('tar', ['-c', '-h', '-f', '-', '--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-C', dir, ...members], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (b: Buffer) => stderr.push(b));
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
  try {
    await pipeline(child.stdout, out);
  } catch (err) {
    child.kill();
    await exited.catch(() => undefined);
    throw err;
  }
  const code = await exited;
  if (code !== 0) throw new Error(`tar: ${Buffer.concat(stderr).toString('utf8').trim() || `exit ${code}`}`);
}
