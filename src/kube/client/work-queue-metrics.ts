// client-go's work-queue series (k8s.io/client-go/util/workqueue metrics, as
// kube-controller-manager registers them), one label `name` per queue:
//   workqueue_depth, workqueue_adds_total, workqueue_retries_total,
//   workqueue_queue_duration_seconds (added -> taken), workqueue_work_duration_seconds (taken -> done).
// They live in this thread's workQueueRegistry: the controllers' worker thread
// hands it to the API server's /metrics; the API server's own queues (garbage
// collector, quota, ServiceAccounts, CRDs) record into the main thread's.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const workQueueRegistry = new Registry();

// client-go's buckets: 10 ns to 10 s, by tens.
const buckets = Array.from({ length: 10 }, (_, i) => 1e-8 * 10 ** i);

const depth = new Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames: ['name'], registers: [workQueueRegistry] });
const adds = new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames: ['name'], registers: [workQueueRegistry] });
const retries = new Counter({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue', labelNames: ['name'], registers: [workQueueRegistry] });
const queueDuration = new Histogram({ name: 'workqueue_queue_duration_seconds', help: 'How long in seconds an item stays in workqueue before being requested.', labelNames: ['name'], buckets, registers: [workQueueRegistry] });
const workDuration = new Histogram({ name: 'workqueue_work_duration_seconds', help: 'How long in seconds processing an item from workqueue takes.', labelNames: ['name'], buckets, registers: [workQueueRegistry] });

/** The recorder one named queue calls; children are bound once so each call is a plain increment. */
export interface QueueMetrics {
  added(depthNow: number): void;
  taken(depthNow: number, queuedForMs: number): void;
  done(workedForMs: number): void;
  retried(): void;
}

export function queueMetrics(name: string): QueueMetrics {
  const l = { name };
  const d = depth.labels(l);
  const a = adds.labels(l);
  const r = retries.labels(l);
  const q = queueDuration.labels(l);
  const w = workDuration.labels(l);
  d.set(0);
  return {
    added: (n) => {
      a.inc();
      d.set(n);
    },
    taken: (n, ms) => {
      d.set(n);
      q.observe(ms / 1000);
    },
    done: (ms) => w.observe(ms / 1000),
    retried: () => r.inc(),
  };
}
