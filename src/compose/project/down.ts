// `compose down`: stop the project's containers in reverse dependency order
// and remove them (one-off `run` containers too, and orphans with
// --remove-orphans), then its networks, with -v its named volumes, with
// --rmi its images (local: those built for services without an `image`).
import { isKind } from '../../errdefs.js';
import type { ComposeProject } from '../model/project-types.js';
import { inDependencyOrder } from './graph.js';
import { removeContainers } from './lifecycle.js';
import { removeNetworks, removeVolumes } from './project-resources.js';
import { orphansOf, projectContainers } from './project-state.js';
import { step } from './progress.js';
import type { Runtime } from './runtime.js';
import { imageOf } from './service-images.js';

export interface DownOptions {
  volumes?: boolean;
  rmi?: 'local' | 'all';
  removeOrphans?: boolean;
  timeout?: number;
}

export async function down(rt: Runtime, project: ComposeProject, opts: DownOptions): Promise<void> {
  const all = await projectContainers(rt.engine, project.name, { oneoff: true });
  const orphans = orphansOf(project, all);
  const services = { ...project.disabled_services, ...project.services };
  const known = all.filter((c) => !orphans.includes(c));
  const names = [...new Set(known.map((c) => c.service))];
  await inDependencyOrder(services, names, 'down', (s) =>
    // With -v, their anonymous volumes go too, as with compose.
    removeContainers(rt, known.filter((c) => c.service === s), { stop: true, timeout: opts.timeout, volumes: opts.volumes }),
  );
  if (opts.removeOrphans) await removeContainers(rt, orphans, { stop: true, timeout: opts.timeout });
  else if (orphans.filter((o) => !o.oneoff).length) {
    rt.progress.warn(
      `Found orphan containers ([${orphans.map((o) => o.name).join(' ')}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`,
    );
  }
  await removeNetworks(rt.engine, project, rt.progress);
  if (opts.volumes) await removeVolumes(rt.engine, project, rt.progress);
  if (opts.rmi) await removeImages(rt, project, opts.rmi);
}

async function removeImages(rt: Runtime, project: ComposeProject, rmi: 'local' | 'all'): Promise<void> {
  const images = new Set<string>();
  for (const svc of Object.values({ ...project.disabled_services, ...project.services })) {
    if (rmi === 'all' || !svc.image) images.add(imageOf(project, svc));
  }
  for (const image of [...images].sort()) {
    if (!(await rt.engine.inspectImage(image))) continue;
    try {
      await step(rt.progress, 'Image', image, 'Removing', 'Removed', () => rt.engine.removeImage(image));
    } catch (e) {
      if (!isKind(e, 'conflict')) throw e;
      rt.progress.warn(`image ${image} is in use: ${(e as Error).message}`);
    }
  }
}
