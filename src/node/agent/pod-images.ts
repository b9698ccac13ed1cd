// imagePullPolicy through the engine: the local store first (IfNotPresent, the
// default unless the tag is :latest), a pull through the engine's registry
// client otherwise. busybox is built locally by the image store and never pulled.
import type { Engine } from '../../engine/engine.js';
import { pullImage } from '../../engine/pull-push.js';
import { TugError } from '../../errdefs.js';
import type { ImageRecord } from '../../image/image-store.js';
import type { PodContainer } from './pod-types.js';

export interface ImageFacts {
  id: string;
  user: string;
}

export async function ensureImage(engine: Engine, c: PodContainer): Promise<ImageFacts> {
  const ref = c.image;
  const latest = !/:[^/]+$/.test(ref.split('@')[0]) || ref.endsWith(':latest');
  const policy = c.imagePullPolicy ?? (latest && !ref.startsWith('busybox') ? 'Always' : 'IfNotPresent');
  let img: ImageRecord | undefined;
  if (policy !== 'Always') {
    try {
      img = await engine.images.get(ref);
    } catch (err) {
      if (!(err instanceof TugError && err.kind === 'not-found')) throw err;
    }
  }
  if (!img) {
    if (policy === 'Never') throw new TugError('not-found', `ErrImageNeverPull: container image "${ref}" is not present with pull policy of Never`);
    try {
      img = await pullImage(engine, ref);
    } catch (err) {
      // A local-only image (busybox, an imported one) with policy Always: use what is here.
      img = await engine.images.get(ref).catch(() => {
        throw err;
      });
    }
  }
  return { id: img.id, user: String(img.config.config?.User ?? '') };
}
