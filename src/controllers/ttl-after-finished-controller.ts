// TTL-after-finished controller: deletes a finished Job (Complete or Failed)
// ttlSecondsAfterFinished after it finished, with Foreground propagation so
// its pods go first, as Kubernetes' ttlafterfinished controller. The expiry
// is computed from the Job's own condition each time, so nothing is lost on a
// restart; the uid precondition keeps a re-created Job of the same name safe.
import { runReconcileLoop } from '../kube/client/reconcile-loop.js';
import type { KubeApi } from '../kube/client/kube-client.js';
import { keyOf } from '../kube/client/informer.js';
import { WorkQueue } from '../kube/client/work-queue.js';
import { isKind } from '../errdefs.js';
import { refs, inNs, type SharedInformers } from '../kube/client/shared-informers.js';
import { jobFinishTime } from './job-controller.js';

export class TtlAfterFinishedController {
  readonly queue = new WorkQueue({ name: 'ttl_jobs_to_delete', baseDelayMs: 500, maxDelayMs: 30_000 });

  constructor(
    private readonly informers: SharedInformers,
    private readonly client: KubeApi,
  ) {
    const enqueue = (o: { spec?: { ttlSecondsAfterFinished?: number } } & Parameters<typeof keyOf>[0]) => {
      if (o.spec?.ttlSecondsAfterFinished != null) this.queue.add(keyOf(o));
    };
    informers.for(refs.jobs).addHandlers({ onAdd: enqueue, onUpdate: enqueue });
  }

  run(): void {
    runReconcileLoop(this.queue, 'ttl-after-finished-controller', (k) => this.reconcile(k), 1);
  }

  stop(): void {
    this.queue.shutdown();
  }

  async reconcile(key: string): Promise<void> {
    const job = this.informers.for(refs.jobs).get(key);
    const ttl = job?.spec?.ttlSecondsAfterFinished;
    if (!job || ttl == null || job.metadata.deletionTimestamp) return;
    const finished = jobFinishTime(job);
    if (finished === undefined) return;
    const left = finished + ttl * 1000 - Date.now();
    if (left > 0) return this.queue.addAfter(key, left + 50);
    await this.client.delete(inNs(refs.jobs, job.metadata.namespace), job.metadata.name!, { uid: job.metadata.uid, propagationPolicy: 'Foreground' }).catch((err) => {
      if (!isKind(err, 'not-found') && !isKind(err, 'conflict')) throw err;
    });
  }
}
