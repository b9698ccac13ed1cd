// DefaultTolerationSeconds admission (Kubernetes' plugin of that name): a pod
// created without a toleration for the node.kubernetes.io/not-ready or
// node.kubernetes.io/unreachable NoExecute taint gets one with
// tolerationSeconds, so the taint manager evicts it that long after its node
// went down. tug's defaults are much shorter than Kubernetes' 300 s; the README
// (node loss) says why.
import type { KObject, ResourceType } from '../kube/api/resource-type.js';

/** tug's default for --default-not-ready-toleration-seconds and --default-unreachable-toleration-seconds. */
export const DEFAULT_TOLERATION_SECONDS = 3;

export interface DefaultTolerationOptions {
  notReadySeconds?: number;
  unreachableSeconds?: number;
}

interface Toleration {
  key?: string;
  operator?: string;
  effect?: string;
  tolerationSeconds?: number;
}

/** Does some toleration already cover this key's NoExecute taint (Kubernetes checks key and effect only)? */
function covers(tols: Toleration[], key: string): boolean {
  return tols.some((t) => (t.key === key || (!t.key && t.operator === 'Exists')) && (!t.effect || t.effect === 'NoExecute'));
}

export function defaultTolerationSeconds(opts: DefaultTolerationOptions = {}): (t: ResourceType, o: KObject) => Promise<void> {
  const notReady = opts.notReadySeconds ?? DEFAULT_TOLERATION_SECONDS;
  const unreachable = opts.unreachableSeconds ?? DEFAULT_TOLERATION_SECONDS;
  return async (t, o) => {
    if (t.kind !== 'Pod' || t.group !== '') return;
    o.spec ??= {};
    const tols: Toleration[] = (o.spec.tolerations ??= []);
    if (!covers(tols, 'node.kubernetes.io/not-ready')) tols.push({ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: notReady });
    if (!covers(tols, 'node.kubernetes.io/unreachable')) tols.push({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: unreachable });
  };
}
