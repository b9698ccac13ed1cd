// Parses Kubernetes REST paths into (group, version, resource, namespace, name,
// subresource), including the legacy /watch/ prefix.
import type { TypeRegistry } from '../kube/api/registry.js';

export interface ResourcePath {
  group: string;
  version: string;
  plural: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  legacyWatch: boolean;
}

/** segments: everything after /api or /apis, already split on '/'. */
export function parseResourcePath(reg: TypeRegistry, core: boolean, segments: string[]): ResourcePath | undefined {
  let segs = [...segments];
  let group = '';
  if (!core) group = segs.shift() ?? '';
  const version = segs.shift();
  if (!version || !segs.length) return undefined;
  let legacyWatch = false;
  if (segs[0] === 'watch') {
    legacyWatch = true;
    segs = segs.slice(1);
  }
  const namespacedType = (p: string | undefined) => (p ? reg.lookup(group, version, p)?.namespaced : false);
  if (segs[0] === 'namespaces' && segs.length >= 3 && (namespacedType(segs[2]) || !['status', 'finalize'].includes(segs[2]))) {
    const [, namespace, plural, name, subresource, ...rest] = segs;
    if (rest.length) return undefined;
    return { group, version, plural, namespace: decodeURIComponent(namespace), name: name ? decodeURIComponent(name) : undefined, subresource, legacyWatch };
  }
  const [plural, name, subresource, ...rest] = segs;
  if (rest.length) return undefined;
  return { group, version, plural, name: name ? decodeURIComponent(name) : undefined, subresource, legacyWatch };
}
