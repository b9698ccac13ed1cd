// One watcher's delivery lane, shared by both backends. Events are queued in
// revision order and handed to the caller asynchronously (never re-entrantly from
// inside watch() or a write, but as soon as the current call stack unwinds), duplicates are dropped by revision, and a BOOKMARK
// carrying the highest revision known complete goes out every BOOKMARK_INTERVAL_MS.
import type { WatchEvent } from './store.js';

/** How often a watcher gets a BOOKMARK. */
export const BOOKMARK_INTERVAL_MS = 5000;

export class WatchChannel {
  private queue: WatchEvent[] = [];
  private pendingError: Error | null = null;
  private scheduled = false;
  private closed = false;
  /** Every event with revision <= complete has been queued (the bookmark revision). */
  private complete: number;
  private readonly bookmarkTimer: NodeJS.Timeout;

  constructor(
    readonly prefix: string,
    fromRevision: number,
    private readonly onEvent: (e: WatchEvent) => void,
    private readonly onError: (err: Error) => void,
    private readonly onClose: (ch: WatchChannel) => void,
  ) {
    this.complete = fromRevision;
    this.bookmarkTimer = setInterval(() => {
      if (this.complete > 0) this.enqueue({ type: 'BOOKMARK', revision: this.complete });
    }, BOOKMARK_INTERVAL_MS);
    this.bookmarkTimer.unref();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The revision after which events are still wanted. */
  get position(): number {
    return this.complete;
  }

  push(e: WatchEvent): void {
    if (this.closed || e.revision <= this.complete) return;
    this.complete = e.revision;
    this.enqueue(e);
  }

  /** All events up to `revision` have been pushed (nothing matched in between). */
  advance(revision: number): void {
    if (revision > this.complete) this.complete = revision;
  }

  /** Deliver what is queued, then the error, then stop. */
  fail(err: Error): void {
    if (this.closed) return;
    this.pendingError = err;
    this.stop();
    this.schedule();
  }

  cancel(): void {
    this.queue = [];
    this.pendingError = null;
    if (!this.closed) this.stop();
  }

  private stop(): void {
    this.closed = true;
    clearInterval(this.bookmarkTimer);
    this.onClose(this);
  }

  private enqueue(e: WatchEvent): void {
    if (this.closed) return;
    this.queue.push(e);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // A microtask, not setImmediate: a burst of synchronous SQLite writes would
    // otherwise hold every event back until the burst yields to the event loop.
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    for (const e of batch) {
      // A cancel from inside onEvent stops delivery at once (queue was cleared, but this batch was taken).
      if (this.closed && this.pendingError === null) return;
      try {
        this.onEvent(e);
      } catch (err) {
        // A throwing consumer ends its own watch, not the process (this runs on a microtask).
        this.queue = [];
        if (!this.closed) this.stop();
        this.onError(err instanceof Error ? err : new Error(String(err)));
        return;
      }
    }
    if (this.pendingError) {
      const err = this.pendingError;
      this.pendingError = null;
      this.onError(err);
    }
  }
}
