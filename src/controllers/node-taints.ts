// Taints the node lifecycle controller owns, and Kubernetes' rules for how
// long a pod may stay on a node with NoExecute taints (the taint manager's
// tolerationSeconds arithmetic).
import { tolerates, type Taint, type Toleration } from './scheduler/filters.js';

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

export interface NodeTaint extends Taint {
  timeAdded?: string;
}

export interface PodToleration extends Toleration {
  tolerationSeconds?: number;
}

/** The taints of the lifecycle controller a node with this Ready status and spec.unschedulable should carry. */
export function wantedConditionTaints(ready: string | undefined, unschedulable: boolean): Taint[] {
  const out: Taint[] = [];
  if (ready === 'False') out.push({ key: TAINT_NOT_READY, effect: 'NoExecute' }, { key: TAINT_NOT_READY, effect: 'NoSchedule' });
  if (ready === 'Unknown') out.push({ key: TAINT_UNREACHABLE, effect: 'NoExecute' }, { key: TAINT_UNREACHABLE, effect: 'NoSchedule' });
  if (unschedulable) out.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
  return out;
}

const managedKeys = new Set([TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE]);
const sameTaint = (a: Taint, b: Taint) => a.key === b.key && a.effect === b.effect;

/** The node's taints with the managed ones made equal to `wanted` (others kept); undefined when nothing changes. */
export function reconcileTaints(current: NodeTaint[], wanted: Taint[], now: string): NodeTaint[] | undefined {
  const kept = current.filter((t) => !managedKeys.has(t.key) || wanted.some((w) => sameTaint(w, t)));
  const added = wanted.filter((w) => !current.some((t) => sameTaint(w, t))).map((w) => (w.effect === 'NoExecute' ? { ...w, timeAdded: now } : { ...w }));
  if (kept.length === current.length && !added.length) return undefined;
  return [...kept, ...added];
}

/**
 * When the taint manager evicts a pod from a node with these NoExecute taints:
 * 'now' if one is not tolerated, 'never' if every one is tolerated without a
 * limit, else the epoch ms at which the shortest tolerationSeconds runs out
 * (counted from when the taint was added).
 */
export function evictionTime(taints: NodeTaint[], tolerations: PodToleration[], nowMs: number): number | 'now' | 'never' {
  const noExecute = taints.filter((t) => t.effect === 'NoExecute');
  let at: number | 'never' = 'never';
  for (const t of noExecute) {
    const matching = tolerations.filter((tol) => tolerates([tol], t));
    if (!matching.length) return 'now';
    // The shortest limit among the tolerations that match wins (Kubernetes' getMinTolerationTime); none: tolerated forever.
    const limits = matching.filter((tol) => typeof tol.tolerationSeconds === 'number').map((tol) => Math.max(0, tol.tolerationSeconds!));
    if (!limits.length) continue;
    const added = Date.parse(t.timeAdded ?? '') || nowMs;
    const end = added + Math.min(...limits) * 1000;
    at = at === 'never' ? end : Math.min(at, end);
  }
  return at;
}
