// The downward API: pod fields and container resources as env values or files.
import { invalid } from '../../errdefs.js';
import { parseQuantity } from '../../kube/api/quantity.js';
import type { Pod } from './pod-types.js';

export interface PodRuntimeFacts {
  podIP: string;
  hostIP: string;
  /** Node allocatable, the value of a resourceFieldRef whose limit is unset. */
  nodeCpu: number;
  nodeMemory: number;
}

const mapEntries = (m: Record<string, string> | undefined): string =>
  Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}="${m![k]}"`)
    .join('\n');

export function fieldValue(pod: Pod, path: string, facts: PodRuntimeFacts): string {
  const sub = path.match(/^metadata\.(labels|annotations)\['(.+)'\]$/);
  if (sub) return (pod.metadata[sub[1] as 'labels'] as Record<string, string> | undefined)?.[sub[2]] ?? '';
  switch (path) {
    case 'metadata.name':
      return pod.metadata.name ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'metadata.labels':
      return mapEntries(pod.metadata.labels);
    case 'metadata.annotations':
      return mapEntries(pod.metadata.annotations);
    case 'spec.nodeName':
      return pod.spec.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? 'default';
    case 'status.podIP':
      return facts.podIP;
    case 'status.podIPs':
      return facts.podIP;
    case 'status.hostIP':
    case 'status.hostIPs':
      return facts.hostIP;
    default:
      throw invalid(`unsupported fieldRef fieldPath "${path}"`);
  }
}

export function resourceValue(pod: Pod, containerName: string, ref: { resource: string; divisor?: string }, facts: PodRuntimeFacts): string {
  const c = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].find((x) => x.name === containerName);
  if (!c) throw invalid(`resourceFieldRef: no container named "${containerName}"`);
  const [section, res] = ref.resource.split('.') as ['limits' | 'requests', string];
  if ((section !== 'limits' && section !== 'requests') || (res !== 'cpu' && res !== 'memory' && res !== 'ephemeral-storage')) {
    throw invalid(`unsupported resourceFieldRef resource "${ref.resource}"`);
  }
  let v = parseQuantity(c.resources?.[section]?.[res]);
  if (v === undefined) v = section === 'limits' ? (res === 'cpu' ? facts.nodeCpu : facts.nodeMemory) : 0;
  const divisor = parseQuantity(ref.divisor) || 1;
  return String(Math.ceil(v / divisor));
}
