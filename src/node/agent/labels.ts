// Labels on the engine containers of a pod: how the agent finds (and after a
// crash or restart, adopts) them. Kubernetes' own label names where they exist.
import type { Pod } from './pod-types.js';

export type ContainerRole = 'sandbox' | 'init' | 'app';

export const L = {
  podUid: 'io.kubernetes.pod.uid',
  podName: 'io.kubernetes.pod.name',
  podNamespace: 'io.kubernetes.pod.namespace',
  container: 'io.kubernetes.container.name',
  role: 'io.tug.pod.role',
  attempt: 'io.kubernetes.container.restartCount',
} as const;

export function podLabels(pod: Pod, container: string, role: ContainerRole, attempt: number): Record<string, string> {
  return {
    [L.podUid]: pod.metadata.uid!,
    [L.podName]: pod.metadata.name!,
    [L.podNamespace]: pod.metadata.namespace ?? 'default',
    [L.container]: container,
    [L.role]: role,
    [L.attempt]: String(attempt),
  };
}
