// Docker's rules for `docker rmi NAME`: what a name given to rmi takes off an
// image, when that leaves the image itself to delete, and when rmi must refuse
// without --force. Pure: it edits the in-memory record only; the store writes
// the records (and deletes files) afterwards, under its mutex.
import { conflict } from '../errdefs.js';
import { familiarRepository, parseNamed, parseReference } from '../oci/reference.js';
import { shortId, type DeleteResponseItem } from './image-record.js';
import type { Resolved } from './resolve-image.js';

export interface Untagged {
  /** Docker's Untagged items, in order. */
  records: DeleteResponseItem[];
  /** Whether nothing names the image any more and it should be deleted (kept as a zombie while used). */
  deleteImage: boolean;
}

/** `r` is how `refOrId` resolved; `used`: a container or a lease holds the image. Mutates r.image's tags and digests. */
export function untagForRemoval(r: Resolved, refOrId: string, used: boolean, force: boolean): Untagged {
  const img = r.image;
  const short = shortId(img.id);
  const records: DeleteResponseItem[] = [];
  if (r.via !== 'id') {
    const ref = r.ref!;
    const refCount = img.repoTags.length + img.repoDigests.length;
    if (!force && refCount === 1 && used) {
      throw conflict(`conflict: unable to remove repository reference "${refOrId}" (must force) - container is using its referenced image ${short}`);
    }
    if (r.via === 'tag') {
      img.repoTags = img.repoTags.filter((t) => t !== ref);
      // Docker: once no tag of a repository is left, its digest references go too.
      const repo = familiarRepository(parseReference(ref));
      if (!img.repoTags.some((t) => familiarRepository(parseReference(t)) === repo)) {
        img.repoDigests = img.repoDigests.filter((d) => familiarRepository(parseNamed(d)) !== repo);
      }
    } else {
      img.repoDigests = img.repoDigests.filter((d) => d !== ref);
    }
    records.push({ Untagged: ref });
    // Still referenced, or a container needs it (then it stays, dangling, as Docker does).
    return { records, deleteImage: img.repoTags.length + img.repoDigests.length === 0 && !used };
  }
  const repos = new Set([...img.repoTags, ...img.repoDigests].map((t) => familiarRepository(parseNamed(t))));
  if (!force && repos.size > 1) {
    throw conflict(`conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`);
  }
  if (!force && used) {
    throw conflict(`conflict: unable to delete ${short} (must be forced) - image is being used by a container`);
  }
  for (const t of [...img.repoTags, ...img.repoDigests]) records.push({ Untagged: t });
  img.repoTags = [];
  img.repoDigests = [];
  return { records, deleteImage: true };
}
