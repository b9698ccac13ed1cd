// When the next run of a rate-limited job may start: a token bucket of `burst`
// runs refilled at one per `intervalMs` (kube-proxy's BoundedFrequencyRunner:
// minSyncPeriod with burstSyncs). After a quiet spell the first runs start at
// once (a change lands without delay); a long stream of changes costs one run
// per interval instead of one per change.
export class SyncBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly intervalMs: number,
    private readonly burst: number,
    now = Date.now(),
  ) {
    this.tokens = burst;
    this.at = now;
  }

  /** Milliseconds to wait before the next run may start (0: now). */
  delay(now = Date.now()): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : Math.ceil((1 - this.tokens) * this.intervalMs);
  }

  /** A run starts now: it spends a token. */
  take(now = Date.now()): void {
    this.refill(now);
    this.tokens = Math.max(0, this.tokens - 1);
  }

  private refill(now: number): void {
    if (this.intervalMs <= 0) {
      this.tokens = this.burst;
    } else {
      this.tokens = Math.min(this.burst, this.tokens + Math.max(0, now - this.at) / this.intervalMs);
    }
    this.at = now;
  }
}
