// Events a workload controller records about what it did to its owner's pods
// and claims (SuccessfulCreate, SuccessfulDelete...), so `kubectl describe
// sts/X` or `ds/X` lists them as with Kubernetes. Best effort: an Event that
// cannot be written never fails a reconcile.
import type { KubeApi, KubeObject } from '../kube/client/kube-client.js';
import { refs, inNs } from '../kube/client/shared-informers.js';
import { nowIso } from './pod-state.js';

export function recordEvent(client: KubeApi, component: string, owner: KubeObject, kind: string, type: 'Normal' | 'Warning', reason: string, message: string): void {
  const now = nowIso();
  const ns = owner.metadata.namespace;
  void client
    .create(inNs(refs.events, ns), {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${owner.metadata.name}.`, namespace: ns },
      involvedObject: { apiVersion: 'apps/v1', kind, namespace: ns, name: owner.metadata.name, uid: owner.metadata.uid, resourceVersion: owner.metadata.resourceVersion },
      reason,
      message,
      type,
      source: { component },
      reportingComponent: component,
      reportingInstance: component,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    })
    .catch(() => undefined);
}
