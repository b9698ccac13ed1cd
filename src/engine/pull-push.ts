// Engine side of "Ship": pull an image from a registry into the image store,
// push one from it, and check registry credentials (docker login). Progress
// goes out as Docker's JSON messages so the docker CLI draws its usual lines.
import { createReadStream } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { invalid, notFound, TugError } from '../errdefs.js';
import { digestOf } from '../oci/digest.js';
import { MediaTypes, type OciIndex } from '../oci/image-spec.js';
import { familiarName, familiarRepository, fullRepository, parseNamed, parseReference, type ImageReference } from '../oci/reference.js';
import type { ImageRecord, LayerBlobInput } from '../image/image-store.js';
import {
  RegistryClient,
  byteReporter,
  domainOfServerAddress,
  downloadBlob,
  eachLimited,
  getManifest,
  isIndex,
  parseImageManifest,
  parsePlatform,
  pushBlob,
  putManifest,
  readBody,
  selectPlatform,
  shortDigest,
  type ProgressSink,
  type RegistryAuth,
} from '../image/registry-client/index.js';
import type { Engine } from './engine.js';
import { recordImageAction } from './engine-metrics.js';

/** Layers moved at once, as dockerd's default max-concurrent-downloads/uploads (3 and 5; 3 for both here). */
const LAYER_CONCURRENCY = 3;
const MAX_CONFIG = 8 * 1024 * 1024;
const PARTIAL_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

export interface PullOptions {
  /** os/arch[/variant]; default linux/amd64. */
  platform?: string;
  auth?: RegistryAuth;
  onProgress?: ProgressSink;
}

export interface PushOptions {
  auth?: RegistryAuth;
  onProgress?: ProgressSink;
}

/** Where half-downloaded blobs wait (by digest) for the next attempt to resume them. */
export function partialDownloadsDir(engine: Engine): string {
  return join(engine.root, 'registry-downloads');
}

export async function pullImage(engine: Engine, ref: string, opts: PullOptions = {}): Promise<ImageRecord> {
  const began = performance.now();
  const image = await withoutLoginPrompt(() => pullImageInner(engine, ref, opts));
  recordImageAction('pull', began);
  return image;
}

/**
 * The docker CLI answers a 401 from pull or push by prompting for a login and
 * retrying (forever, without a terminal), so a registry's refusal goes out as
 * 403 with the registry's own "unauthorized: ..." words; only /auth says 401.
 */
async function withoutLoginPrompt<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof TugError && err.kind === 'unauthorized') throw new TugError('forbidden', err.message, err.detail);
    throw err;
  }
}

