// How a name given to the image store finds an image, as Docker resolves it:
// a full ID, a tag (familiar or full), a repository@digest, name@<image ID>,
// or a unique ID prefix. Pure lookups over the records; nothing is written.
import { invalid, notFound } from '../errdefs.js';
import { familiarName, familiarRepository, parseReference, type ImageReference } from '../oci/reference.js';
import type { ImageRecord } from './image-record.js';

export interface Resolved {
  image: ImageRecord;
  /** How the string matched: a tag or digest reference (then `ref` is its familiar form), or an ID. */
  via: 'tag' | 'digest' | 'id';
  ref?: string;
}

const FULL_ID_RE = /^(?:sha256:)?([a-f0-9]{64})$/;
const SHORT_ID_RE = /^(?:sha256:)?([a-f0-9]{1,64})$/;

/**
 * Resolves `refOrId` against `images` (keyed by ID). A tag no image carries
 * is offered to `missingTag` (familiar name and parsed reference) before
 * falling back to ID prefixes; the store uses it to build busybox on demand.
 */
export async function resolveImage(
  images: ReadonlyMap<string, ImageRecord>,
  refOrId: string,
  missingTag?: (name: string, parsed: ImageReference) => Promise<ImageRecord | undefined>,
): Promise<Resolved> {
  if (refOrId === '') throw notFound('No such image: (empty name)');
  const full = FULL_ID_RE.exec(refOrId);
  if (full) {
    const img = images.get(`sha256:${full[1]}`);
    if (img) return { image: img, via: 'id' };
    throw notFound(`No such image: ${refOrId}`);
  }
  let parsed: ImageReference | undefined;
  let parseError: unknown;
  if (!refOrId.startsWith('sha256:')) {
    try {
      parsed = parseReference(refOrId);
    } catch (err) {
      parseError = err;
    }
  }
  if (parsed) {
    if (parsed.digest !== undefined) {
      const name = familiarName({ domain: parsed.domain, path: parsed.path, digest: parsed.digest });
      for (const img of images.values()) if (img.repoDigests.includes(name)) return { image: img, via: 'digest', ref: name };
      // name@<image id> names the image itself when the repository matches a tag (Docker accepts this too).
      const img = images.get(parsed.digest);
      const repo = familiarRepository(parsed);
      if (img && img.repoTags.some((t) => familiarRepository(parseReference(t)) === repo)) return { image: img, via: 'id' };
    } else {
      const name = familiarName(parsed);
      for (const img of images.values()) if (img.repoTags.includes(name)) return { image: img, via: 'tag', ref: name };
      const made = missingTag ? await missingTag(name, parsed) : undefined;
      if (made) return { image: made, via: 'tag', ref: name };
    }
  }
  const short = SHORT_ID_RE.exec(refOrId);
  if (short) {
    const matches = [...images.keys()].filter((id) => id.startsWith(`sha256:${short[1]}`));
    if (matches.length === 1) return { image: images.get(matches[0]!)!, via: 'id' };
    if (matches.length > 1) throw invalid(`ambiguous image ID prefix ${JSON.stringify(refOrId)}: matches ${matches.length} images`);
  }
  if (parseError && !short) throw parseError;
  throw notFound(`No such image: ${refOrId}`);
}
