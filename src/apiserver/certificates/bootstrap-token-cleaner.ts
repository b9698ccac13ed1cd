// Deletes bootstrap token Secrets once they expire, as kube-controller-manager's
// tokencleaner does. Each token Secret is looked at when it appears and again
// at its expiration (the work queue's delay); a restart relists them all.
import type { ObjectStore } from '../object-store.js';
import type { TypeMonitors } from '../type-monitors.js';
import { WorkQueue } from '../../kube/client/work-queue.js';
import { BOOTSTRAP_TOKEN_PREFIX, BOOTSTRAP_TOKEN_SECRET_TYPE, isTokenExpired, tokenExpiry } from '../../kube/api/bootstrap-token.js';
import { runReconcileLoop } from '../../kube/client/reconcile-loop.js';

export class BootstrapTokenCleaner {
  readonly queue = new WorkQueue({ baseDelayMs: 500, maxDelayMs: 30_000 });

  constructor(
    private readonly objects: ObjectStore,
    monitors: TypeMonitors,
    private readonly log: (m: string) => void = () => undefined,
  ) {
    monitors.addHandlers({
      onUpsert: (t, o) => {
        if (t.kind === 'Secret' && !t.group && o.metadata.namespace === 'kube-system' && o.metadata.name?.startsWith(BOOTSTRAP_TOKEN_PREFIX)) this.queue.add(o.metadata.name);
      },
    });
  }

  start(): void {
    runReconcileLoop(this.queue, 'token cleaner', (name) => this.reconcile(name), 1, this.log);
  }

  stop(): void {
    this.queue.shutdown();
  }

  async reconcile(name: string): Promise<void> {
    const secretType = this.objects.registry.lookup('', 'v1', 'secrets')!;
    const secret = await this.objects.getOrNull(secretType, 'kube-system', name);
    if (!secret || secret.type !== BOOTSTRAP_TOKEN_SECRET_TYPE) return;
    if (isTokenExpired(secret)) {
      await this.objects.delete(secretType, 'kube-system', name, { preconditions: { uid: secret.metadata?.uid } });
      return;
    }
    const exp = tokenExpiry(secret);
    if (exp !== undefined) this.queue.addAfter(name, Math.min(exp - Date.now() + 100, 2 ** 31 - 1));
  }
}
