// The image each service runs: built through the engine's /build from the
// service's context (with --build, pull_policy build, or when the image is
// missing and a build is given), pulled when missing (or always, as its
// pull_policy says), pushed on `compose push`. Failures name the service
// and say what was missing, in one line.
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { Readable } from 'node:stream';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { invalid, notFound, TugError, messageOf } from '../../errdefs.js';
import { familiarName, familiarRepository, parseReference } from '../../oci/reference.js';
import { tarContext } from '../../util/context-tar.js';
import type { ComposeProject, ServiceConfig } from '../model/project-types.js';
import type { EngineClient } from './engine-client.js';
import type { Progress } from './progress.js';

/** Registry credentials for a domain, as the X-Registry-Auth header value ('' for none). */
export type RegistryAuth = (domain: string) => Promise<string>;

/** The image a service runs: its `image`, else the one compose names for its build (<project>-<service>). */
export function imageOf(project: ComposeProject, service: ServiceConfig): string {
  return service.image ?? `${project.name}-${service.name}`;
}

export interface ImageOptions {
  /** --build: build every service that has a build section. */
  build?: boolean;
  /** --no-build: never build, even a missing image. */
  noBuild?: boolean;
  /** --pull always|missing|never (overrides each service's pull_policy). */
  pull?: string;
}

/** Makes sure every service in `names` has its image; returns service → image id. */
export async function ensureImages(
  engine: EngineClient,
  project: ComposeProject,
  names: string[],
  opts: ImageOptions,
  progress: Progress,
  auth: RegistryAuth,
): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const name of names) {
    const svc = project.services[name]!;
    const image = imageOf(project, svc);
    const policy = opts.pull ?? svc.pull_policy ?? 'missing';
    let found = await engine.inspectImage(image);
    const mustBuild = svc.build && !opts.noBuild && (opts.build || policy === 'build' || !found);
    if (mustBuild) {
      await buildService(engine, project, svc, progress);
      found = await engine.inspectImage(image);
    } else if (!svc.build || svc.image) {
      // An image compose names after the project (<project>-<service>) exists only here: never pulled.
      if (policy === 'always' || (!found && policy !== 'never')) {
        await pullService(engine, svc, image, progress, auth);
        found = await engine.inspectImage(image);
      }
    }
    if (!found) throw notFound(`service "${name}": image "${image}" not found${policy === 'never' ? ' (pull_policy: never)' : ''}`);
    ids.set(name, found.Id);
  }
  return ids;
}

export async function pullService(engine: EngineClient, svc: ServiceConfig, image: string, progress: Progress, auth: RegistryAuth): Promise<void> {
  const ref = parseReference(image);
  progress.event({ kind: 'Image', name: image, status: 'Pulling', done: false });
  try {
    const res = await engine.pullImage(familiarRepository(ref), ref.digest ?? ref.tag ?? 'latest', await auth(ref.domain));
    await readProgress(res, (m) => {
      if (m.status && !m.progressDetail?.current) progress.text(`${svc.name} ${m.id ? `${m.id} ` : ''}${m.status}`);
    });
  } catch (e) {
    progress.event({ kind: 'Image', name: image, status: 'Error', done: true, error: true });
    throw new TugError('not-found', `service "${svc.name}": image "${familiarName(ref)}" cannot be pulled: ${messageOf(e)}`);
  }
  progress.event({ kind: 'Image', name: image, status: 'Pulled', done: true });
}

export async function pushService(engine: EngineClient, project: ComposeProject, svc: ServiceConfig, progress: Progress, auth: RegistryAuth): Promise<void> {
  const image = imageOf(project, svc);
  const ref = parseReference(image);
  progress.event({ kind: 'Image', name: image, status: 'Pushing', done: false });
  try {
    const res = await engine.pushImage(familiarRepository(ref), ref.tag ?? 'latest', await auth(ref.domain));
    await readProgress(res, (m) => {
      if (m.status && !m.progressDetail?.current) progress.text(`${svc.name} ${m.id ? `${m.id} ` : ''}${m.status}`);
    });
  } catch (e) {
    progress.event({ kind: 'Image', name: image, status: 'Error', done: true, error: true });
    throw new TugError('unavailable', `service "${svc.name}": pushing "${familiarName(ref)}" failed: ${messageOf(e)}`);
  }
  progress.event({ kind: 'Image', name: image, status: 'Pushed', done: true });
}

