// Service volume syntax to the long form: "name:/path:ro" (named volume),
// "./dir:/path" and "/abs:/path" (bind, relative to the base directory, `~`
// the home directory), "/path" (anonymous volume), or the long mapping. Throws
// a plain message; the caller adds where.

import * as os from 'node:os';
import * as path from 'node:path';
import type { ServiceVolumeConfig } from './project-types.js';
import { parseSize } from './units.js';

const PROPAGATION = new Set(['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate']);

export function resolveHostPath(p: string, baseDir: string): string {
  if (p === '~' || p.startsWith('~/')) return path.join(os.homedir(), p.slice(1));
  return path.resolve(baseDir, p);
}

function isPathLike(s: string): boolean {
  return s.startsWith('.') || s.startsWith('/') || s.startsWith('~');
}

export function parseVolumeString(spec: string, baseDir: string): ServiceVolumeConfig {
  const parts = spec.split(':');
  if (parts.length > 3 || parts.some((p) => p === '')) throw new Error(`invalid volume "${spec}": write [source:]target[:mode]`);
  if (parts.length === 1) {
    return { type: 'volume', target: parts[0]!, read_only: false, volume: { nocopy: false } };
  }
  const [source, target, mode = ''] = parts as [string, string, string?];
  if (!target.startsWith('/')) throw new Error(`invalid volume "${spec}": the target "${target}" must be an absolute path`);
  let readOnly = false;
  let nocopy = false;
  let propagation: string | undefined;
  let selinux: 'z' | 'Z' | undefined;
  for (const opt of mode ? mode.split(',') : []) {
    if (opt === 'ro') readOnly = true;
    else if (opt === 'rw') readOnly = false;
    else if (opt === 'nocopy') nocopy = true;
    else if (opt === 'z' || opt === 'Z') selinux = opt;
    else if (PROPAGATION.has(opt)) propagation = opt;
    else throw new Error(`invalid volume "${spec}": unknown mode "${opt}"`);
  }
  if (isPathLike(source)) {
    const bind: NonNullable<ServiceVolumeConfig['bind']> = { create_host_path: true };
    if (propagation) bind.propagation = propagation;
    if (selinux) bind.selinux = selinux;
    if (nocopy) throw new Error(`invalid volume "${spec}": nocopy applies to named volumes`);
    return { type: 'bind', source: resolveHostPath(source, baseDir), target, read_only: readOnly, bind };
  }
  if (propagation) throw new Error(`invalid volume "${spec}": propagation applies to bind mounts`);
  return { type: 'volume', source, target, read_only: readOnly, volume: { nocopy } };
}

export function parseVolumeLong(v: Record<string, unknown>, baseDir: string): ServiceVolumeConfig {
  const type = String(v.type ?? '');
  if (type !== 'volume' && type !== 'bind' && type !== 'tmpfs') {
    throw new Error(type ? `type "${type}" is not supported: use volume, bind or tmpfs` : 'type is required (volume, bind or tmpfs)');
  }
  if (v.target === undefined) throw new Error('target is required');
  const target = String(v.target);
  const readOnly = v.read_only === true || v.read_only === 'true';
  const out: ServiceVolumeConfig = { type, target, read_only: readOnly };
  const source = v.source === undefined || v.source === '' ? undefined : String(v.source);
  const bindIn = (v.bind ?? {}) as Record<string, unknown>;
  const volIn = (v.volume ?? {}) as Record<string, unknown>;
  const tmpfsIn = (v.tmpfs ?? {}) as Record<string, unknown>;
  if (type === 'bind') {
    if (!source) throw new Error('source is required for a bind mount');
    out.source = resolveHostPath(source, baseDir);
    const bind: NonNullable<ServiceVolumeConfig['bind']> = {
      create_host_path: bindIn.create_host_path === true || bindIn.create_host_path === 'true',
    };
    if (bindIn.propagation !== undefined) {
      const p = String(bindIn.propagation);
      if (!PROPAGATION.has(p)) throw new Error(`bind.propagation "${p}" is not one of ${[...PROPAGATION].join(', ')}`);
      bind.propagation = p;
    }
    if (bindIn.selinux === 'z' || bindIn.selinux === 'Z') bind.selinux = bindIn.selinux;
    out.bind = bind;
  } else if (type === 'volume') {
    if (source) out.source = source;
    out.volume = { nocopy: volIn.nocopy === true || volIn.nocopy === 'true' };
    if (volIn.subpath !== undefined) out.volume.subpath = String(volIn.subpath);
  } else {
    if (source) throw new Error('a tmpfs mount takes no source');
    const tmpfs: NonNullable<ServiceVolumeConfig['tmpfs']> = {};
    if (tmpfsIn.size !== undefined) tmpfs.size = parseSize(tmpfsIn.size);
    if (tmpfsIn.mode !== undefined) tmpfs.mode = Number(tmpfsIn.mode);
    out.tmpfs = tmpfs;
  }
  return out;
}
