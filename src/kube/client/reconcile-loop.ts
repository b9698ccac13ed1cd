// The loop every controller runs: workers take keys off its queue and call
// reconcile(key). A conflict or not-found is the normal race with other writers
// (the key is retried with back-off and the next reconcile sees the new state),
// so only other errors are reported, under the controller's name. Controllers
// inside the API server pass their own log; the others write to stderr.
import { isKind, messageOf } from '../../errdefs.js';
import type { WorkQueue } from './work-queue.js';

export function runReconcileLoop(
  queue: WorkQueue,
  name: string,
  reconcile: (key: string) => Promise<void>,
  workers: number,
  log: (message: string) => void = (m) => process.stderr.write(`${m}\n`),
): void {
  void queue.run(reconcile, workers, (key, err) => {
    if (!isKind(err, 'conflict') && !isKind(err, 'not-found')) log(`${name}: ${key}: ${messageOf(err)}`);
  });
}
