// What makes a DaemonSet's pod a daemon pod, as Kubernetes' daemon
// controller does it: the tolerations every daemon pod gets (so a node that
// is not ready, under pressure or cordoned keeps its daemons), the node
// affinity that pins a pod to its node (a matchFields metadata.name term the
// scheduler honours), and whether a node should run (or keep running) the
// daemon: its nodeSelector, required node affinity and taints.
import type { KubeObject } from '../kube/client/kube-client.js';
import { NodeInfo } from './scheduler/node-info.js';
import { nodeAffinityFits, tolerates, type Taint, type Toleration } from './scheduler/filters.js';

/** Kubernetes' AddOrUpdateDaemonPodTolerations. */
export function daemonTolerations(spec: { tolerations?: Toleration[]; hostNetwork?: boolean }): Toleration[] {
  const add: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (spec.hostNetwork) add.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  const out = [...(spec.tolerations ?? [])];
  // Add or update: one toleration per key and effect.
  for (const t of add) {
    const i = out.findIndex((o) => o.key === t.key && o.effect === t.effect);
    if (i >= 0) out[i] = t;
    else out.push(t);
  }
  return out;
}

/**
 * Kubernetes' ReplaceDaemonSetPodNodeNameNodeAffinity: the required node
 * affinity becomes one term matching the node by name (the controller has
 * already checked the labels); preferred terms and pod affinity stay.
 */
export function pinnedAffinity(affinity: any, nodeName: string): any {
  const required = { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }] };
  const a = structuredClone(affinity ?? {});
  a.nodeAffinity = { ...(a.nodeAffinity ?? {}), requiredDuringSchedulingIgnoredDuringExecution: required };
  return a;
}

/** The node a daemon pod is for: its nodeName, or the node its matchFields term names while it waits to be bound. */
export function targetNode(pod: KubeObject): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  for (const t of pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of t.matchFields ?? []) if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
  }
  return undefined;
}

/**
 * shouldRun: a new daemon pod belongs on the node. shouldContinueRunning: an
 * existing one may stay (only NoExecute taints evict, as in Kubernetes).
 */
export function nodeShouldRunDaemon(ds: KubeObject, node: KubeObject): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const spec = ds.spec?.template?.spec ?? {};
  const pod = { metadata: {}, spec } as KubeObject;
  if (!nodeAffinityFits(pod, new NodeInfo(node))) return { shouldRun: false, shouldContinueRunning: false };
  const tols = daemonTolerations(spec);
  let shouldRun = true;
  let shouldContinueRunning = true;
  for (const t of (node.spec?.taints ?? []) as Taint[]) {
    if (t.effect !== 'NoSchedule' && t.effect !== 'NoExecute') continue;
    if (tolerates(tols, t)) continue;
    shouldRun = false;
    if (t.effect === 'NoExecute') shouldContinueRunning = false;
  }
  return { shouldRun, shouldContinueRunning };
}
