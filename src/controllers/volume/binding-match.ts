// Which PersistentVolume a claim gets, as Kubernetes' PV controller and the
// scheduler's volume binding choose it (findMatchingVolume): a volume already
// pre-bound to the claim wins; otherwise among Available, unclaimed volumes
// of the claim's class, volumeMode and access modes, whose selector labels
// match and (when a node is given) whose node affinity admits the node, the
// smallest whose capacity covers the request. Pure functions, so the rules are
// tested without a cluster.
import type { KubeObject } from '../../kube/client/kube-client.js';
import { labelSelectorMatches } from '../../kube/api/selectors.js';
import { claimClass, claimRequest, volumeBoundToClaim, volumeCapacity, volumeClass } from '../../kube/api/storage.js';
import { matchesNodeSelectorTerms, type NodeLabels } from '../scheduler/filters.js';

export interface MatchOptions {
  /** WaitForFirstConsumer: the PV controller binds only volumes pre-bound to the claim; the scheduler chooses. */
  delayBinding?: boolean;
  /** The node the pod goes to: volumes whose node affinity excludes it do not fit. */
  node?: NodeLabels;
}

/** Does a volume's required node affinity admit the node? (No affinity admits every node.) */
export function volumeFitsNode(pv: KubeObject, node: NodeLabels): boolean {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  return !terms ? true : matchesNodeSelectorTerms(terms, node);
}

/**
 * Why this volume cannot serve this claim, or null when it can. Checks what
 * binding itself requires, whoever bound it: class, volume mode, access modes, size.
 */
export function unsatisfiedBy(pv: KubeObject, pvc: KubeObject): string | null {
  const cls = claimClass(pvc) ?? '';
  if (volumeClass(pv) !== cls) return `storageClassName does not match`;
  if ((pv.spec?.volumeMode ?? 'Filesystem') !== (pvc.spec?.volumeMode ?? 'Filesystem')) return 'incompatible volumeMode';
  const have: string[] = pv.spec?.accessModes ?? [];
  const want: string[] = pvc.spec?.accessModes ?? [];
  const missing = want.filter((m) => !have.includes(m));
  if (missing.length) return `incompatible accessMode`;
  if (volumeCapacity(pv) < claimRequest(pvc)) return 'requested PV is too small';
  return null;
}

/** The best volume for the claim among `pvs`, or undefined. */
export function findBestMatch(pvs: KubeObject[], pvc: KubeObject, o: MatchOptions = {}): KubeObject | undefined {
  let best: KubeObject | undefined;
  const named = pvc.spec?.volumeName;
  for (const pv of pvs) {
    if (pv.metadata.deletionTimestamp) continue;
    if (named && pv.metadata.name !== named) continue;
    if (o.node && !volumeFitsNode(pv, o.node)) continue;
    if (pv.spec?.claimRef) {
      // Pre-bound (by a user or the scheduler) to exactly this claim: it wins if it fits.
      if (volumeBoundToClaim(pv, pvc) && !unsatisfiedBy(pv, pvc)) return pv;
      continue;
    }
    if (o.delayBinding && !o.node) continue;
    if ((pv.status?.phase ?? 'Available') !== 'Available' && pv.status?.phase !== 'Pending') continue;
    if (pvc.spec?.selector && !labelSelectorMatches(pvc.spec.selector, pv.metadata.labels)) continue;
    if (unsatisfiedBy(pv, pvc)) continue;
    if (!best || volumeCapacity(pv) < volumeCapacity(best)) best = pv;
  }
  return best;
}
