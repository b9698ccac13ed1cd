// What an image is in a tug engine root, and what the code that brings images
// in (pull, load, import, commit, the builder) may ask of the store holding them.
//
// Types only, plus the two small rules every part of the image layer shares
// (which references may be tags, how an ID is shortened), so the store, its
// garbage collector and the transfer code (archive/, import, commit) all lean
// on this file and never on each other.
import type { BlobStore } from '../store/blob-store.js';
import { invalid } from '../errdefs.js';
import type { OciImageConfig } from '../oci/image-spec.js';
import { parseReference, type ImageReference } from '../oci/reference.js';

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
  /** The image a commit was made on (dockerd's local parent link); absent for pulled and loaded images. */
  parent?: string;
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
  /** The local parent to record (commit). */
  parent?: string;
}

export type DeleteResponseItem = { Untagged?: string; Deleted?: string };

/**
 * What code that makes images (load, import, commit, the built-in busybox)
 * needs of the store: add an image, look a name up, tag, and keep blobs it
 * has written but not yet recorded safe from garbage collection.
 */
export interface ImageIntake {
  readonly blobs: BlobStore;
  addImage(config: OciImageConfig | Uint8Array, layers: LayerBlobInput[], ref?: string, opts?: AddImageOptions): Promise<ImageRecord>;
  find(refOrId: string): Promise<ImageRecord | undefined>;
  tag(refOrId: string, newRef: string): Promise<void>;
  /** Keeps blobs (by digest) from garbage collection until the returned release() runs; release is idempotent. */
  hold(digests: string[]): () => void;
  /** Deletes the given blobs unless an image or an unfinished operation still uses them. */
  discard(digests: string[]): Promise<void>;
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** A reference that names a tag (digests cannot be tagged onto an image by hand). */
export function parseTagReference(s: string): ImageReference {
  const r = parseReference(s);
  if (r.digest !== undefined) throw invalid(`refusing to create a tag with a digest reference: ${s}`);
  return r;
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}
