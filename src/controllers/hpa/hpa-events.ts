// Events about HorizontalPodAutoscalers (source horizontal-pod-autoscaler), with
// the repeat counting of client-go's event recorder: the same reason and
// message again bumps count and lastTimestamp on the Event already written
// (at most every 30 s), so a failing HPA synced every second does not write
// an Event per sync.
import type { KubeApi, KubeObject } from '../../kube/client/kube-client.js';
import { inNs, refs } from '../../kube/client/shared-informers.js';
import { nowIso } from '../pod-state.js';

const COMPONENT = 'horizontal-pod-autoscaler';
const REWRITE_MS = 30_000;
const MAX_REMEMBERED = 1000;

interface Written {
  name?: string;
  namespace: string;
  count: number;
  writtenAt: number;
}

export class HpaEvents {
  private readonly seen = new Map<string, Written>();

  constructor(private readonly client: KubeApi) {}

  record(hpa: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const ns = hpa.metadata.namespace!;
    const key = `${hpa.metadata.uid}\0${type}\0${reason}\0${message}`;
    const now = Date.now();
    const prev = this.seen.get(key);
    if (prev) {
      prev.count++;
      if (!prev.name || now - prev.writtenAt < REWRITE_MS) return;
      prev.writtenAt = now;
      void this.client.patch(inNs(refs.events, ns), prev.name, { count: prev.count, lastTimestamp: nowIso() }).catch(() => this.seen.delete(key));
      return;
    }
    if (this.seen.size >= MAX_REMEMBERED) this.seen.delete(this.seen.keys().next().value!);
    const entry: Written = { namespace: ns, count: 1, writtenAt: now };
    this.seen.set(key, entry);
    const ts = nowIso();
    void this.client
      .create<KubeObject>(inNs(refs.events, ns), {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { generateName: `${hpa.metadata.name}.`, namespace: ns },
        involvedObject: { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', namespace: ns, name: hpa.metadata.name, uid: hpa.metadata.uid, resourceVersion: hpa.metadata.resourceVersion },
        reason,
        message,
        type,
        source: { component: COMPONENT },
        reportingComponent: COMPONENT,
        reportingInstance: '',
        firstTimestamp: ts,
        lastTimestamp: ts,
        count: 1,
      })
      .then((e) => (entry.name = e.metadata.name))
      .catch(() => this.seen.delete(key));
  }

  forget(uid: string | undefined): void {
    for (const k of this.seen.keys()) if (k.startsWith(`${uid}\0`)) this.seen.delete(k);
  }
}
