// Manifests: GET with the Accept list Docker sends, digest check, platform
// choice in an index / manifest list, and PUT.
import { invalid, notFound, TugError } from '../../errdefs.js';
import { digestOf } from '../../oci/digest.js';
import { MediaTypes, isIndexMediaType, type OciIndex, type OciManifest, type OciPlatform } from '../../oci/image-spec.js';
import type { RegistryClient } from './client.js';
import { readBody } from './http-request.js';

export const MANIFEST_ACCEPT = [
  MediaTypes.dockerManifest,
  MediaTypes.dockerManifestList,
  MediaTypes.ociManifest,
  MediaTypes.ociIndex,
].join(', ');

const MAX_MANIFEST = 4 * 1024 * 1024;

export interface FetchedManifest {
  bytes: Buffer;
  digest: string;
  mediaType: string;
}

/** GETs a manifest by tag or digest; by digest, the bytes must hash to it. */
export async function getManifest(client: RegistryClient, repo: string, tagOrDigest: string, shown: string): Promise<FetchedManifest> {
  let res;
  try {
    res = await client.request('GET', `/v2/${repo}/manifests/${tagOrDigest}`, {
      scopes: { [repo]: 'pull' },
      headers: { Accept: MANIFEST_ACCEPT },
      what: `manifest for ${shown}`,
    });
  } catch (err) {
    if (err instanceof TugError && err.kind === 'not-found') throw notFound(err.message.replace(/^manifest for (\S+):/, 'manifest for $1 not found:'));
    throw err;
  }
  const bytes = await readBody(res, MAX_MANIFEST);
  const digest = digestOf(bytes);
  if (tagOrDigest.startsWith('sha256:') && digest !== tagOrDigest) {
    throw invalid(`manifest for ${shown}: content has digest ${digest}, not the ${tagOrDigest} asked for`);
  }
  let mediaType = String(res.headers['content-type'] ?? '').split(';')[0]!.trim();
  try {
    const parsed = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown; config?: unknown };
    // The body's own mediaType wins over a generic Content-Type; bare OCI documents are told apart by shape.
    if (parsed.mediaType) mediaType = parsed.mediaType;
    else if (!mediaType || mediaType === 'application/json' || mediaType === 'application/octet-stream') {
      mediaType = Array.isArray(parsed.manifests) ? MediaTypes.ociIndex : MediaTypes.ociManifest;
    }
  } catch {
    throw invalid(`manifest for ${shown} is not valid JSON`);
  }
  return { bytes, digest, mediaType };
}

export function isIndex(m: FetchedManifest): boolean {
  return isIndexMediaType(m.mediaType);
}

export interface PlatformWanted {
  os: string;
  architecture: string;
  variant?: string;
}

/** 'linux/arm64/v8' → {os, architecture, variant}; empty → linux/amd64. */
export function parsePlatform(p: string | undefined): PlatformWanted {
  if (!p) return { os: 'linux', architecture: 'amd64' };
  if (p.trim().startsWith('{')) {
    // Newer API versions pass an OCI platform object as JSON.
    let o: Partial<OciPlatform>;
    try {
      o = JSON.parse(p) as Partial<OciPlatform>;
    } catch {
      throw invalid(`invalid platform ${JSON.stringify(p)}: bad JSON`);
    }
    if (!o.os || !o.architecture) throw invalid(`invalid platform ${JSON.stringify(p)}: os and architecture are required`);
    return { os: o.os, architecture: o.architecture, ...(o.variant ? { variant: o.variant } : {}) };
  }
  const parts = p.toLowerCase().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((x) => !/^[a-z0-9_.-]+$/.test(x))) {
    throw invalid(`invalid platform ${JSON.stringify(p)}: want os/arch[/variant]`);
  }
  return { os: parts[0]!, architecture: parts[1]!, ...(parts[2] ? { variant: parts[2] } : {}) };
}

export function formatPlatform(p: PlatformWanted | OciPlatform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/** Picks the manifest for `want` out of an index, as containerd's platform matcher does (variant optional unless asked). */
export function selectPlatform(index: OciIndex, want: PlatformWanted, shown: string): { digest: string; mediaType: string; size: number } {
  const candidates = index.manifests.filter((m) => !isIndexMediaType(m.mediaType) && m.platform);
  const matches = candidates.filter((m) => {
    const p = m.platform!;
    if (p.os !== want.os || p.architecture !== want.architecture) return false;
    return want.variant === undefined || (p.variant ?? defaultVariant(p.architecture)) === want.variant;
  });
  if (matches.length === 0) {
    const have = candidates.map((m) => formatPlatform(m.platform!)).join(', ') || 'none';
    throw notFound(`no matching manifest for ${formatPlatform(want)} in the manifest list entries of ${shown} (has: ${have})`);
  }
  // Prefer the default variant (amd64 has none; arm64 is v8) when none was asked for.
  const best = matches.find((m) => (m.platform!.variant ?? defaultVariant(m.platform!.architecture)) === defaultVariant(want.architecture)) ?? matches[0]!;
  return { digest: best.digest, mediaType: best.mediaType, size: best.size };
}

function defaultVariant(arch: string): string | undefined {
  return arch === 'arm64' ? 'v8' : undefined;
}

export function parseImageManifest(m: FetchedManifest, shown: string): OciManifest {
  const man = JSON.parse(m.bytes.toString('utf8')) as OciManifest & { schemaVersion?: number };
  if (man.schemaVersion !== 2 || !man.config || !Array.isArray(man.layers)) {
    throw invalid(`manifest for ${shown}: unsupported manifest (schemaVersion ${String(man.schemaVersion)}, media type ${m.mediaType})`);
  }
  return man;
}

/** PUTs a manifest under a tag (or digest); returns the digest the registry reports (or the bytes' own). */
export async function putManifest(client: RegistryClient, repo: string, reference: string, bytes: Buffer, mediaType: string): Promise<string> {
  const res = await client.request('PUT', `/v2/${repo}/manifests/${reference}`, {
    scopes: { [repo]: 'pull,push' },
    headers: { 'Content-Type': mediaType },
    body: bytes,
    what: `put manifest ${repo}:${reference}`,
  });
  res.resume();
  return String(res.headers['docker-content-digest'] ?? digestOf(bytes));
}
