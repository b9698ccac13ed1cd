// What the engine holds for a project, read from labels only: its containers
// grouped by service (one-off `run` containers apart), so every command sees
// the same state whoever made it (tug compose or docker-compose 1.29.2).
import type { ComposeProject } from '../model/project-types.js';
import type { ContainerSummary, EngineClient } from './engine-client.js';
import { isOneOff, nameOf, numberOf, projectFilter, SERVICE } from './labels.js';

export interface ProjectContainer {
  id: string;
  name: string;
  service: string;
  number: number;
  oneoff: boolean;
  state: string;
  summary: ContainerSummary;
}

export function toProjectContainer(c: ContainerSummary): ProjectContainer {
  return {
    id: c.Id,
    name: nameOf(c),
    service: c.Labels[SERVICE] ?? '',
    number: numberOf(c),
    oneoff: isOneOff(c.Labels),
    state: c.State,
    summary: c,
  };
}

/** Every container of the project, sorted by service then number. */
export async function projectContainers(engine: EngineClient, project: string, opts: { all?: boolean; oneoff?: boolean } = {}): Promise<ProjectContainer[]> {
  const list = await engine.listContainers(projectFilter(project), opts.all ?? true);
  return list
    .map(toProjectContainer)
    .filter((c) => opts.oneoff || !c.oneoff)
    .sort((a, b) => a.service.localeCompare(b.service) || a.number - b.number);
}

/** The containers of the given services (all of the project's when `services` is empty). */
export async function serviceContainers(engine: EngineClient, project: ComposeProject, services: string[], opts: { all?: boolean; oneoff?: boolean } = {}): Promise<ProjectContainer[]> {
  const all = await projectContainers(engine, project.name, opts);
  return services.length ? all.filter((c) => services.includes(c.service)) : all;
}

/**
 * Containers whose service the project no longer has (neither enabled nor left
 * out by a profile). A project known only by its name (no files: `-p NAME down`)
 * has no orphans: every container with its label is its own.
 */
export function orphansOf(project: ComposeProject, containers: ProjectContainer[]): ProjectContainer[] {
  if (!project.config_files.length) return [];
  return containers.filter((c) => !c.oneoff && !project.services[c.service] && !project.disabled_services[c.service]);
}
