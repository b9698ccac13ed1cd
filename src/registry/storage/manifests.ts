// Manifest revisions, tags and the referrers index of one registry root.
// A manifest's bytes are a content-addressed blob; the repository holds a
// revision file (its media type, size, subject) per digest and one file per tag
// naming a digest. Referrers are indexed at PUT time under the subject's digest
// so GET /referrers is a directory read, not a scan.
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { writeJsonAtomic, writeFileAtomic } from '../../util/atomic-file.js';
import { regError } from '../errors.js';
import { parseReference } from '../names.js';
import { parseManifest, type Descriptor } from '../manifest-format.js';
import { Layout } from './layout.js';
import { BlobStore } from './blobs.js';
import { exists, isNotFound, isTemp, listDir, readIfExists } from './fs-helpers.js';

export interface Revision {
  digest: string;
  mediaType: string;
  size: number;
  subject?: string;
}

export interface StoredManifest extends Revision {
  body: Buffer;
}

export class ManifestStore {
  constructor(
    readonly layout: Layout,
    readonly blobs: BlobStore,
  ) {}

  /** Verify and store a manifest under a tag or digest reference. */
  async put(repo: string, reference: string, body: Buffer, contentType: string): Promise<Revision & { subject?: string }> {
    const ref = parseReference(reference);
    const parsed = parseManifest(body, contentType);
    const digest = 'sha256:' + createHash('sha256').update(body).digest('hex');
    if (ref.digest && ref.digest !== digest) {
      throw regError('DIGEST_INVALID', `manifest body has digest ${digest}, not ${ref.digest}`);
    }
    for (const b of parsed.blobs) {
      if ((await this.blobs.statInRepo(repo, b)) === undefined) {
        throw regError('MANIFEST_BLOB_UNKNOWN', `blob ${b} referenced by the manifest is not in repository ${repo}`, { digest: b });
      }
    }
    for (const c of parsed.children) {
      if (!(await exists(this.layout.revision(repo, c)))) {
        throw regError('MANIFEST_BLOB_UNKNOWN', `manifest ${c} referenced by the index is not in repository ${repo}`, { digest: c });
      }
    }
    await this.blobs.putBytes(body);
    const rev: Revision = { digest, mediaType: parsed.mediaType, size: body.length, subject: parsed.subject?.digest };
    await writeJsonAtomic(this.layout.revision(repo, digest), rev);
    if (parsed.subject) {
      const entry: Descriptor = { mediaType: parsed.mediaType, digest, size: body.length };
      if (parsed.artifactType) entry.artifactType = parsed.artifactType;
      if (parsed.annotations) entry.annotations = parsed.annotations;
      await writeJsonAtomic(join(this.layout.referrersDir(repo, parsed.subject.digest), digest.slice(7)), entry);
    }
    if (ref.tag) await writeFileAtomic(this.layout.tag(repo, ref.tag), digest);
    return rev;
  }

  async resolve(repo: string, reference: string): Promise<Revision> {
    const ref = parseReference(reference);
    let digest = ref.digest;
    if (ref.tag) {
      digest = (await readIfExists(this.layout.tag(repo, ref.tag)))?.trim();
      if (!digest) throw regError('MANIFEST_UNKNOWN', `manifest ${repo}:${ref.tag} unknown`);
    }
    const raw = await readIfExists(this.layout.revision(repo, digest!));
    if (!raw) throw regError('MANIFEST_UNKNOWN', `manifest ${repo}@${digest} unknown`);
    return JSON.parse(raw) as Revision;
  }

  async get(repo: string, reference: string): Promise<StoredManifest> {
    const rev = await this.resolve(repo, reference);
    try {
      return { ...rev, body: await readFile(this.layout.blob(rev.digest)) };
    } catch (err) {
      if (isNotFound(err)) throw regError('MANIFEST_UNKNOWN', `manifest ${repo}@${rev.digest} content is missing`);
      throw err;
    }
  }

  /**
   * When a reference last changed: a tag's last push (its link file is
   * rewritten on every push of the tag), or a digest's first push. Sent as
   * Last-Modified so a registry browser can show push times.
   */
  async modified(repo: string, reference: string): Promise<Date | undefined> {
    const ref = parseReference(reference);
    const path = ref.tag ? this.layout.tag(repo, ref.tag) : this.layout.revision(repo, ref.digest!);
    return (await stat(path).catch(() => undefined))?.mtime;
  }

  /** Delete by digest (the revision, its tags and its referrer entry) or by tag (just the tag). */
  async delete(repo: string, reference: string): Promise<void> {
    const ref = parseReference(reference);
    if (ref.tag) {
      try {
        await rm(this.layout.tag(repo, ref.tag));
      } catch (err) {
        if (isNotFound(err)) throw regError('MANIFEST_UNKNOWN', `manifest ${repo}:${ref.tag} unknown`);
        throw err;
      }
      return;
    }
    const rev = await this.resolve(repo, reference);
    for (const t of await this.tags(repo)) {
      if ((await readIfExists(this.layout.tag(repo, t)))?.trim() === rev.digest) await rm(this.layout.tag(repo, t), { force: true });
    }
    if (rev.subject) await rm(join(this.layout.referrersDir(repo, rev.subject), rev.digest.slice(7)), { force: true });
    await rm(this.layout.revision(repo, rev.digest), { force: true });
  }

  async repoExists(repo: string): Promise<boolean> {
    return (await exists(this.layout.manifestsDir(repo))) || (await exists(join(this.layout.repo(repo), '_layers')));
  }

  async tags(repo: string): Promise<string[]> {
    return (await listDir(this.layout.tagsDir(repo))).filter((t) => !isTemp(t)).sort();
  }

  /** Tag → digest for every tag of a repository. */
  async tagMap(repo: string): Promise<Map<string, string>> {
    const m = new Map<string, string>();
    for (const t of await this.tags(repo)) {
      const d = (await readIfExists(this.layout.tag(repo, t)))?.trim();
      if (d) m.set(t, d);
    }
    return m;
  }

  async revisions(repo: string): Promise<string[]> {
    return (await listDir(this.layout.revisionsDir(repo))).filter((h) => !isTemp(h)).map((h) => `sha256:${h}`);
  }

  async referrers(repo: string, subject: string, artifactType?: string): Promise<Descriptor[]> {
    const dir = this.layout.referrersDir(repo, subject);
    const out: Descriptor[] = [];
    for (const name of (await listDir(dir)).filter((n) => !isTemp(n)).sort()) {
      const raw = await readIfExists(join(dir, name));
      if (!raw) continue;
      const d = JSON.parse(raw) as Descriptor;
      if (!(await exists(this.layout.revision(repo, d.digest)))) continue;
      if (artifactType !== undefined && d.artifactType !== artifactType) continue;
      out.push(d);
    }
    return out;
  }
}
