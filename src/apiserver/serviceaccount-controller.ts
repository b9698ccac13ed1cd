// Every namespace gets a "default" ServiceAccount, as kube-controller-manager's
// serviceaccounts controller makes it (and makes again if it is deleted).
// Keyed by namespace, fed by the type monitors (namespaces and service
// accounts); reconcile(ns) creates the account only when the namespace is live
// and the cache has none, and AlreadyExists (another server was first) is done.
import { isKind } from '../errdefs.js';
import type { KubeApi } from '../kube/client/kube-client.js';
import { WorkQueue } from '../kube/client/work-queue.js';
import type { TypeRegistry } from '../kube/api/registry.js';
import type { TypeMonitors } from './type-monitors.js';
import { refOf } from './type-monitors.js';
import { DEFAULT_SERVICE_ACCOUNT } from './service-account-admission.js';

export class DefaultServiceAccounts {
  readonly queue = new WorkQueue({ name: 'serviceaccount', baseDelayMs: 200, maxDelayMs: 30_000 });

  constructor(
    private readonly client: KubeApi,
    private readonly registry: TypeRegistry,
    private readonly monitors: TypeMonitors,
  ) {
    monitors.addHandlers({
      onUpsert: (t, o) => {
        if (t.kind === 'Namespace' && !t.group && o.metadata.name && !o.metadata.deletionTimestamp) this.queue.add(o.metadata.name);
      },
      onDelete: (t, o) => {
        if (t.kind === 'ServiceAccount' && !t.group && o.metadata.name === DEFAULT_SERVICE_ACCOUNT && o.metadata.namespace) this.queue.add(o.metadata.namespace);
      },
    });
  }

  /** Call once the monitors have listed: makes what is missing now, then follows changes. */
  async start(): Promise<void> {
    const nsType = this.registry.lookup('', 'v1', 'namespaces')!;
    const { items } = await this.client.list(refOf(nsType));
    await Promise.all(items.map((n) => this.reconcile(n.metadata.name!).catch(() => undefined)));
    void this.queue.run((ns) => this.reconcile(ns), 2);
  }

  stop(): void {
    this.queue.shutdown();
  }

  async reconcile(ns: string): Promise<void> {
    const nsType = this.registry.lookup('', 'v1', 'namespaces')!;
    const saType = this.registry.lookup('', 'v1', 'serviceaccounts')!;
    const n = this.monitors.get(nsType, ns);
    if (!n || n.metadata.deletionTimestamp) return;
    if (this.monitors.get(saType, `${ns}/${DEFAULT_SERVICE_ACCOUNT}`)) return;
    await this.client.create(refOf(saType, ns), { metadata: { name: DEFAULT_SERVICE_ACCOUNT } }).catch((err) => {
      // Another server (or an earlier pass the cache has not seen yet) made it; a namespace going away refuses it.
      if (!isKind(err, 'already-exists') && !isKind(err, 'forbidden')) throw err;
    });
  }
}
