// A writable overlay of an image for a build step that changes files without
// running anything (COPY, ADD, WORKDIR), or a view of an image to copy from
// (COPY --from). Same snapshot code as containers, under a build-only ID, and
// always removed afterwards: a failed build leaves no mount behind.
import { randomBytes } from 'node:crypto';
import type { Engine } from '../engine/engine.js';
import type { ImageRecord } from '../image/image-store.js';
import { prepareContainerLayer, removeContainerLayer, type ContainerLayer } from '../snapshot/container-layer.js';

export interface ScratchLayer extends ContainerLayer {
  id: string;
  /** Unpacked lowerdirs, top-most first. */
  lowers: string[];
  release(): Promise<void>;
}

export async function mountScratch(engine: Engine, image: ImageRecord | null): Promise<ScratchLayer> {
  const id = `tug-build-${randomBytes(8).toString('hex')}`;
  const lowers = image ? await engine.images.lowerDirs(image) : [];
  try {
    const layer = await prepareContainerLayer(engine.root, id, lowers);
    return { ...layer, id, lowers, release: () => removeContainerLayer(engine.root, id) };
  } catch (err) {
    await removeContainerLayer(engine.root, id).catch(() => undefined);
    throw err;
  }
}

/** Runs fn on a scratch layer and always releases it. */
export async function withScratch<T>(engine: Engine, image: ImageRecord | null, fn: (l: ScratchLayer) => Promise<T>): Promise<T> {
  const l = await mountScratch(engine, image);
  try {
    return await fn(l);
  } finally {
    await l.release();
  }
}
