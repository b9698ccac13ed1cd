// `docker import`: a rootfs tarball (plain or compressed) becomes a one-layer
// image, with --change lines applied to an empty config and the message as
// its history comment.
//
// The tarball is streamed straight into the blob store and held there (so a
// concurrent rmi or prune cannot collect it) until addImage records it; on any
// failure the blob is discarded. A crash in between leaves an unnamed blob,
// which the store's open sweep removes.
import { invalid } from '../errdefs.js';
import { compressionOfFile, diffIdOfFile } from '../oci/digest.js';
import type { OciImageConfig } from '../oci/image-spec.js';
import { familiarName } from '../oci/reference.js';
import { applyChanges } from './config-changes.js';
import { parseTagReference, type ImageIntake, type ImageRecord } from './image-record.js';

export interface ImportOptions {
  ref?: string;
  changes?: string[];
  message?: string;
  platform?: string;
}

export async function importRootfs(store: ImageIntake, input: NodeJS.ReadableStream, opts: ImportOptions = {}): Promise<ImageRecord> {
  // Validate everything cheap before reading a possibly large stream.
  const ref = opts.ref ? parseTagReference(opts.ref) : undefined;
  const containerConfig = applyChanges({}, opts.changes ?? []);
  const platform = parsePlatform(opts.platform);
  const blob = await store.blobs.putStream(input);
  const release = store.hold([blob.digest]);
  try {
    const compression = await compressionOfFile(store.blobs.path(blob.digest));
    const diffId = compression === 'none' ? blob.digest : (await diffIdOfFile(store.blobs.path(blob.digest))).diffId;
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
    return await store.addImage(config, [{ digest: blob.digest }], ref ? familiarName(ref) : undefined);
  } catch (err) {
    release();
    await store.discard([blob.digest]);
    throw err;
  } finally {
    release();
  }
}

function parsePlatform(p: string | undefined): { os: string; architecture: string; variant?: string } {
  if (!p) return { os: 'linux', architecture: 'amd64' };
  const parts = p.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((x) => !/^[a-z0-9_.-]+$/.test(x))) {
    throw invalid(`invalid platform ${JSON.stringify(p)}: want os/arch[/variant]`);
  }
  return { os: parts[0]!, architecture: parts[1]!, ...(parts[2] ? { variant: parts[2] } : {}) };
}