async function pullImageInner(engine: Engine, ref: string, opts: PullOptions): Promise<ImageRecord> {
  const sink: ProgressSink = opts.onProgress ?? (() => undefined);
  const named = parseReference(ref);
  const shown = familiarName(named);
  const want = parsePlatform(opts.platform);
  const repo = named.path;
  const client = await RegistryClient.connect(named.domain, opts.auth);

  const top = await getManifest(client, repo, named.digest ?? named.tag!, shown);
  let man = top;
  if (isIndex(top)) {
    const chosen = selectPlatform(JSON.parse(top.bytes.toString('utf8')) as OciIndex, want, shown);
    man = await getManifest(client, repo, chosen.digest, shown);
  }
  const manifest = parseImageManifest(man, shown);
  sink({ status: `Pulling from ${familiarRepository(named)}`, id: named.digest ?? named.tag });

  const before = await engine.images.find(shown);
  const configBytes = await fetchConfig(client, repo, manifest.config.digest);
  const blobs = engine.images.blobs;
  const partialDir = partialDownloadsDir(engine);
  const fresh: string[] = [];
  for (const l of manifest.layers) {
    const id = shortDigest(l.digest);
    if (await blobs.has(l.digest)) sink({ status: 'Already exists', progressDetail: {}, id });
    else {
      if (!fresh.includes(l.digest)) fresh.push(l.digest);
      sink({ status: 'Pulling fs layer', progressDetail: {}, id });
    }
  }
  // Layers beyond the first few wait for a download slot, and docker shows that.
  for (const digest of fresh.slice(LAYER_CONCURRENCY)) sink({ status: 'Waiting', progressDetail: {}, id: shortDigest(digest) });
  await sweepStalePartials(partialDir);
  await eachLimited(fresh, LAYER_CONCURRENCY, async (digest) => {
    const desc = manifest.layers.find((l) => l.digest === digest)!;
    const id = shortDigest(digest);
    // Pulls of images sharing a layer share its one download.
    await onceAtATime(`${engine.root}\0${digest}`, async () => {
      if (await blobs.has(digest)) return;
      const path = await downloadBlob(client, repo, digest, desc.size, { partialDir, onProgress: byteReporter(sink, id, 'Downloading') });
      sink({ status: 'Verifying Checksum', progressDetail: {}, id });
      // The file was just verified; putFile links it into the store (and re-hashes, which keeps the store's own promise).
      await blobs.putFile(path, digest);
      await rm(path, { force: true });
    });
    sink({ status: 'Download complete', progressDetail: {}, id });
  });
  for (const digest of fresh) sink({ status: 'Extracting', progressDetail: {}, id: shortDigest(digest) });
  const layers: LayerBlobInput[] = manifest.layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType }));
  const tagRef = named.tag !== undefined ? familiarName({ domain: named.domain, path: named.path, tag: named.tag }) : undefined;
  let img: ImageRecord;
  try {
    img = await engine.images.addImage(configBytes, layers, tagRef, {
      manifest: man.bytes,
      repoDigests: [`${fullRepository(named)}@${top.digest}`],
    });
  } catch (err) {
    if (err instanceof TugError && err.kind === 'invalid') throw invalid(`pulling ${shown}: ${err.message}`);
    throw err;
  }
  for (const digest of fresh) sink({ status: 'Pull complete', progressDetail: {}, id: shortDigest(digest) });
  sink({ status: `Digest: ${top.digest}` });
  const upToDate = before?.id === img.id && fresh.length === 0;
  sink({ status: `Status: ${upToDate ? 'Image is up to date' : 'Downloaded newer image'} for ${shown}` });
  engine.events.emit('image', 'pull', shown, { name: familiarRepository(named) });
  return img;
}

/** Partial downloads nobody resumed for a week are dropped (a pull given up on, an image never asked for again). */
async function sweepStalePartials(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  const cutoff = Date.now() - PARTIAL_MAX_AGE_MS;
  for (const n of names.filter((x) => x.endsWith('.partial'))) {
    const st = await stat(join(dir, n)).catch(() => undefined);
    if (st && st.mtimeMs < cutoff) await rm(join(dir, n), { force: true });
  }
}

const layerFetches = new Map<string, Promise<void>>();

/** Runs fn for `key` unless a run is in flight, in which case it waits for that one (and shares its outcome). */
function onceAtATime(key: string, fn: () => Promise<void>): Promise<void> {
  let p = layerFetches.get(key);
  if (!p) {
    p = fn().finally(() => layerFetches.delete(key));
    layerFetches.set(key, p);
  }
  return p;
}

async function fetchConfig(client: RegistryClient, repo: string, digest: string): Promise<Buffer> {
  const res = await client.request('GET', `/v2/${repo}/blobs/${digest}`, { scopes: { [repo]: 'pull' }, what: `config blob ${digest}` });
  if (res.statusCode !== 200) {
    res.resume();
    throw invalid(`config blob ${digest}: registry answered ${res.statusCode}`);
  }
  const bytes = await readBody(res, MAX_CONFIG);
  if (digestOf(bytes) !== digest) throw invalid(`config blob ${digest}: content does not match its digest`);
  return bytes;
}

/** Pushes `ref` (repo:tag; a bare repository pushes every local tag of it), returning the manifest digest of the last tag pushed. */
export async function pushImage(engine: Engine, ref: string, opts: PushOptions = {}): Promise<string> {
  return withoutLoginPrompt(() => pushImageInner(engine, ref, opts));
}

