// Turning a build step into an image: a layer from an overlay upper dir (or no
// layer for metadata steps), the parent's layers, a config with the step's
// history entry. Times come from SOURCE_DATE_EPOCH when set, so the same inputs
// give the same image ID; file mtimes in the layer are clamped to it too.
import { rm, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ImageRecord, ImageStore, LayerBlobInput } from '../image/image-store.js';
import { writeLayerDiff } from '../snapshot/layer-diff.js';
import { MediaTypes, type OciContainerConfig, type OciHistory, type OciImageConfig } from '../oci/image-spec.js';
import { runTool } from '../util/exec-file.js';

export interface StepCommit {
  createdBy: string;
  config: OciContainerConfig;
  /** SOURCE_DATE_EPOCH in seconds, when the build has one. */
  epoch?: number;
}

/** An empty image for FROM scratch. */
export function scratchConfig(): OciImageConfig {
  return { architecture: 'amd64', os: 'linux', config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] }, rootfs: { type: 'layers', diff_ids: [] }, history: [] };
}

function timeOf(epoch?: number): string {
  return epoch !== undefined ? new Date(epoch * 1000).toISOString().replace('.000Z', 'Z') : new Date().toISOString();
}

function historyOf(base: OciImageConfig, layers: number): OciHistory[] {
  const h = [...(base.history ?? [])];
  // History-less bases (imports) get one entry per layer so sizes line up.
  if (h.filter((e) => !e.empty_layer).length === 0) for (let i = 0; i < layers; i++) h.push({ created: base.created });
  return h;
}

/**
 * The step's container config, as the classic builder records it (the config the
 * step ran with, from the parent image), instead of the parent's, which `...base`
 * would carry over. docker-compose 1.29.2 reads its Volumes to carry an image's
 * anonymous volumes over to the new container when it recreates a service.
 */
function containerConfigOf(parent: ImageRecord | null, step: StepCommit): OciContainerConfig {
  return { ...step.config, Cmd: ['/bin/sh', '-c', step.createdBy], Image: parent?.id ?? '' };
}

/** A step that changes only the config (ENV, CMD, LABEL…): same layers, one more empty_layer history entry. */
export async function commitConfig(store: ImageStore, parent: ImageRecord | null, step: StepCommit): Promise<ImageRecord> {
  const base = parent?.config ?? scratchConfig();
  const created = timeOf(step.epoch);
  const config: OciImageConfig = {
    ...base,
    created,
    config: step.config,
    container_config: containerConfigOf(parent, step),
    rootfs: { type: 'layers', diff_ids: [...base.rootfs.diff_ids] },
    history: [...historyOf(base, parent?.layers.length ?? 0), { created, created_by: step.createdBy, empty_layer: true }],
  };
  const layers: LayerBlobInput[] = (parent?.layers ?? []).map((l) => ({ digest: l.digest, mediaType: l.mediaType }));
  return await store.addImage(config, layers);
}

/** A step with a filesystem change: the upper dir becomes a layer. */
export async function commitLayer(store: ImageStore, parent: ImageRecord | null, upperDir: string, scratchDir: string, step: StepCommit): Promise<ImageRecord> {
  const work = join(scratchDir, `layer-${randomBytes(6).toString('hex')}`);
  await mkdir(work, { recursive: true });
  try {
    if (step.epoch !== undefined) {
      // Clamp, as BuildKit does: nothing in the layer is newer than the epoch.
      const stamp = `@${step.epoch}`;
      await runTool('find', [upperDir, '-newermt', stamp, '-exec', 'touch', '--no-create', '-h', '-d', stamp, '{}', '+']);
    }
    const tarPath = join(work, 'layer.tar');
    const diff = await writeLayerDiff(upperDir, tarPath, join(work, 'scratch'));
    const base = parent?.config ?? scratchConfig();
    const created = timeOf(step.epoch);
    const config: OciImageConfig = {
      ...base,
      created,
      config: step.config,
      container_config: containerConfigOf(parent, step),
      rootfs: { type: 'layers', diff_ids: [...base.rootfs.diff_ids, diff.diffId] },
      history: [...historyOf(base, parent?.layers.length ?? 0), { created, created_by: step.createdBy }],
    };
    const layers: LayerBlobInput[] = [
      ...(parent?.layers ?? []).map((l) => ({ digest: l.digest, mediaType: l.mediaType })),
      { path: tarPath, mediaType: MediaTypes.ociLayer },
    ];
    return await store.addImage(config, layers);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
