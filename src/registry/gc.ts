// Mark and sweep, as Distribution's `garbage-collect`: mark every blob a kept
// manifest references (the manifest itself, its config and layers, an index's
// children), then delete every blob nobody marked. By default every manifest
// revision is kept, tagged or not; with deleteUntagged, revisions not reachable
// from a tag (directly, as an index child, or as a referrer of a kept manifest)
// are deleted first. gc takes the root's write lock, so it refuses to run while
// a registry serves that root for writes (serve it --read-only meanwhile).
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Registry } from './registry.js';
import { acquireWriteLock } from './lock.js';
import { listRepoDirs } from './storage/uploads.js';
import { exists, isTemp, listDir, readIfExists } from './storage/fs-helpers.js';
import { invalid, messageOf } from '../errdefs.js';

export interface GcOptions {
  root: string;
  dryRun?: boolean;
  deleteUntagged?: boolean;
  log?: (line: string) => void;
}

export interface GcResult {
  markedBlobs: number;
  deletedBlobs: string[];
  deletedManifests: { repo: string; digest: string }[];
}

interface ManifestRefs {
  blobs: string[];
  children: string[];
  subject?: string;
}

async function refsOf(reg: Registry, digest: string): Promise<ManifestRefs | undefined> {
  const raw = await readIfExists(reg.layout.blob(digest));
  if (raw === undefined) return undefined;
  const doc = JSON.parse(raw) as {
    config?: { digest?: string };
    layers?: { digest?: string }[];
    manifests?: { digest?: string }[];
    subject?: { digest?: string };
  };
  const blobs = [doc.config?.digest, ...(doc.layers ?? []).map((l) => l.digest)].filter((d): d is string => typeof d === 'string');
  const children = (doc.manifests ?? []).map((m) => m.digest).filter((d): d is string => typeof d === 'string');
  return { blobs, children, subject: doc.subject?.digest };
}

export async function runGc(opts: GcOptions): Promise<GcResult> {
  const log = opts.log ?? ((line: string) => process.stdout.write(line + '\n'));
  if (!(await exists(join(opts.root, 'blobs'))) && !(await exists(join(opts.root, 'repositories')))) {
    throw invalid(`--root ${opts.root} holds no registry (no blobs/ or repositories/)`);
  }
  const lock = await acquireWriteLock(opts.root, opts.dryRun ? 'tug registry gc --dry-run' : 'tug registry gc');
  try {
    const reg = new Registry(opts.root);
    const marked = new Set<string>();
    const result: GcResult = { markedBlobs: 0, deletedBlobs: [], deletedManifests: [] };
    for (const repo of await listRepoDirs(reg.layout)) {
      const revisions = await reg.manifests.revisions(repo);
      const refs = new Map<string, ManifestRefs>();
      for (const d of revisions) {
        try {
          const r = await refsOf(reg, d);
          if (r) refs.set(d, r);
          else log(`warning: ${repo}@${d}: manifest content missing`);
        } catch (err) {
          log(`warning: ${repo}@${d}: unreadable manifest: ${messageOf(err)}`);
        }
      }
      let kept = new Set(revisions);
      if (opts.deleteUntagged) {
        kept = new Set((await reg.manifests.tagMap(repo)).values());
        // Grow to a fixpoint: index children and referrers of kept manifests stay.
        for (let grew = true; grew; ) {
          grew = false;
          for (const d of revisions) {
            if (kept.has(d)) continue;
            const r = refs.get(d);
            const isChild = [...kept].some((k) => refs.get(k)?.children.includes(d));
            if (isChild || (r?.subject !== undefined && kept.has(r.subject))) {
              kept.add(d);
              grew = true;
            }
          }
        }
        for (const d of revisions) {
          if (kept.has(d)) continue;
          result.deletedManifests.push({ repo, digest: d });
          log(`${opts.dryRun ? 'would delete' : 'deleting'} manifest ${repo}@${d}`);
          if (!opts.dryRun) await reg.manifests.delete(repo, d);
        }
      }
      for (const d of kept) {
        marked.add(d);
        const r = refs.get(d);
        r?.blobs.forEach((b) => marked.add(b));
        r?.children.forEach((c) => marked.add(c));
      }
    }
    result.markedBlobs = marked.size;
    const blobsDir = reg.layout.blobsDir();
    for (const prefix of await listDir(blobsDir)) {
      for (const hex of await listDir(join(blobsDir, prefix))) {
        if (isTemp(hex)) continue;
        const digest = `sha256:${hex}`;
        if (marked.has(digest)) continue;
        result.deletedBlobs.push(digest);
        log(`${opts.dryRun ? 'would delete' : 'deleting'} blob ${digest}`);
        if (!opts.dryRun) await rm(join(blobsDir, prefix, hex), { force: true });
      }
    }
    if (!opts.dryRun && result.deletedBlobs.length > 0) {
      // Drop repository links to what is gone, so no repo claims a missing blob.
      const gone = new Set(result.deletedBlobs.map((d) => d.slice(7)));
      for (const repo of await listRepoDirs(reg.layout)) {
        for (const hex of await listDir(reg.layout.layersDir(repo))) {
          if (gone.has(hex)) await rm(join(reg.layout.layersDir(repo), hex), { force: true });
        }
      }
    }
    log(
      `${result.markedBlobs} blobs marked, ${result.deletedBlobs.length} blobs ${opts.dryRun ? 'eligible for deletion' : 'deleted'}` +
        (opts.deleteUntagged ? `, ${result.deletedManifests.length} untagged manifests ${opts.dryRun ? 'eligible for deletion' : 'deleted'}` : ''),
    );
    return result;
  } finally {
    await lock.release();
  }
}
