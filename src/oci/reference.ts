// Docker-style image references ('busybox', 'localhost:5000/app:1',
// 'foo/bar@sha256:…'), following the grammar of distribution/reference so names
// mean here what they mean to the docker CLI.
import { invalid } from '../errdefs.js';

export interface ImageReference {
  domain: string;
  path: string;
  tag?: string;
  digest?: string;
}

export const DEFAULT_DOMAIN = 'docker.io';
export const DEFAULT_TAG = 'latest';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';

const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = '\\[[a-fA-F0-9:]+\\]';
const DOMAIN = `(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}';
const REFERENCE_RE = new RegExp(`^((?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const ANCHORED_TAG_RE = new RegExp(`^${TAG}$`);
const HEX64_RE = /^[a-f0-9]{64}$/;
const NAME_MAX = 255;

/** Parses and normalizes; a reference without tag or digest gets tag 'latest'. */
export function parseReference(s: string): ImageReference {
  const r = parseNamed(s);
  if (r.tag === undefined && r.digest === undefined) r.tag = DEFAULT_TAG;
  return r;
}

/** Like parseReference but leaves tag and digest absent when not written ('busybox' stays name-only). */
export function parseNamed(s: string): ImageReference {
  if (s === '') throw invalid('invalid reference format: empty reference');
  if (HEX64_RE.test(s)) {
    throw invalid(`invalid reference format: repository name (${s}) cannot be a 64-byte hexadecimal string`);
  }
  const m = REFERENCE_RE.exec(s);
  if (!m) {
    const lower = s.toLowerCase();
    if (lower !== s && REFERENCE_RE.test(lower)) {
      throw invalid(`invalid reference format: repository name (${s}) must be lowercase`);
    }
    throw invalid(`invalid reference format: ${JSON.stringify(s)}`);
  }
  const [, name, tag, digest] = m as unknown as [string, string, string | undefined, string | undefined];
  if (name.length > NAME_MAX) throw invalid(`invalid reference format: repository name must not be more than ${NAME_MAX} characters`);
  let domain = DEFAULT_DOMAIN;
  let path = name;
  const slash = name.indexOf('/');
  if (slash >= 0) {
    const first = name.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      domain = first;
      path = name.slice(slash + 1);
    }
  }
  // Path components must be lowercase; the domain may not be (matches the regexp above only if so).
  if (path !== path.toLowerCase()) throw invalid(`invalid reference format: repository name (${s}) must be lowercase`);
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = OFFICIAL_REPO_PREFIX + path;
  const ref: ImageReference = { domain, path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) {
    if (!/^sha256:[a-f0-9]{64}$/.test(digest)) throw invalid(`invalid reference format: unsupported digest ${digest}`);
    ref.digest = digest;
  }
  return ref;
}

export function isValidTag(tag: string): boolean {
  return ANCHORED_TAG_RE.test(tag);
}

/** 'docker.io/library/busybox' -> 'busybox'; other registries keep their domain. */
export function familiarRepository(r: ImageReference): string {
  if (r.domain !== DEFAULT_DOMAIN) return `${r.domain}/${r.path}`;
  if (r.path.startsWith(OFFICIAL_REPO_PREFIX) && r.path.indexOf('/', OFFICIAL_REPO_PREFIX.length) < 0) {
    return r.path.slice(OFFICIAL_REPO_PREFIX.length);
  }
  return r.path;
}

/** 'busybox:latest', 'localhost:5000/app:1', 'foo/bar@sha256:…' (what docker prints). */
export function familiarName(r: ImageReference): string {
  return familiarRepository(r) + suffix(r);
}

/** 'docker.io/library/busybox' (no tag or digest). */
export function fullRepository(r: ImageReference): string {
  return `${r.domain}/${r.path}`;
}

/** 'docker.io/library/busybox:latest' (what containerd stores as an image name). */
export function fullName(r: ImageReference): string {
  return fullRepository(r) + suffix(r);
}

function suffix(r: ImageReference): string {
  return (r.tag !== undefined ? `:${r.tag}` : '') + (r.digest !== undefined ? `@${r.digest}` : '');
}

/** Canonical familiar form of any reference string: 'busybox' -> 'busybox:latest'. */
export function normalizeReference(s: string): string {
  return familiarName(parseReference(s));
}
