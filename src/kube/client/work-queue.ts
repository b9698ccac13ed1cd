// A rate-limited work queue with per-key dedup, as client-go's workqueue: a key
// added while queued is not queued twice; a key being processed is re-queued
// once it is done (never processed by two workers at once); failures retry
// with per-key exponential back-off. A named queue reports client-go's
// workqueue_* series (work-queue-metrics.ts).
import { queueMetrics, type QueueMetrics } from './work-queue-metrics.js';

export interface WorkQueueOptions {
  /** The queue's name in workqueue_* metrics (client-go's: "replicaset", "deployment", ...); unnamed queues record none. */
  name?: string;
  /** First retry delay after a failure (doubles per failure). */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; due: number }>();
  private waiters: Array<(key: string | undefined) => void> = [];
  private shutDown = false;
  private readonly metrics?: QueueMetrics;
  /** performance.now() when a key entered the queue (then when its work started), for the duration histograms. */
  private readonly since = new Map<string, number>();

  constructor(private readonly opts: WorkQueueOptions = {}) {
    if (opts.name) this.metrics = queueMetrics(opts.name);
  }

  add(key: string): void {
    if (this.shutDown) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    const w = this.waiters.shift();
    if (w) {
      this.processing.add(key);
      if (this.metrics) {
        this.metrics.added(this.queue.length);
        this.metrics.taken(this.queue.length, 0);
        this.since.set(key, performance.now());
      }
      w(key);
      return;
    }
    this.queued.add(key);
    this.queue.push(key);
    if (this.metrics) {
      this.metrics.added(this.queue.length);
      this.since.set(key, performance.now());
    }
  }

  /** Adds key after delayMs (a later call for the same key replaces an earlier pending one only if sooner). */
  addAfter(key: string, delayMs: number): void {
    if (this.shutDown) return;
    if (delayMs <= 0) return this.add(key);
    const due = Date.now() + delayMs;
    const old = this.timers.get(key);
    // client-go's delaying queue keeps the earliest ready time: a later retry
    // must not push back a resync another event asked for sooner.
    if (old && old.due <= due) return;
    if (old) clearTimeout(old.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, { timer, due });
  }

  /** Retries key with back-off; call after a failed reconcile. */
  addRateLimited(key: string): void {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    this.metrics?.retried();
    const base = this.opts.baseDelayMs ?? 200;
    this.addAfter(key, Math.min(base * 2 ** (n - 1), this.opts.maxDelayMs ?? 60_000));
  }

  /** Clears the failure count of key; call after a successful reconcile. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** The next key (undefined once shut down); pair each with done(key). */
  get(): Promise<string | undefined> {
    if (this.shutDown) return Promise.resolve(undefined);
    const key = this.queue.shift();
    if (key !== undefined) {
      this.queued.delete(key);
      this.processing.add(key);
      if (this.metrics) {
        const now = performance.now();
        this.metrics.taken(this.queue.length, now - (this.since.get(key) ?? now));
        this.since.set(key, now);
      }
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.metrics) {
      const started = this.since.get(key);
      if (started !== undefined) this.metrics.done(performance.now() - started);
      this.since.delete(key);
    }
    if (this.dirty.delete(key)) this.add(key);
  }

  get length(): number {
    return this.queue.length;
  }

  shutdown(): void {
    this.shutDown = true;
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    for (const w of this.waiters) w(undefined);
    this.waiters = [];
  }

  /** Runs `workers` loops calling reconcile(key); failures retry with back-off. */
  run(reconcile: (key: string) => Promise<void>, workers = 1, onError?: (key: string, err: unknown) => void): Promise<void[]> {
    const loop = async (): Promise<void> => {
      for (;;) {
        const key = await this.get();
        if (key === undefined) return;
        try {
          await reconcile(key);
          this.forget(key);
        } catch (err) {
          onError?.(key, err);
          this.addRateLimited(key);
        } finally {
          this.done(key);
        }
      }
    };
    return Promise.all(Array.from({ length: workers }, loop));
  }
}
