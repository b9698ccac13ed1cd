// The image's config as the defaults of a new container's config, as dockerd's
// merge() (daemon/commit.go) and mergeAndVerifyConfig() (daemon/create.go) do
// it. A field the request leaves empty takes the image's value; "empty" is
// what the clients really send for "not given": the docker CLI sends
// `"User": ""`, `"Env": []`, `"Cmd": null`, `"Labels": {}`, docker-py sends
// null, tug's own callers leave fields out. Reading "" as "given" is not a
// cosmetic slip: an image's USER dropped runs the container as root.
// The request arrives as a typed ContainerSpec (the JSON's types are checked
// in engine-api/create-body.ts); what is checked here is what any caller can get wrong.
import { invalid } from '../errdefs.js';
import { mergeHealthcheck, validateHealthcheck, type HealthcheckConfig } from './health-config.js';
import type { ContainerSpec } from './container-spec.js';

/** The image config fields a container inherits (the OCI/Docker image config's `config`). */
export interface ImageDefaults {
  User?: string;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  WorkingDir?: string;
  ExposedPorts?: Record<string, object> | null;
  Volumes?: Record<string, object> | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  Healthcheck?: HealthcheckConfig | null;
}

/** The fields of a spec that fall back to the image's. */
export type RequestDefaults = Pick<ContainerSpec, 'user' | 'env' | 'cmd' | 'entrypoint' | 'workingDir' | 'exposedPorts' | 'volumes' | 'labels' | 'stopSignal' | 'healthcheck'>;

export interface MergedDefaults {
  User: string;
  Env: string[];
  Cmd: string[] | null;
  Entrypoint: string[] | null;
  WorkingDir: string;
  ExposedPorts: Record<string, object>;
  Volumes: Record<string, object>;
  Labels: Record<string, string>;
  StopSignal: string | undefined;
  Healthcheck: HealthcheckConfig | undefined;
}

export function mergeImageDefaults(req: RequestDefaults, image: ImageDefaults): MergedDefaults {
  const { cmd, entrypoint } = mergeCommand(req, image);
  const volumes = { ...setOf(req.volumes), ...(image.Volumes ?? {}) };
  const user = {
    User: req.user || image.User || '',
    Env: mergeEnv(image.Env ?? [], req.env ?? []),
    Cmd: cmd,
    Entrypoint: entrypoint,
    WorkingDir: req.workingDir || image.WorkingDir || '',
    ExposedPorts: { ...(image.ExposedPorts ?? {}), ...setOf(req.exposedPorts) },
    Volumes: volumes,
    Labels: { ...(image.Labels ?? {}), ...(req.labels ?? {}) },
    StopSignal: req.stopSignal || image.StopSignal || undefined,
  };
  // Docker's create-time checks of the request's own healthcheck.
  if (req.healthcheck) validateHealthcheck(req.healthcheck);
  return { ...user, Healthcheck: mergeHealthcheck(req.healthcheck, image.Healthcheck) };
}

/** A list of keys ('80/tcp', '/data') as Docker's set-like object. */
function setOf(keys: string[] | undefined): Record<string, object> {
  const out: Record<string, object> = {};
  for (const k of keys ?? []) out[k] = {};
  return out;
}

/**
 * Docker's ENTRYPOINT/CMD rule. An entrypoint in the request (even `[""]`)
 * means the image's CMD is not used, since it was written for the image's
 * entrypoint; only a request with no entrypoint, or an empty list, inherits
 * the image's CMD when it has none of its own. An empty list (`[]`) also keeps
 * the image's ENTRYPOINT out, null/absent inherits it. `[""]` (`--entrypoint ""`)
 * then means "no entrypoint at all".
 */
function mergeCommand(req: RequestDefaults, image: ImageDefaults): { cmd: string[] | null; entrypoint: string[] | null } {
  let entrypoint = req.entrypoint ?? null;
  let cmd = req.cmd ?? null;
  if (!entrypoint?.length) {
    if (!cmd?.length) cmd = image.Cmd ?? null;
    if (entrypoint === null) entrypoint = image.Entrypoint ?? null;
  }
  if (entrypoint?.length === 1 && entrypoint[0] === '') entrypoint = null;
  if (!entrypoint?.length && !cmd?.length) throw invalid('no command specified');
  return { cmd, entrypoint };
}

/** Docker's order: the request's variables first, then the image's that the request did not name. */
function mergeEnv(imageEnv: string[], userEnv: string[]): string[] {
  const keyOf = (e: unknown): string => {
    if (typeof e !== 'string' || e.length === 0) throw invalid(`invalid environment variable: ${String(e)}`);
    const i = e.indexOf('=');
    const key = i === -1 ? e : e.slice(0, i);
    if (!key) throw invalid(`invalid environment variable: ${e}`);
    return key;
  };
  const out = new Map<string, string>();
  for (const e of userEnv) {
    const key = keyOf(e);
    // 'FOO' without a value stays in Config.Env as sent (dockerd keeps it; it
    // unsets FOO in the process's environment, see processEnv) and hides the image's FOO.
    out.set(key, e);
  }
  for (const e of imageEnv) {
    const key = keyOf(e);
    if (!out.has(key) && e.includes('=')) out.set(key, e);
  }
  return [...out.values()];
}

/**
 * A container's Config.Env as its process sees it: a 'FOO' entry without '='
 * unsets FOO, so it is left out (dockerd's ReplaceOrAppendEnvValues does the
 * same; runc refuses an entry without '=').
 */
export function processEnv(env: readonly string[]): string[] {
  return env.filter((e) => e.includes('='));
}
