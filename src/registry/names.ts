// Names the distribution spec allows. Every path segment we build on disk comes
// from a value that passed one of these checks, which is what makes path
// traversal impossible by construction: none of them can hold "..", a leading
// "_" (our metadata dirs) or a NUL.
import { regError } from './errors.js';

// OCI distribution-spec v1.1: <name> and <reference> grammar.
const NAME_RE = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
// We store and verify sha256 only (what every client pushes); other algorithms
// are refused with DIGEST_INVALID rather than silently accepted unverified.
const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
const ANY_DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export const MAX_NAME_LENGTH = 255;

export function checkName(name: string): string {
  if (name.length > MAX_NAME_LENGTH || !NAME_RE.test(name)) {
    throw regError('NAME_INVALID', `invalid repository name "${name.slice(0, 300)}"`);
  }
  return name;
}

export function isDigest(ref: string): boolean {
  return ANY_DIGEST_RE.test(ref) && ref.includes(':');
}

export function checkDigest(digest: string): string {
  if (!DIGEST_RE.test(digest)) {
    throw regError('DIGEST_INVALID', `invalid or unsupported digest "${digest.slice(0, 200)}" (want sha256:<64 hex>)`);
  }
  return digest;
}

export function checkTag(tag: string): string {
  if (!TAG_RE.test(tag)) throw regError('MANIFEST_INVALID', `invalid tag "${tag.slice(0, 200)}"`, undefined, 400);
  return tag;
}

/** A manifest reference is a tag or a digest; returns which. */
export function parseReference(ref: string): { digest?: string; tag?: string } {
  if (ref.includes(':')) return { digest: checkDigest(ref) };
  return { tag: checkTag(ref) };
}

export function hexOf(digest: string): string {
  return digest.slice('sha256:'.length);
}
