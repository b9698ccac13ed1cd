// The image's config as the defaults of a new container's config, as dockerd's
// merge() (daemon/commit.go) and mergeAndVerifyConfig() (daemon/create.go) do
// it. A field the request leaves empty takes the image's value; "empty" is
// what the clients really send for "not given": the docker CLI sends
// `"User": ""`, `"Env": []`, `"Cmd": null`, `"Labels": {}`, docker-py sends
// null, tug's own callers leave fields out. Reading "" as "given" is not a
// cosmetic slip: an image's USER dropped runs the container as root.
import { invalid } from '../errdefs.js';
import { mergeHealthcheck, validateHealthcheck, type HealthcheckConfig } from './health-config.js';

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

/** The same fields as a create request carries them: any JSON, checked here. */
export type RequestDefaults = { [K in keyof ImageDefaults]?: unknown };

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
  const volumes = { ...objectOf(req.Volumes, 'Volumes'), ...(image.Volumes ?? {}) };
  return {
    User: stringOf(req.User, 'User') || image.User || '',
    Env: mergeEnv(image.Env ?? [], envOf(req.Env)),
    Cmd: cmd,
    Entrypoint: entrypoint,
    WorkingDir: stringOf(req.WorkingDir, 'WorkingDir') || image.WorkingDir || '',
    ExposedPorts: { ...(image.ExposedPorts ?? {}), ...objectOf(req.ExposedPorts, 'ExposedPorts') },
    Volumes: volumes,
    Labels: { ...(image.Labels ?? {}), ...labelsOf(req.Labels) },
    StopSignal: stringOf(req.StopSignal, 'StopSignal') || image.StopSignal || undefined,
    Healthcheck: mergeHealthcheck(checkedHealthcheck(req.Healthcheck), image.Healthcheck),
  };
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
  let entrypoint = argvOf(req.Entrypoint, 'Entrypoint');
  let cmd = argvOf(req.Cmd, 'Cmd');
  if (!entrypoint?.length) {
    if (!cmd?.length) cmd = image.Cmd ?? null;
    if (entrypoint === null) entrypoint = image.Entrypoint ?? null;
  }
  if (entrypoint?.length === 1 && entrypoint[0] === '') entrypoint = null;
  if (!entrypoint?.length && !cmd?.length) throw invalid('no command specified');
  return { cmd, entrypoint };
}

/** Docker's order: the request's variables first, then the image's that the request did not set. */
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
    // 'FOO' without a value: the client had nothing to send, so the variable is left out, as Docker does.
    if (e.includes('=')) out.set(key, e);
  }
  for (const e of imageEnv) {
    const key = keyOf(e);
    if (!out.has(key) && e.includes('=')) out.set(key, e);
  }
  return [...out.values()];
}

/** Go's strslice: a string is a one-element list; null/absent stays null. */
function argvOf(v: unknown, field: string): string[] | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw invalid(`${field} must be a string or an array of strings`);
}

function stringOf(v: unknown, field: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw invalid(`${field} must be a string`);
  return v;
}

function envOf(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalid('Env must be an array of "KEY=value" strings');
  return v as string[];
}

function objectOf(v: unknown, field: string): Record<string, object> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(`${field} must be an object`);
  return v as Record<string, object>;
}

function labelsOf(v: unknown): Record<string, string> {
  const labels = objectOf(v, 'Labels') as Record<string, unknown>;
  for (const [k, val] of Object.entries(labels)) if (typeof val !== 'string') throw invalid(`label ${k} must be a string`);
  return labels as Record<string, string>;
}

/** The request's healthcheck after Docker's create-time checks. */
function checkedHealthcheck(hc: unknown): HealthcheckConfig | undefined {
  if (hc === undefined || hc === null) return undefined;
  if (typeof hc !== 'object' || Array.isArray(hc)) throw invalid('Healthcheck must be an object');
  validateHealthcheck(hc as HealthcheckConfig);
  return hc as HealthcheckConfig;
}
