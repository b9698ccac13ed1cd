// What a daemon crash in the middle of a build can leave: RUN step containers,
// scratch overlays (COPY/ADD/WORKDIR and --from views) and scratch dirs. They
// are cleared once per daemon, before its first build (which is the first
// moment the build code runs after a restart).
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerService } from '../engine/container-service.js';
import { listContainerLayers, removeContainerLayer } from '../snapshot/container-layer.js';

export async function clearBuildLeftovers(containers: ContainerService): Promise<number> {
  const { engine } = containers;
  let cleared = 0;
  for (const c of engine.containers.all()) {
    if (c.Config.Labels?.['tug.build'] !== 'step') continue;
    await containers.remove(c.Id, { force: true, removeVolumes: true }).catch(() => undefined);
    cleared++;
  }
  for (const id of await listContainerLayers(engine.root)) {
    if (!id.startsWith('tug-build-') || engine.containers.find(id)) continue;
    await removeContainerLayer(engine.root, id).catch(() => undefined);
    cleared++;
  }
  // Scratch dirs from before this daemon started (a build running now made the newer ones).
  const tmp = join(engine.root, 'build', 'tmp');
  for (const name of await readdir(tmp).catch(() => [] as string[])) {
    const st = await stat(join(tmp, name)).catch(() => undefined);
    if (!st || st.mtimeMs >= engine.startedAt.getTime()) continue;
    await rm(join(tmp, name), { recursive: true, force: true });
    cleared++;
  }
  return cleared;
}
