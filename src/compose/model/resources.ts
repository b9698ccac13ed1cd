// Top-level networks, volumes, secrets and configs to the long form. Engine
// names are <project>_<key> unless `name:` is given; an external one is named
// by `name:` (or the legacy external.name) or else its key, and is never made.

import type { FileObjectConfig, NetworkConfig, VolumeConfig } from './project-types.js';
import { isObj, stringMap } from './service-normalize.js';
import { resolveHostPath } from './volumes.js';
import { type SourceFile, sourceError } from './yaml-source.js';

type Raw = Record<string, unknown>;
const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
const bool = (v: unknown): boolean => v === true || (typeof v === 'string' && v.toLowerCase() === 'true');

function externalOf(raw: Raw): { external: boolean; name?: string } {
  const e = raw.external;
  if (isObj(e)) return { external: true, name: e.name === undefined ? undefined : str(e.name) };
  return { external: bool(e) };
}

function engineName(project: string, key: string, raw: Raw, src: SourceFile | undefined, at: string): { name: string; external: boolean } {
  const ext = externalOf(raw);
  const given = raw.name === undefined ? undefined : str(raw.name);
  if (ext.external) {
    if (given !== undefined && ext.name !== undefined && given !== ext.name) {
      throw sourceError(src, at, `name and external.name conflict; use name only`);
    }
    return { name: given ?? ext.name ?? key, external: true };
  }
  return { name: given ?? `${project}_${key}`, external: false };
}

export function normalizeNetwork(project: string, key: string, v: unknown, src: SourceFile | undefined): NetworkConfig {
  const raw: Raw = isObj(v) ? v : {};
  const at = `networks.${key}`;
  const { name, external } = engineName(project, key, raw, src, at);
  const out: NetworkConfig = {
    name,
    external,
    driver_opts: stringMap(raw.driver_opts),
    internal: bool(raw.internal),
    attachable: bool(raw.attachable),
    enable_ipv6: bool(raw.enable_ipv6),
    labels: stringMap(raw.labels),
  };
  if (raw.driver !== undefined) out.driver = str(raw.driver);
  if (isObj(raw.ipam)) {
    const ipam = raw.ipam;
    out.ipam = {
      config: (Array.isArray(ipam.config) ? ipam.config : []).map((c: Raw) => {
        const e: NonNullable<NetworkConfig['ipam']>['config'][number] = {};
        if (c.subnet !== undefined) e.subnet = str(c.subnet);
        if (c.ip_range !== undefined) e.ip_range = str(c.ip_range);
        if (c.gateway !== undefined) e.gateway = str(c.gateway);
        if (isObj(c.aux_addresses)) e.aux_addresses = stringMap(c.aux_addresses);
        return e;
      }),
    };
    if (ipam.driver !== undefined) out.ipam.driver = str(ipam.driver);
    if (isObj(ipam.options)) out.ipam.options = stringMap(ipam.options);
  }
  if (external && (out.driver !== undefined || out.ipam !== undefined)) {
    throw sourceError(src, at, 'an external network takes no driver or ipam: it is not created by compose');
  }
  return out;
}

export function normalizeVolume(project: string, key: string, v: unknown, src: SourceFile | undefined): VolumeConfig {
  const raw: Raw = isObj(v) ? v : {};
  const { name, external } = engineName(project, key, raw, src, `volumes.${key}`);
  const out: VolumeConfig = { name, external, driver_opts: stringMap(raw.driver_opts), labels: stringMap(raw.labels) };
  if (raw.driver !== undefined) out.driver = str(raw.driver);
  return out;
}

export function normalizeFileObject(
  kind: 'secrets' | 'configs',
  project: string,
  key: string,
  v: unknown,
  baseDir: string,
  env: Record<string, string>,
  src: SourceFile | undefined,
): FileObjectConfig {
  const raw: Raw = isObj(v) ? v : {};
  const at = `${kind}.${key}`;
  const { name, external } = engineName(project, key, raw, src, at);
  const out: FileObjectConfig = { name, external };
  const sources = ['file', 'content', 'environment'].filter((k) => raw[k] !== undefined);
  if (!external && sources.length !== 1) {
    throw sourceError(src, at, `${kind === 'secrets' ? 'a secret' : 'a config'} needs exactly one of file, ${kind === 'configs' ? 'content, ' : ''}environment or external`);
  }
  if (kind === 'secrets' && raw.content !== undefined) throw sourceError(src, at, 'a secret takes file or environment, not content');
  if (raw.file !== undefined) out.file = resolveHostPath(str(raw.file), baseDir);
  if (raw.content !== undefined) out.content = str(raw.content);
  if (raw.environment !== undefined) {
    const value = env[str(raw.environment)];
    if (value === undefined) throw sourceError(src, `${at}.environment`, `environment variable ${str(raw.environment)} is not set`);
    out.content = value;
  }
  return out;
}
