// Taking one layer of a new image into the store: the blob stored (or one
// already stored reused), checked to be the layer the image config names by
// its diff ID, and unpacked once into the layer store.
//
// The blob store and the layer store each write atomically (temp + rename),
// and nothing names the blob or the unpacked layer until addImage records the
// image, so a crash here leaves only unnamed files, which the store's open
// sweep drops. The caller pins the blob (onStored) before anything can collect it.
import type { BlobStore } from '../store/blob-store.js';
import type { LayerStore } from '../snapshot/layer-store.js';
import { TugError, invalid } from '../errdefs.js';
import { compressionOfFile, diffIdOfFile } from '../oci/digest.js';
import { MediaTypes } from '../oci/image-spec.js';
import type { ImageLayer, LayerBlobInput } from './image-record.js';

export interface LayerIntake {
  blobs: BlobStore;
  layers: LayerStore;
  /** Called as soon as the blob is in the store, so the caller can pin it. */
  onStored(digest: string): void;
  /** The diff ID an image already recorded for this blob (it was verified when it came in). */
  knownDiffId(blobDigest: string): string | undefined;
}

/** Layer `i` of an image whose config gives it diff ID `want`. Returns the layer and its unpacked size. */
export async function takeLayer(ctx: LayerIntake, i: number, input: LayerBlobInput, want: string): Promise<{ layer: ImageLayer; unpackedSize: number }> {
  let digest: string;
  let blobSize: number;
  if (input.path !== undefined) {
    ({ digest, size: blobSize } = await ctx.blobs.putFile(input.path, input.digest));
  } else if (input.digest !== undefined && (await ctx.blobs.has(input.digest))) {
    digest = input.digest;
    blobSize = await ctx.blobs.size(digest);
  } else {
    throw invalid(`layer ${i}: neither a file path nor a stored blob digest`);
  }
  ctx.onStored(digest);
  const blobPath = ctx.blobs.path(digest);
  const compression = await compressionOfFile(blobPath);
  // Plain tars: the blob digest is the diff ID. Compressed blobs an image already has
  // were verified when they came in. Others are verified by the unpack itself, which
  // hashes what it extracts, so a fresh gzip layer is read once, not twice.
  const known = compression === 'none' ? digest : ctx.knownDiffId(digest);
  if (known !== undefined && known !== want) throw invalid(`layer ${i}: content has diff ID ${known} but the image config says ${want}`);
  let unpacked;
  try {
    unpacked = await ctx.layers.ensure(want, blobPath);
  } catch (err) {
    if (err instanceof TugError && err.kind === 'invalid') throw invalid(`layer ${i} (${digest}): ${err.message}`);
    throw invalid(`layer ${i} (${digest}): cannot unpack: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (known === undefined && unpacked.unpackedFrom !== blobPath) {
    // Someone else's copy of this diff ID was unpacked; check this blob really is it.
    const { diffId } = await diffIdOfFile(blobPath);
    if (diffId !== want) throw invalid(`layer ${i}: content has diff ID ${diffId} but the image config says ${want}`);
  }
  const mediaType = input.mediaType ?? (compression === 'gzip' ? MediaTypes.ociLayerGzip : MediaTypes.ociLayer);
  return { layer: { digest, diffId: want, size: blobSize, mediaType }, unpackedSize: unpacked.size };
}
