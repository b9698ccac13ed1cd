// COPY/ADD sources: resolving names and globs inside a root (the build context
// or another image's filesystem) without ever leaving it, hashing their content
// for the cache key, and copying them into a step's filesystem.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink, open, readFile } from 'node:fs/promises';
import { posix, join } from 'node:path';
import { invalid } from '../errdefs.js';
import type { DigestLookup } from './context-digests.js';
import { inRootError, ScopedRoot } from '../rootfs/scoped-root.js';
import { archiveCompressionOf } from '../oci/digest.js';
import { readFileInRoot } from '../rootfs/read-file.js';
import { readResolved } from '../rootfs/tree-reader.js';
import { writeTree } from '../rootfs/tree-writer.js';
import { extractArchiveFile } from '../rootfs/extract-archive.js';
import { resolveInScope } from '../engine/scoped-path.js';

export interface SourceMatch {
  /** The root the source is read inside (the context, a stage's filesystem, a scratch dir). */
  root: string;
  /** Path relative to the source root ('' = the root itself). */
  rel: string;
  /** Host path of what rel resolves to (for hashing the context; never walked with a host tool). */
  abs: string;
  isDir: boolean;
}

const hasGlob = (s: string): boolean => /[*?[]/.test(s);

function globToRe(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = seg.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += '[' + seg.slice(i + 1, end).replace(/^!/, '^') + ']';
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Matches one COPY source inside root. `inContext` sources may not climb out
 * (../x is refused); image sources resolve symlinks inside the image's root.
 */
export async function matchSource(root: string, src: string, what: string, inContext: boolean): Promise<SourceMatch[]> {
  const norm = posix.normalize('/' + src);
  if (inContext && posix.normalize(src).split('/')[0] === '..') throw invalid(`${what}: forbidden path outside the build context: ${src}`);
  const segs = norm.split('/').filter(Boolean);
  let cur: string[][] = [[]];
  for (const seg of segs) {
    const next: string[][] = [];
    for (const base of cur) {
      if (!hasGlob(seg)) {
        next.push([...base, seg]);
        continue;
      }
      const re = globToRe(seg);
      let names: string[] = [];
      try {
        names = await readdir(await resolveInScope(root, base.join('/')));
      } catch {
        names = [];
      }
      for (const n of names.sort()) if (re.test(n)) next.push([...base, n]);
    }
    cur = next;
  }
  const out: SourceMatch[] = [];
  for (const parts of cur) {
    const rel = parts.join('/');
    const abs = await resolveInScope(root, rel);
    try {
      const st = await lstat(abs);
      out.push({ root, rel, abs, isDir: st.isDirectory() });
    } catch {
      // missing: reported below
    }
  }
  if (out.length === 0) {
    const where = inContext ? 'build context or excluded by .dockerignore' : 'source image';
    throw invalid(`${what}: file not found in ${where}: stat ${src}: file does not exist`);
  }
  return out;
}

/** Files at most this big are read whole; bigger ones stream, so memory stays bounded. */
const WHOLE_READ_MAX = 1 << 20;
/** File digests computed at once: enough to keep the thread pool busy, few enough to bound memory. */
const HASH_CONCURRENCY = 8;

async function fileDigest(abs: string, size: number): Promise<string> {
  const h = createHash('sha256');
  if (size <= WHOLE_READ_MAX) h.update(await readFile(abs));
  else for await (const chunk of createReadStream(abs, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * Hash of names, types, modes, link targets and content under the matches (not
 * mtimes: a touch is not a change). The tree is walked in order; file contents
 * are digested several at a time, each into its own hash, and folded in order;
 * `known` has the digests of context files taken as the context arrived.
 */
export async function hashSources(matches: SourceMatch[], known: DigestLookup = () => undefined): Promise<string> {
  const parts: Array<string | Promise<string>> = [];
  const inFlight = new Set<Promise<string>>();
  const visit = async (abs: string, rel: string): Promise<void> => {
    const st = await lstat(abs);
    parts.push(`${rel}\0${st.mode}\0${st.uid}:${st.gid}\0`);
    if (st.isSymbolicLink()) parts.push(`L${await readlink(abs)}\0`);
    else if (st.isDirectory()) {
      for (const n of (await readdir(abs)).sort()) await visit(join(abs, n), `${rel}/${n}`);
    } else if (st.isFile()) {
      parts.push(`F${st.size}\0`);
      const digest = st.size > 0 ? known(abs, st) : undefined;
      if (digest) parts.push(digest);
      else if (st.size > 0) {
        if (inFlight.size >= HASH_CONCURRENCY) await Promise.race(inFlight);
        const p = fileDigest(abs, st.size);
        inFlight.add(p);
        void p.then(() => inFlight.delete(p), () => inFlight.delete(p));
        parts.push(p);
      }
    }
  };
  for (const m of matches) await visit(m.abs, m.rel);
  const h = createHash('sha256');
  for (const part of parts) h.update(typeof part === 'string' ? part : await part);
  return h.digest('hex');
}

export interface CopyOwner {
  uid: number;
  gid: number;
}

/**
 * Copies matches into dest (a path inside `rootfs`). A directory source copies
 * its content; several sources need a directory destination (ending in '/').
 * Sources are read inside their own root and written inside the step's root
 * (src/rootfs), so a symlink an earlier RUN planted in the destination is
 * followed as it would be inside the container, never to a host path.
 */
export async function copyInto(rootfs: string, matches: SourceMatch[], dest: string, destIsDir: boolean, opts: { owner?: CopyOwner; chmod?: string }): Promise<void> {
  const writeOpts = { owner: opts.owner ?? { uid: 0, gid: 0 }, mode: opts.chmod ? Number.parseInt(opts.chmod, 8) : undefined };
  const destRoot = await ScopedRoot.open(rootfs);
  try {
    const copyOne = async (m: SourceMatch, destDir: string, as: string): Promise<void> => {
      const srcRoot = await ScopedRoot.open(m.root);
      try {
        const src = await srcRoot.resolve(m.rel, { followFinal: true });
        try {
          await writeTree(destRoot, destDir, readResolved(src, as), writeOpts).catch((err: unknown) => {
            throw inRootError(err, dest);
          });
        } finally {
          await src.close();
        }
      } finally {
        await srcRoot.close();
      }
    };
    if (destIsDir || matches.length > 1) {
      const dir = await destRoot.mkdirAll(dest);
      // A directory source copies its content (''), a file keeps its own name.
      for (const m of matches) await copyOne(m, dir, m.isDir ? '' : posix.basename(m.rel));
    } else {
      const m = matches[0]!;
      if (m.isDir) await copyOne(m, await destRoot.mkdirAll(dest), '');
      else await copyOne(m, await destRoot.mkdirAll(posix.dirname(posix.resolve('/', dest))), posix.basename(posix.resolve('/', dest)));
    }
  } finally {
    await destRoot.close();
  }
}

/** Looks a user (and group) up in the image's /etc/passwd and /etc/group; numbers pass through. */
export async function resolveOwner(rootfs: string, spec: string): Promise<CopyOwner> {
  const [user, group] = spec.split(':') as [string, string | undefined];
  const lookup = async (file: string, name: string, field: number): Promise<{ id: number; gid?: number }> => {
    if (/^\d+$/.test(name)) return { id: Number(name) };
    const text = (await readFileInRoot(rootfs, file)) ?? '';
    for (const line of text.split('\n')) {
      const f = line.split(':');
      if (f[0] === name) return { id: Number(f[field]), gid: file === '/etc/passwd' ? Number(f[3]) : undefined };
    }
    throw invalid(`unable to find ${file === '/etc/passwd' ? 'user' : 'group'} ${name}: no matching entries in ${file === '/etc/passwd' ? 'passwd' : 'group'} file`);
  };
  const u = await lookup('/etc/passwd', user, 2);
  const gid = group !== undefined ? (await lookup('/etc/group', group, 2)).id : /^\d+$/.test(user) ? u.id : (u.gid ?? u.id);
  return { uid: u.id, gid };
}

/** True when a path looks like a tar archive ADD should unpack (by magic, not by name). */
export async function isTarArchive(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, 512, 0);
    if (bytesRead < 3) return false;
    if (archiveCompressionOf(buf.subarray(0, bytesRead))) return true; // gzip, bzip2, xz, zstd
    return bytesRead >= 262 && buf.subarray(257, 262).toString() === 'ustar';
  } finally {
    await fh.close();
  }
}

/** Unpacks a (maybe compressed) tar into dir inside rootfs, keeping owners as the archive has them, as Docker's ADD does. */
export async function extractTarInto(archive: string, rootfs: string, dir: string): Promise<void> {
  const root = await ScopedRoot.open(rootfs);
  try {
    await extractArchiveFile(archive, root, await root.mkdirAll(dir)).catch((err: unknown) => {
      throw inRootError(err, dir);
    });
  } finally {
    await root.close();
  }
}
