// The labels and names by which a project's containers, networks and volumes
// are found again, spelled exactly as docker compose (v2 and 1.29.2) writes
// them, so tug compose and docker-compose each see the other's projects.
// State lives only in these labels: nothing is kept on the client side.
import { createHash } from 'node:crypto';
import type { ComposeProject, ServiceConfig } from '../model/project-types.js';

export const PROJECT = 'com.docker.compose.project';
export const SERVICE = 'com.docker.compose.service';
export const NUMBER = 'com.docker.compose.container-number';
export const ONEOFF = 'com.docker.compose.oneoff';
export const CONFIG_HASH = 'com.docker.compose.config-hash';
export const WORKING_DIR = 'com.docker.compose.project.working_dir';
export const CONFIG_FILES = 'com.docker.compose.project.config_files';
export const VERSION = 'com.docker.compose.version';
export const IMAGE = 'com.docker.compose.image';
export const NETWORK = 'com.docker.compose.network';
export const VOLUME = 'com.docker.compose.volume';
export const DEPENDS_ON = 'com.docker.compose.depends_on';

/** The Compose version tug writes in com.docker.compose.version (compose v2's format). */
export const COMPOSE_VERSION = '2.24.0';

/** The label filter for every container of a project (one-off ones included). */
export function projectFilter(project: string): string[] {
  return [`${PROJECT}=${project}`];
}

/**
 * The service's config hash: sha256 of its normalised config with the keys
 * that do not change a container left out (as compose's ServiceHash does:
 * build, pull policy, replicas and scale, dependencies, profiles, attach), keys sorted.
 */
export function configHash(service: ServiceConfig): string {
  const { build: _b, pull_policy: _p, depends_on: _d, profiles: _pr, scale: _s, attach: _a, deploy, ...rest } = service;
  const kept: Record<string, unknown> = { ...rest };
  if (deploy) {
    const { replicas: _r, ...d } = deploy;
    // A deploy section holding only replicas is no deploy section at all.
    if (Object.values(d).some((v) => v !== undefined)) kept.deploy = d;
  }
  return createHash('sha256').update(stableJson(kept)).digest('hex');
}

/** JSON with object keys sorted and undefined dropped, so equal configs hash equally. */
export function stableJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  const entries = Object.entries(v as Record<string, unknown>)
    .filter(([, x]) => x !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableJson(x)}`).join(',')}}`;
}

/** <project>-<service>-<n> as compose v2 names them, or the service's container_name. */
export function containerName(project: string, service: ServiceConfig, n: number): string {
  return service.container_name ?? `${project}-${service.name}-${n}`;
}

/** A one-off (`compose run`) container's name: <project>-<service>-run-<12 hex>. */
export function oneOffName(project: string, service: string, suffix: string): string {
  return `${project}-${service}-run-${suffix}`;
}

/** Labels on every service container; docker-compose 1.29.2 finds its containers by project, service and oneoff. */
export function containerLabels(project: ComposeProject, service: ServiceConfig, n: number, hash: string, oneoff: boolean): Record<string, string> {
  return {
    ...service.labels,
    [PROJECT]: project.name,
    [SERVICE]: service.name,
    [NUMBER]: String(n),
    [ONEOFF]: oneoff ? 'True' : 'False',
    [CONFIG_HASH]: hash,
    [WORKING_DIR]: project.working_dir,
    [CONFIG_FILES]: project.config_files.join(','),
    [VERSION]: COMPOSE_VERSION,
    [DEPENDS_ON]: Object.entries(service.depends_on)
      .map(([s, d]) => `${s}:${d.condition}:${d.restart}`)
      .join(','),
  };
}

export function networkLabels(project: string, key: string, own: Record<string, string>): Record<string, string> {
  return { ...own, [PROJECT]: project, [NETWORK]: key, [VERSION]: COMPOSE_VERSION };
}

export function volumeLabels(project: string, key: string, own: Record<string, string>): Record<string, string> {
  return { ...own, [PROJECT]: project, [VOLUME]: key, [VERSION]: COMPOSE_VERSION };
}

/** The container's name without the leading slash. */
export function nameOf(c: { Names?: string[]; Name?: string }): string {
  return (c.Name ?? c.Names?.[0] ?? '').replace(/^\//, '');
}

/** The container number: the label, else the tail of a v1 (<p>_<s>_<n>) or v2 (<p>-<s>-<n>) name. */
export function numberOf(c: { Labels?: Record<string, string> | null; Names?: string[] }): number {
  const n = Number(c.Labels?.[NUMBER]);
  if (Number.isInteger(n) && n > 0) return n;
  const m = /[_-](\d+)$/.exec(nameOf(c));
  return m ? Number(m[1]) : 1;
}

export function isOneOff(labels: Record<string, string> | null | undefined): boolean {
  return (labels?.[ONEOFF] ?? 'False').toLowerCase() === 'true';
}
