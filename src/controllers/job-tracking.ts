// The job-tracking finalizer (batch.kubernetes.io/job-tracking), as Kubernetes
// uses it to count a Job's pods exactly once: a pod keeps the finalizer until
// its uid is in the Job's status.uncountedTerminatedPods, and leaves that list
// (into status.succeeded/failed) only once the finalizer is gone. This file
// owns the finalizer's removal and the "expectations" that stop a pod whose
// removal is done, but not yet seen by the informer, from being counted twice.
import type { KubeApi, KubeObject } from '../kube/client/kube-client.js';
import { isKind } from '../errdefs.js';
import { refs, inNs } from '../kube/client/shared-informers.js';

export const trackingFinalizer = 'batch.kubernetes.io/job-tracking';

export const hasTracking = (p: KubeObject): boolean => ((p.metadata.finalizers as string[] | undefined) ?? []).includes(trackingFinalizer);

/** A JSON merge patch turning a into b (nested objects diffed, removed keys null). */
export function mergeDiff(a: unknown, b: unknown): unknown {
  const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (!isObj(a) || !isObj(b)) return b === undefined ? null : b;
  const out: Record<string, unknown> = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (JSON.stringify(a[k] ?? null) === JSON.stringify(b[k] ?? null)) continue;
    out[k] = b[k] === undefined ? null : mergeDiff(a[k], b[k]);
  }
  return out;
}

export class TrackingFinalizers {
  /** Pods whose finalizer was removed but the informer still shows it. */
  private readonly releasing = new Set<string>();

  constructor(private readonly client: KubeApi) {}

  /** Call on every pod event: once the informer shows the finalizer gone (or the pod), the expectation is met. */
  observe(p: KubeObject, deleted: boolean): void {
    if (deleted || !hasTracking(p)) this.releasing.delete(p.metadata.uid!);
  }

  /** Still holding the finalizer and not already being released by us: a pod to count. */
  holds(p: KubeObject): boolean {
    return hasTracking(p) && !this.releasing.has(p.metadata.uid!);
  }

  /** Removes the finalizer (guarded by each pod's resourceVersion); a pod already gone is fine. */
  async release(pods: KubeObject[]): Promise<void> {
    await Promise.all(
      pods.filter(hasTracking).map((p) => {
        const rest = (p.metadata.finalizers as string[]).filter((f) => f !== trackingFinalizer);
        this.releasing.add(p.metadata.uid!);
        return this.client.patch(inNs(refs.pods, p.metadata.namespace), p.metadata.name!, { metadata: { finalizers: rest.length ? rest : null, resourceVersion: p.metadata.resourceVersion } }).catch((err) => {
          this.releasing.delete(p.metadata.uid!);
          if (!isKind(err, 'not-found')) throw err;
        });
      }),
    );
  }
}