async function pushImageInner(engine: Engine, ref: string, opts: PushOptions): Promise<string> {
  const sink: ProgressSink = opts.onProgress ?? (() => undefined);
  const named = parseNamed(ref);
  if (named.digest !== undefined) throw invalid(`cannot push a digest reference: ${ref}`);
  const repoShown = familiarRepository(named);
  let targets: Array<{ tag: string; image: ImageRecord }>;
  if (named.tag !== undefined) {
    const image = await engine.images.find(familiarName(named));
    if (!image) throw notFound(`tag does not exist: ${familiarName(named)}`);
    targets = [{ tag: named.tag, image }];
  } else {
    targets = [];
    for (const image of await engine.images.list()) {
      for (const t of image.repoTags) {
        const r = parseReference(t);
        if (familiarRepository(r) === repoShown) targets.push({ tag: r.tag!, image });
      }
    }
    if (!targets.length) throw notFound(`An image does not exist locally with the tag: ${repoShown}`);
  }
  const client = await RegistryClient.connect(named.domain, opts.auth);
  sink({ status: `The push refers to repository [${fullRepository(named)}]` });
  let last = '';
  for (const { tag, image } of targets) last = await pushOne(engine, client, named, tag, image, sink);
  engine.events.emit('image', 'push', `${repoShown}:${targets[targets.length - 1]!.tag}`, { name: repoShown });
  return last;
}

async function pushOne(engine: Engine, client: RegistryClient, named: ImageReference, tag: string, image: ImageRecord, sink: ProgressSink): Promise<string> {
  const repo = named.path;
  const blobs = engine.images.blobs;
  // Other repositories of this registry the image came from or was pushed to: candidates for a mount.
  const mountFrom = [...new Set([...image.repoTags, ...image.repoDigests].map((s) => parseNamed(s)).filter((r) => r.domain === named.domain && r.path !== repo).map((r) => r.path))];
  const layers = [...image.layers].reverse(); // top-most first, as docker lists them
  for (const l of layers) sink({ status: 'Preparing', progressDetail: {}, id: shortDigest(l.diffId) });
  for (const l of layers.slice(LAYER_CONCURRENCY)) sink({ status: 'Waiting', progressDetail: {}, id: shortDigest(l.diffId) });
  await eachLimited(layers, LAYER_CONCURRENCY, async (l) => {
    const id = shortDigest(l.diffId);
    const result = await pushBlob(
      client,
      repo,
      { digest: l.digest, size: l.size, open: () => createReadStream(blobs.path(l.digest)) },
      { mountFrom, onProgress: byteReporter(sink, id, 'Pushing') },
    );
    if (result === 'exists') sink({ status: 'Layer already exists', progressDetail: {}, id });
    else if (result === 'mounted') sink({ status: `Mounted from ${mountFrom.join(', ')}`, progressDetail: {}, id });
    else sink({ status: 'Pushed', progressDetail: {}, id });
  });
  await pushBlob(client, repo, { digest: image.id, size: await blobs.size(image.id), open: () => createReadStream(blobs.path(image.id)) }, { mountFrom });
  const manifestBytes = await blobs.read(image.manifestDigest);
  let mediaType: string = MediaTypes.ociManifest;
  try {
    mediaType = (JSON.parse(manifestBytes.toString('utf8')) as { mediaType?: string }).mediaType ?? mediaType;
  } catch {
    throw invalid(`stored manifest of ${image.id} is not JSON`);
  }
  const digest = await putManifest(client, repo, tag, manifestBytes, mediaType);
  await recordRepoDigest(engine, image, `${fullRepository(named)}@${digest}`, manifestBytes);
  sink({ status: `${tag}: digest: ${digest} size: ${manifestBytes.length}` });
  sink({ progressDetail: {}, aux: { Tag: tag, Digest: digest, Size: manifestBytes.length } });
  return digest;
}

/**
 * After a push the image is known by its digest in that repository (docker
 * images --digests, pull by digest), as with dockerd. addImage with the stored
 * blobs only adds the reference; the image's manifest stays the one pushed.
 */
async function recordRepoDigest(engine: Engine, image: ImageRecord, repoDigest: string, manifest: Buffer): Promise<void> {
  const config = await engine.images.blobs.read(image.id);
  const layers = image.layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType }));
  await engine.images.addImage(config, layers, undefined, { manifest, repoDigests: [repoDigest] });
}

/** `docker login`: checks the credentials against the registry named by serveraddress. */
export async function loginToRegistry(auth: RegistryAuth): Promise<{ Status: string; IdentityToken: string }> {
  if (!auth.username && !auth.identitytoken) throw invalid('login: username is required');
  const domain = domainOfServerAddress(auth.serveraddress ?? '');
  const client = await RegistryClient.connect(domain, auth);
  await client.login();
  return { Status: 'Login Succeeded', IdentityToken: '' };
}
