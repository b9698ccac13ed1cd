// ResourceQuota status: keeps status.hard and status.used of each quota
// current, as kube-controller-manager's resourcequota controller does. Keyed by
// namespace: any object of a namespace that has a quota changing (the type
// monitors see every write, on this server or another one on the same store),
// a quota itself changing, or the periodic resync queues the namespace, and
// reconcile(ns) recounts from the store and writes status only when it differs.
import { isKind } from '../errdefs.js';
import { Informer } from '../kube/client/informer.js';
import type { KubeApi, KubeObject } from '../kube/client/kube-client.js';
import { WorkQueue } from '../kube/client/work-queue.js';
import type { TypeMonitors } from './type-monitors.js';
import { formatQuantity } from '../kube/api/quantity.js';

const quotaRef = { group: '', version: 'v1', resource: 'resourcequotas' };

/** What the controller needs of the admission side: the namespace's current usage. */
export interface QuotaUsage {
  usedIn(ns: string, resources: string[]): Promise<Map<string, number>>;
}

export class ResourceQuotaController {
  readonly queue = new WorkQueue({ name: 'resourcequota_primary', baseDelayMs: 500, maxDelayMs: 30_000 });
  private readonly quotas: Informer;

  constructor(
    private readonly client: KubeApi,
    private readonly usage: QuotaUsage,
    monitors: TypeMonitors,
  ) {
    this.quotas = new Informer(client, quotaRef, { resyncMs: 30_000 });
    const byQuota = (q: KubeObject) => q.metadata.namespace && this.queue.add(q.metadata.namespace);
    this.quotas.addHandlers({ onAdd: byQuota, onUpdate: byQuota });
    // Only namespaces that have a quota are worth recounting.
    monitors.addHandlers({
      onUpsert: (t, o) => this.touched(t.namespaced, o),
      onDelete: (t, o) => this.touched(t.namespaced, o),
    });
  }

  private touched(namespaced: boolean, o: KubeObject): void {
    const ns = o.metadata.namespace;
    if (namespaced && ns && this.quotas.list().some((q) => q.metadata.namespace === ns)) this.queue.add(ns);
  }

  async start(workers = 1): Promise<void> {
    await this.quotas.start();
    void this.queue.run((ns) => this.reconcile(ns), workers);
  }

  stop(): void {
    this.queue.shutdown();
    this.quotas.stop();
  }

  /** Recomputes status.used of the namespace's quotas. */
  async reconcile(ns: string): Promise<void> {
    for (const q of this.quotas.list()) {
      if (q.metadata.namespace !== ns) continue;
      const hard: Record<string, string> = q.spec?.hard ?? {};
      const used = await this.usage.usedIn(ns, Object.keys(hard));
      const status = { hard, used: Object.fromEntries([...used].map(([r, n]) => [r, formatQuantity(r, n)])) };
      if (JSON.stringify(status) === JSON.stringify(q.status ?? {})) continue;
      await this.client.patch({ ...quotaRef, namespace: ns }, q.metadata.name!, { status }, { subresource: 'status' }).catch((err) => {
        // Gone: nothing to report. Conflict: the quota changed, and its event queues the namespace again.
        if (!isKind(err, 'not-found') && !isKind(err, 'conflict')) throw err;
      });
    }
  }
}
