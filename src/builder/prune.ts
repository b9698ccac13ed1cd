// `tug builder prune` / POST /build/prune: forget every cache entry, empty the
// RUN cache mounts, and remove the untagged step images the cache kept alive
// (images in use by a container or tagged stay).
import type { Engine } from '../engine/engine.js';
import type { BuildCache } from './build-cache.js';

export async function pruneBuildCache(engine: Engine, cache: BuildCache): Promise<{ CachesDeleted: string[]; SpaceReclaimed: number }> {
  const ids = await cache.prune();
  const deleted: string[] = [];
  let space = 0;
  // Newest first: a step image is removed before the ones it was built on.
  const imgs = (await Promise.all(ids.map((id) => engine.images.find(id)))).filter((i) => i !== undefined);
  imgs.sort((a, b) => b.layers.length - a.layers.length || Date.parse(b.created) - Date.parse(a.created));
  for (const img of imgs) {
    if (img.repoTags.length) continue;
    try {
      await engine.images.remove(img.id, {});
      deleted.push(img.id);
      space += img.size;
    } catch {
      // in use by a container or another image's tag: keep it
    }
  }
  return { CachesDeleted: deleted, SpaceReclaimed: space };
}
