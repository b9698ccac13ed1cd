// `docker commit`'s image: a base image (or nothing) plus the changes in a
// container's overlay upper dir as one more layer, with the container config
// to record and --change lines applied, and one more history entry.
//
// The layer tar is written in a work dir under the store's tmp dir and taken
// in by addImage, which records the image only after every blob is stored; the
// work dir is removed whatever happens, and a crash leaves only tmp files and
// unnamed blobs, both dropped when the store next opens. Freezing the
// container while its upper dir is read is the engine's part
// (src/engine/commit-container.ts).
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeLayerDiff } from '../snapshot/layer-diff.js';
import { MediaTypes, type OciContainerConfig, type OciHistory, type OciImageConfig } from '../oci/image-spec.js';
import { familiarName } from '../oci/reference.js';
import { applyChanges } from './config-changes.js';
import { parseTagReference, type ImageIntake, type ImageRecord, type LayerBlobInput } from './image-record.js';

export interface CommitOptions {
  ref?: string;
  changes?: string[];
  comment?: string;
  author?: string;
  createdBy?: string;
  /** The container config to record (defaults to the base image's); `changes` apply on top. */
  config?: OciContainerConfig;
  /** The committed container: its id and full config go into the image config as dockerd writes them (container, container_config). */
  container?: { id: string; config: Record<string, unknown> };
}

/** `workDir` is a scratch dir of the store's (its tmp dir, emptied at open). */
export async function commitImage(
  store: Pick<ImageIntake, 'addImage'>,
  workDir: string,
  base: ImageRecord | null,
  upperDir: string,
  opts: CommitOptions = {},
): Promise<ImageRecord> {
  const ref = opts.ref ? familiarName(parseTagReference(opts.ref)) : undefined;
  const containerConfig = applyChanges(opts.config ?? base?.config.config ?? {}, opts.changes ?? []);
  const work = join(workDir, `commit-${randomBytes(6).toString('hex')}`);
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
      ...(opts.container ? { container: opts.container.id, container_config: opts.container.config } : {}),
      config: containerConfig,
      rootfs: { type: 'layers', diff_ids: [...(baseCfg?.rootfs.diff_ids ?? []), diff.diffId] },
      history,
    };
    const layers: LayerBlobInput[] = [
      ...(base?.layers ?? []).map((l) => ({ digest: l.digest, mediaType: l.mediaType })),
      { path: tarPath, mediaType: MediaTypes.ociLayer },
    ];
    return await store.addImage(config, layers, ref, base ? { parent: base.id } : {});
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
