// kube-scheduler's series (pkg/scheduler/metrics), so its dashboards read tug's:
//   scheduler_schedule_attempts_total{result,profile}                 scheduled | unschedulable | error
//   scheduler_scheduling_attempt_duration_seconds{result,profile}     filter + score + bind of one attempt
//   scheduler_pending_pods{queue}                                     active | backoff
// The registry lives in the controllers' worker thread; the API server's
// /metrics asks the worker for it (controller-manager.ts).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { secondsSince } from '../../util/metrics-registry.js';

export const schedulerRegistry = new Registry();

const profile = 'default-scheduler';

const attempts = new Counter({
  name: 'scheduler_schedule_attempts_total',
  help: 'Number of attempts to schedule pods, by the result. "unschedulable" means a pod could not be scheduled, while "error" means an internal scheduler problem.',
  labelNames: ['result', 'profile'],
  registers: [schedulerRegistry],
});

const attemptDuration = new Histogram({
  name: 'scheduler_scheduling_attempt_duration_seconds',
  help: 'Scheduling attempt latency in seconds (scheduling algorithm + binding)',
  labelNames: ['result', 'profile'],
  // kube-scheduler's: 1 ms doubling, 15 buckets.
  buckets: Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i),
  registers: [schedulerRegistry],
});

let pendingOf: (() => { active: number; backoff: number }) | undefined;

new Gauge({
  name: 'scheduler_pending_pods',
  help: 'Number of pending pods, by the queue type. "active" means number of pods in activeQ; "backoff" means number of pods in backoffQ.',
  labelNames: ['queue'],
  registers: [schedulerRegistry],
  collect() {
    const p = pendingOf?.() ?? { active: 0, backoff: 0 };
    this.set({ queue: 'active' }, p.active);
    this.set({ queue: 'backoff' }, p.backoff);
  },
});

export type AttemptResult = 'scheduled' | 'unschedulable' | 'error';

/** One attempt ended; startMs is its performance.now() at the start. */
export function recordAttempt(result: AttemptResult, startMs: number): void {
  attempts.inc({ result, profile });
  attemptDuration.observe({ result, profile }, secondsSince(startMs));
}

/** Where scheduler_pending_pods reads its queue lengths (the running scheduler). */
export function reportPending(read: () => { active: number; backoff: number }): void {
  pendingOf = read;
}
