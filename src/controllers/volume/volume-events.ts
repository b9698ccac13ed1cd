// Events about claims and volumes, worded as Kubernetes words them. A level-
// triggered controller sees the same state on every resync, so one Event per
// object, reason and message is written, and written again only after a quiet
// minute (the event recorder's spam filter does the same job in client-go).
import type { KubeApi, KubeObject } from '../../kube/client/kube-client.js';
import { refs, inNs } from '../../kube/client/shared-informers.js';
import { nowIso } from '../pod-state.js';

const repeatAfterMs = 60_000;

export class VolumeEvents {
  private readonly sent = new Map<string, number>();

  constructor(
    private readonly client: KubeApi,
    private readonly component: string,
  ) {}

  emit(kind: 'PersistentVolumeClaim' | 'PersistentVolume' | 'Pod', obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const key = `${obj.metadata.uid}/${reason}/${message}`;
    const now = Date.now();
    if (now - (this.sent.get(key) ?? 0) < repeatAfterMs) return;
    this.sent.set(key, now);
    if (this.sent.size > 10_000) for (const [k, t] of this.sent) if (now - t > repeatAfterMs) this.sent.delete(k);
    const ns = obj.metadata.namespace ?? 'default';
    const at = nowIso();
    void this.client
      .create(inNs(refs.events, ns), {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { generateName: `${obj.metadata.name}.`, namespace: ns },
        involvedObject: { apiVersion: 'v1', kind, namespace: obj.metadata.namespace, name: obj.metadata.name, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion },
        reason,
        message,
        type,
        source: { component: this.component },
        reportingComponent: this.component,
        reportingInstance: this.component,
        firstTimestamp: at,
        lastTimestamp: at,
        count: 1,
      })
      .catch(() => this.sent.delete(key));
  }
}
