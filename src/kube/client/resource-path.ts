// The API path of a collection or an object (and its subresource), on its own
// so that the agent's early Lease renewal (node/early-lease.ts) can build paths
// without loading the client and its YAML parser.
import type { ResourceRef } from './kube-client.js';

export function resourcePath(ref: ResourceRef, name?: string, subresource?: string): string {
  let p = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
  if (ref.namespace) p += `/namespaces/${encodeURIComponent(ref.namespace)}`;
  p += `/${ref.resource}`;
  if (name) p += `/${encodeURIComponent(name)}`;
  if (subresource) p += `/${subresource}`;
  return p;
}