/** Builds the service's image with the engine's /build, its context sent as a tar. */
export async function buildService(engine: EngineClient, project: ComposeProject, svc: ServiceConfig, progress: Progress, extra: { noCache?: boolean; pull?: boolean } = {}): Promise<void> {
  const b = svc.build;
  if (!b) throw invalid(`service "${svc.name}" has no build section`);
  const image = imageOf(project, svc);
  try {
    if (!(await stat(b.context)).isDirectory()) throw new Error('not a directory');
  } catch {
    throw invalid(`service "${svc.name}": build context "${b.context}" not found`);
  }
  let inlineDir: string | undefined;
  if (b.dockerfile_inline !== undefined) {
    inlineDir = await mkdtemp(join(tmpdir(), 'tug-compose-'));
    await writeFile(join(inlineDir, 'Dockerfile'), b.dockerfile_inline);
  }
  const dfPath = inlineDir ? join(inlineDir, 'Dockerfile') : isAbsolute(b.dockerfile) ? b.dockerfile : resolve(b.context, b.dockerfile);
  const rel = relative(b.context, dfPath);
  const outside = rel.startsWith('..') || isAbsolute(rel);
  try {
    await stat(dfPath);
  } catch {
    throw invalid(`service "${svc.name}": Dockerfile "${dfPath}" not found`);
  }
  const args = Object.fromEntries(Object.entries(b.args).map(([k, v]) => [k, v ?? project.environment[k]]).filter(([, v]) => v !== undefined));
  progress.event({ kind: 'Service', name: svc.name, status: 'Building', done: false });
  let error: string | undefined;
  try {
    const res = await engine.build(
      {
        t: [image, ...(b.tags ?? [])],
        dockerfile: outside ? '.tug-compose-dockerfile' : rel,
        buildargs: JSON.stringify(args),
        labels: JSON.stringify(b.labels),
        target: b.target,
        cachefrom: b.cache_from.length ? JSON.stringify(b.cache_from) : undefined,
        networkmode: b.network,
        extrahosts: b.extra_hosts.length ? b.extra_hosts.join(',') : undefined,
        shmsize: b.shm_size,
        nocache: extra.noCache || b.no_cache || undefined,
        pull: extra.pull || b.pull || undefined,
        rm: 1,
      },
      tarContext(b.context, outside ? { dir: dirname(dfPath), name: basename(dfPath), as: '.tug-compose-dockerfile' } : undefined, invalid, outside ? undefined : rel),
    );
    await readProgress(res, (m) => {
      if (m.error || m.errorDetail) error ??= m.errorDetail?.message ?? m.error;
      else if (typeof m.stream === 'string') for (const line of m.stream.split('\n')) if (line.trim()) progress.text(`${svc.name} ${line}`);
    });
  } catch (e) {
    error ??= messageOf(e);
  } finally {
    if (inlineDir) await rm(inlineDir, { recursive: true, force: true });
  }
  if (error) {
    progress.event({ kind: 'Service', name: svc.name, status: 'Error', done: true, error: true });
    throw invalid(`failed to build service "${svc.name}": ${error}`);
  }
  progress.event({ kind: 'Service', name: svc.name, status: 'Built', done: true });
}

/** Reads a JSON-lines progress stream; an error message in it rejects. */
async function readProgress(res: Readable, onMessage: (m: any) => void): Promise<void> {
  let buf = '';
  let error: string | undefined;
  const handle = (line: string): void => {
    if (!line.trim()) return;
    const m = JSON.parse(line);
    if ((m.error || m.errorDetail) && !('stream' in m)) error ??= m.errorDetail?.message ?? m.error;
    onMessage(m);
  };
  for await (const chunk of res) {
    buf += (chunk as Buffer).toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      handle(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  }
  handle(buf);
  if (error) throw new Error(error);
}
