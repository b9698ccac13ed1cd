// RUN --mount=...: type=cache (a directory kept between builds, keyed by id or
// target), type=bind (read-only view of the context or of another stage/image),
// type=secret (a file from --secret, never in a layer or the cache key) and
// type=tmpfs.
import { createHash, randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { invalid } from '../errdefs.js';
import { resolveInScope } from '../engine/scoped-path.js';
import type { RunMount } from './run-step.js';

export interface MountSpec {
  type: 'cache' | 'bind' | 'secret' | 'tmpfs';
  target: string;
  id?: string;
  source?: string;
  from?: string;
  readonly: boolean;
  required: boolean;
  mode?: number;
  uid?: number;
  gid?: number;
}

export function parseMountFlag(value: string, where: string): MountSpec {
  const kv = new Map<string, string>();
  for (const part of value.split(',')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    kv.set((eq < 0 ? part : part.slice(0, eq)).toLowerCase(), eq < 0 ? 'true' : part.slice(eq + 1));
  }
  const type = (kv.get('type') ?? 'bind') as MountSpec['type'];
  if (!['cache', 'bind', 'secret', 'tmpfs'].includes(type)) throw invalid(`${where}: --mount type=${type} is not supported (cache, bind, secret, tmpfs)`);
  const target = kv.get('target') ?? kv.get('dst') ?? kv.get('destination');
  const id = kv.get('id');
  const spec: MountSpec = {
    type,
    target: target ?? (type === 'secret' && id ? `/run/secrets/${id}` : ''),
    id,
    source: kv.get('source') ?? kv.get('src'),
    from: kv.get('from'),
    readonly: type === 'bind' ? kv.get('rw') !== 'true' && kv.get('readwrite') !== 'true' : kv.get('ro') === 'true' || kv.get('readonly') === 'true',
    required: kv.get('required') === 'true',
    mode: kv.has('mode') ? parseInt(kv.get('mode')!, 8) : undefined,
    uid: kv.has('uid') ? Number(kv.get('uid')) : undefined,
    gid: kv.has('gid') ? Number(kv.get('gid')) : undefined,
  };
  if (!spec.target) throw invalid(`${where}: --mount type=${type} needs target=PATH${type === 'secret' ? ' or id=ID' : ''}`);
  if (!spec.target.startsWith('/')) spec.target = posix.join('/', spec.target);
  if (type === 'secret' && !spec.id) spec.id = posix.basename(spec.target);
  return spec;
}

/** What a mount contributes to the step's cache key (never secret content, never cache content). */
export function mountKey(m: MountSpec): string {
  return JSON.stringify([m.type, m.target, m.id ?? '', m.source ?? '', m.from ?? '', m.readonly]);
}

export interface MountResolveContext {
  contextDir: string;
  cacheMountsDir: string;
  secretsDir: string;
  secrets: ReadonlyMap<string, Buffer>;
  /** Rootfs of a stage or image for from=; the caller releases it after the step. */
  rootfsOf(from: string): Promise<string>;
  where: string;
}

export async function resolveRunMount(m: MountSpec, ctx: MountResolveContext): Promise<RunMount | undefined> {
  switch (m.type) {
    case 'tmpfs':
      return { type: 'tmpfs', source: '', target: m.target, readonly: false };
    case 'cache': {
      const key = createHash('sha256').update(m.id ?? m.target).digest('hex').slice(0, 32);
      const dir = join(ctx.cacheMountsDir, key);
      await mkdir(dir, { recursive: true });
      if (m.uid !== undefined || m.gid !== undefined) await chown(dir, m.uid ?? 0, m.gid ?? 0);
      if (m.mode !== undefined) await chmod(dir, m.mode);
      return { type: 'bind', source: dir, target: m.target, readonly: m.readonly };
    }
    case 'bind': {
      const root = m.from ? await ctx.rootfsOf(m.from) : ctx.contextDir;
      const src = await resolveInScope(root, m.source ?? '/');
      return { type: 'bind', source: src, target: m.target, readonly: m.readonly };
    }
    case 'secret': {
      const data = ctx.secrets.get(m.id!);
      if (!data) {
        if (m.required) throw invalid(`${ctx.where}: secret ${m.id} is required but was not given (--secret id=${m.id},src=FILE)`);
        return undefined;
      }
      const dir = join(ctx.secretsDir, randomBytes(6).toString('hex'));
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const file = join(dir, 'secret');
      await writeFile(file, data, { mode: m.mode ?? 0o400 });
      if (m.uid !== undefined || m.gid !== undefined) await chown(file, m.uid ?? 0, m.gid ?? 0);
      return { type: 'bind', source: file, target: m.target, readonly: true };
    }
  }
}
