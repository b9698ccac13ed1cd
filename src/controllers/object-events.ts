// Events about an object (SuccessfulCreate, BackoffLimitExceeded...), as
// client-go's event recorder posts them: best effort, never failing the caller.
import type { KubeApi, KubeObject } from '../kube/client/kube-client.js';
import { inNs, refs } from '../kube/client/shared-informers.js';
import { nowIso } from './pod-state.js';

export class ObjectEvents {
  constructor(
    private readonly client: KubeApi,
    /** The reporting component, e.g. "job-controller". */
    private readonly component: string,
  ) {}

  record(o: KubeObject, kind: string, apiVersion: string, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const now = nowIso();
    const ns = o.metadata.namespace ?? 'default';
    void this.client
      .create(inNs(refs.events, ns), {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { generateName: `${o.metadata.name}.`, namespace: ns },
        involvedObject: { apiVersion, kind, namespace: ns, name: o.metadata.name, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion },
        reason,
        message,
        type,
        source: { component: this.component },
        reportingComponent: this.component,
        reportingInstance: this.component,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      })
      .catch(() => undefined);
  }
}
