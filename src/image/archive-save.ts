// `docker save`: one tar that is both a docker-archive (manifest.json,
// repositories) and an OCI image layout (oci-layout, index.json, blobs/sha256),
// the way Docker 25+ writes it, so old and new `docker load`, skopeo and
// containerd all read it.
//
// The archive is staged as a directory of symlinks into the blob store and
// streamed by GNU tar with -h (dereference), so no blob is copied; only
// gzip-compressed layers are expanded, since docker-archive layers are plain tars.
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, symlink, writeFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { BlobStore } from '../store/blob-store.js';
import { compressionOfFile, digestOf, hexOf } from '../oci/digest.js';
import { Annotations, MediaTypes, type OciDescriptor, type OciIndex, type OciManifest } from '../oci/image-spec.js';
import { familiarRepository, fullName, parseReference } from '../oci/reference.js';
import type { ImageRecord } from './image-store.js';

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

export async function writeImageArchive(items: SaveItem[], blobs: BlobStore, stage: string, out: NodeJS.WritableStream): Promise<void> {
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
