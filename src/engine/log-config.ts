// HostConfig.LogConfig: which log drivers a container may name and which of
// their options are known, checked at create as dockerd checks them. tug
// keeps every container's output in one on-disk log that reads as json-file
// does; the driver and options are kept as given so inspect shows them.
import { invalid } from '../errdefs.js';

export interface LogConfig {
  Type: string;
  Config: Record<string, string>;
}

export interface LogConfigSpec {
  type?: string;
  config?: Record<string, string>;
}

/** The drivers tug serves, with the options dockerd's driver of that name accepts. */
const drivers: Record<string, ReadonlySet<string> | 'any'> = {
  'json-file': new Set(['max-size', 'max-file', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag']),
  local: new Set(['max-size', 'max-file', 'compress']),
  // dockerd's none driver takes any option and ignores them.
  none: 'any',
};

/** '' means the daemon's default driver, json-file. */
export function validateLogConfig(spec: LogConfigSpec | undefined): LogConfig {
  const type = spec?.type || 'json-file';
  const config = spec?.config ?? {};
  const known = drivers[type];
  // dockerd's words for a driver it cannot find (docker-py's tests match them).
  if (!known) throw invalid(`error looking up logging plugin ${type}: plugin "${type}" not found`);
  for (const [k, v] of Object.entries(config)) {
    if (typeof v !== 'string') throw invalid(`log option ${k} must be a string`);
    if (known !== 'any' && !known.has(k)) throw invalid(`unknown log opt '${k}' for ${type} log driver`);
  }
  return { Type: type, Config: { ...config } };
}
