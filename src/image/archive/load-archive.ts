// `docker load`: reads a docker-archive (manifest.json; Docker 25+ with
// blobs/sha256 paths, or older with <id>/layer.tar) or an OCI image layout tar
// (index.json naming images by io.containerd.image.name or
// org.opencontainers.image.ref.name) and adds its images to the store.
//
// GNU tar unpacks the archive (streamed, never stored whole) to a work dir first (it refuses '..' members and
// handles the symlinks older docker-archives use to share layer.tar files);
// every path the archive's JSON names is then checked to stay inside that dir.
//
// Each image is recorded by the store's addImage, which stores every blob
// before the record naming it: a crash mid-load leaves the images loaded so
// far, whole, plus unnamed blobs and the work dir under the store's tmp dir,
// both dropped when the store next opens.
import { mkdir, readFile, realpath, rm, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { extractTarStream } from './tar-extract.js';
import { invalid } from '../../errdefs.js';
import { digestOf, hexOf, isDigest } from '../../oci/digest.js';
import { Annotations, isIndexMediaType, type OciDescriptor, type OciIndex, type OciManifest } from '../../oci/image-spec.js';
import { familiarName, parseNamed, parseReference } from '../../oci/reference.js';
import type { ImageIntake, LayerBlobInput } from '../image-record.js';

/** What loading needs of the store: add images, and move tags onto them. */
export type LoadTarget = Pick<ImageIntake, 'find' | 'addImage' | 'tag'>;

interface DockerArchiveEntry {
  Config?: string;
  RepoTags?: string[] | null;
  Layers?: string[];
}

/** Loads every image of the archive into `target`; returns docker load's output lines. `tmpDir` is the store's scratch dir. */
export async function loadArchive(target: LoadTarget, input: NodeJS.ReadableStream, tmpDir: string): Promise<string[]> {
  const work = join(tmpDir, `load-${randomBytes(6).toString('hex')}`);
  try {
    return await readImageArchive(input, work, target);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function readImageArchive(input: NodeJS.ReadableStream, work: string, target: LoadTarget): Promise<string[]> {
  const dir = join(work, 'x');
  await mkdir(dir, { recursive: true });
  let bytes = 0;
  const counted = Readable.from(
    (async function* () {
      for await (const chunk of input as AsyncIterable<Buffer>) {
        bytes += chunk.length;
        yield chunk;
      }
    })(),
  );
  await extractTarStream(counted, dir, ['--no-same-owner', '--no-same-permissions']).catch(() => {
    // dockerd's own words for a body that is not a tar: Go's tar reader runs out of bytes before
    // the first 512-byte header, or finds that header's checksum wrong. Clients show this text.
    throw invalid(`Error processing tar file(exit status 1): ${bytes < 512 ? 'unexpected EOF' : 'archive/tar: invalid tar header'}`);
  });
  if (await exists(join(dir, 'manifest.json'))) return loadDockerArchive(dir, target);
  if (await exists(join(dir, 'index.json'))) return loadOciLayout(dir, target);
  throw invalid('load: archive has neither manifest.json (docker-archive) nor index.json (OCI layout)');
}

async function loadDockerArchive(dir: string, target: LoadTarget): Promise<string[]> {
  const entries = await readJson<DockerArchiveEntry[]>(dir, 'manifest.json');
  if (!Array.isArray(entries)) throw invalid('load: manifest.json is not a JSON array');
  const lines: string[] = [];
  for (const [i, e] of entries.entries()) {
    if (typeof e.Config !== 'string' || !Array.isArray(e.Layers)) throw invalid(`load: manifest.json entry ${i} lacks Config or Layers`);
    const config = await readFile(await inside(dir, e.Config));
    const layers: LayerBlobInput[] = [];
    for (const l of e.Layers) layers.push({ path: await inside(dir, l) });
    const record = await target.addImage(config, layers);
    const tags = (e.RepoTags ?? []).map((t) => familiarName(parseReference(t)));
    for (const t of tags) {
      lines.push(...(await retag(target, record.id, t)));
      lines.push(`Loaded image: ${t}`);
    }
    if (tags.length === 0) lines.push(`Loaded image ID: ${record.id}`);
  }
  return lines;
}

async function loadOciLayout(dir: string, target: LoadTarget): Promise<string[]> {
  const index = await readJson<OciIndex>(dir, 'index.json');
  if (!Array.isArray(index.manifests)) throw invalid('load: index.json has no manifests list');
  const lines: string[] = [];
  for (const desc of index.manifests) {
    const manifestDesc = isIndexMediaType(desc.mediaType) ? await pickPlatform(dir, desc) : desc;
    const manifestBytes = await readBlob(dir, manifestDesc.digest);
    const manifest = JSON.parse(manifestBytes.toString('utf8')) as OciManifest;
    if (!manifest.config || !Array.isArray(manifest.layers)) throw invalid(`load: ${manifestDesc.digest} is not an image manifest`);
    const config = await readBlob(dir, manifest.config.digest);
    const layers: LayerBlobInput[] = [];
    for (const l of manifest.layers) layers.push({ path: await blobPath(dir, l.digest), mediaType: l.mediaType, digest: l.digest });
    const record = await target.addImage(config, layers, undefined, { manifest: manifestBytes });
    const name = imageName(desc);
    if (name) {
      lines.push(...(await retag(target, record.id, name)));
      lines.push(`Loaded image: ${name}`);
    } else {
      lines.push(`Loaded image ID: ${record.id}`);
    }
  }
  return lines;
}

/** Tags `id` as `ref`; when that moves the tag off another image, says so the way docker load does. */
async function retag(target: LoadTarget, id: string, ref: string): Promise<string[]> {
  const old = await target.find(ref);
  await target.tag(id, ref);
  if (old && old.id !== id && old.repoTags.includes(ref)) return [`The image ${ref} already exists, renaming the old one with ID ${old.id} to empty string`];
  return [];
}

/** The image name an index entry carries: containerd's full name, else a ref.name that is a whole reference. */
function imageName(desc: OciDescriptor): string | undefined {
  const a = desc.annotations ?? {};
  for (const candidate of [a[Annotations.containerdImageName], a[Annotations.refName]]) {
    if (!candidate) continue;
    // A bare tag ('latest') in ref.name names no repository; skip it.
    if (!candidate.includes('/') && !candidate.includes(':')) continue;
    try {
      const r = parseNamed(candidate);
      if (r.digest !== undefined && r.tag === undefined) continue;
      return familiarName(parseReference(candidate));
    } catch {
      continue;
    }
  }
  return undefined;
}

async function pickPlatform(dir: string, desc: OciDescriptor): Promise<OciDescriptor> {
  const idx = JSON.parse((await readBlob(dir, desc.digest)).toString('utf8')) as OciIndex;
  const ms = idx.manifests ?? [];
  const pick =
    ms.find((m) => m.platform?.os === 'linux' && m.platform.architecture === 'amd64') ??
    ms.find((m) => !isIndexMediaType(m.mediaType) && m.platform?.architecture !== 'unknown');
  if (!pick) throw invalid(`load: index ${desc.digest} has no image for linux/amd64`);
  return isIndexMediaType(pick.mediaType) ? pickPlatform(dir, pick) : pick;
}

async function readBlob(dir: string, digest: string): Promise<Buffer> {
  const data = await readFile(await blobPath(dir, digest));
  if (digestOf(data) !== digest) throw invalid(`load: blob ${digest} does not match its digest`);
  return data;
}

async function blobPath(dir: string, digest: string): Promise<string> {
  if (!isDigest(digest)) throw invalid(`load: unsupported digest ${JSON.stringify(digest)}`);
  return inside(dir, join('blobs', 'sha256', hexOf(digest)));
}

async function readJson<T>(dir: string, name: string): Promise<T> {
  try {
    return JSON.parse(await readFile(join(dir, name), 'utf8')) as T;
  } catch {
    throw invalid(`load: ${name} is not valid JSON`);
  }
}

/** Resolves a path named by the archive, refusing anything (even via symlinks) outside the archive. */
async function inside(dir: string, rel: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(join(dir, rel));
  } catch {
    throw invalid(`load: archive names ${JSON.stringify(rel)}, which it does not contain`);
  }
  const base = await realpath(dir);
  if (!real.startsWith(base + sep)) throw invalid(`load: archive path ${JSON.stringify(rel)} points outside the archive`);
  return real;
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
