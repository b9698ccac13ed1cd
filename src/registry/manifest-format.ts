// What a manifest PUT may carry, checked before anything is stored: valid JSON,
// one of the four manifest media types clients push, well-formed descriptors.
// Existence of referenced blobs is checked by the store (it needs the repo).
import { regError } from './errors.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const MANIFEST_TYPES = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST];
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface ParsedManifest {
  mediaType: string;
  isIndex: boolean;
  /** Blobs that must be in the repository (config + layers without external urls). */
  blobs: string[];
  /** Child manifests that must be in the repository (index entries). */
  children: string[];
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
}

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

function descriptor(v: unknown, where: string): Descriptor {
  const d = v as Partial<Descriptor> | null;
  if (!d || typeof d !== 'object') throw invalidManifest(`${where} is not a descriptor object`);
  if (typeof d.mediaType !== 'string' || d.mediaType === '') throw invalidManifest(`${where}.mediaType is missing`);
  if (typeof d.digest !== 'string' || !DIGEST_RE.test(d.digest)) {
    throw invalidManifest(`${where}.digest "${String(d.digest).slice(0, 100)}" is not a sha256 digest`);
  }
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw invalidManifest(`${where}.size is not a size`);
  return d as Descriptor;
}

function invalidManifest(msg: string) {
  return regError('MANIFEST_INVALID', `manifest invalid: ${msg}`);
}

/** Parse and check a manifest body; `contentType` is the request's Content-Type (may be empty). */
export function parseManifest(body: Buffer, contentType: string): ParsedManifest {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw invalidManifest(`body is not JSON (${(err as Error).message})`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw invalidManifest('body is not a JSON object');
  if (doc.schemaVersion !== 2) throw invalidManifest('schemaVersion must be 2');
  const ct = contentType.split(';')[0].trim().toLowerCase();
  const field = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  let mediaType: string | undefined = MANIFEST_TYPES.includes(ct) ? ct : undefined;
  if (mediaType && field && field !== mediaType) {
    throw invalidManifest(`mediaType "${field}" does not match Content-Type "${mediaType}"`);
  }
  mediaType ??= field;
  if (!mediaType) mediaType = Array.isArray(doc.manifests) ? OCI_INDEX : OCI_MANIFEST;
  if (!MANIFEST_TYPES.includes(mediaType)) throw invalidManifest(`unsupported mediaType "${mediaType}"`);
  const isIndex = mediaType === OCI_INDEX || mediaType === DOCKER_LIST;
  const out: ParsedManifest = { mediaType, isIndex, blobs: [], children: [] };
  if (isIndex) {
    if (!Array.isArray(doc.manifests)) throw invalidManifest('manifests must be an array');
    doc.manifests.forEach((m, i) => out.children.push(descriptor(m, `manifests[${i}]`).digest));
  } else {
    const config = descriptor(doc.config, 'config');
    if (!Array.isArray(doc.layers)) throw invalidManifest('layers must be an array');
    out.blobs.push(config.digest);
    doc.layers.forEach((l, i) => {
      const d = descriptor(l, `layers[${i}]`);
      // Foreign layers (Windows base layers) live elsewhere; they are not in this registry.
      if (!(Array.isArray(d.urls) && d.urls.length > 0)) out.blobs.push(d.digest);
    });
    if (typeof doc.artifactType !== 'string' && mediaType === OCI_MANIFEST) out.artifactType = config.mediaType;
  }
  if (doc.subject !== undefined) out.subject = descriptor(doc.subject, 'subject');
  if (typeof doc.artifactType === 'string') out.artifactType = doc.artifactType;
  if (doc.annotations && typeof doc.annotations === 'object') out.annotations = doc.annotations as Record<string, string>;
  return out;
}
