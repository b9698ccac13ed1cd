// The in-memory state of containers' lives that is not in their records:
// callers waiting for an exit or a removal, attaches parked until a start,
// restart timers and their back-off. Owned by the ContainerService (one per
// engine); none of it survives a daemon restart, nor needs to: waiters and
// attaches are connections that die with the daemon, and recovery restarts
// what a restart policy asks for.
import type { AttachStreams, Runtime } from '../runtime/runtime.js';

export interface ExitResult {
  StatusCode: number;
  Error: { Message: string } | null;
}

export interface ExitWaiter {
  condition: 'next-exit' | 'removed';
  resolve: (code: ExitResult) => void;
}

/** Callers waiting for a container to exit or be removed (docker wait, docker run). */
export class ExitWaiters {
  private readonly byId = new Map<string, ExitWaiter[]>();

  add(id: string, w: ExitWaiter): void {
    const list = this.byId.get(id) ?? [];
    list.push(w);
    this.byId.set(id, list);
  }

  /** A removal also settles those waiting for the next exit. */
  notify(id: string, condition: ExitWaiter['condition'], code: number, error = ''): void {
    const list = this.byId.get(id);
    if (!list) return;
    const keep: ExitWaiter[] = [];
    for (const w of list) {
      if (w.condition === condition || (condition === 'removed' && w.condition === 'next-exit')) {
        w.resolve({ StatusCode: code, Error: error ? { Message: error } : null });
      } else keep.push(w);
    }
    if (keep.length) this.byId.set(id, keep);
    else this.byId.delete(id);
  }
}

/** Where an attach's streams go once the container's stdio exists. */
export interface AttachTarget {
  connect(streams: AttachStreams): void;
  /** The container did not start (or its stdio could not be reached): nothing will come. */
  abort(): void;
}

interface Parked extends AttachTarget {
  stdin: boolean;
}

/** Attach requests that arrived before start: connected right after runtime create, before the process runs. */
export class PendingAttaches {
  private readonly byId = new Map<string, Parked[]>();

  /** Returns the way to take the request back (its client went away). */
  park(id: string, stdin: boolean, target: AttachTarget): () => void {
    const entry: Parked = { stdin, connect: (s) => target.connect(s), abort: () => target.abort() };
    const list = this.byId.get(id) ?? [];
    list.push(entry);
    this.byId.set(id, list);
    return () => {
      const cur = this.byId.get(id);
      if (cur) this.byId.set(id, cur.filter((x) => x !== entry));
    };
  }

  async connect(runtime: Runtime, id: string): Promise<void> {
    const pending = this.byId.get(id);
    if (!pending?.length) return;
    this.byId.delete(id);
    for (const p of pending) {
      try {
        p.connect(await runtime.attach(id, { stdin: p.stdin }));
      } catch {
        p.abort();
      }
    }
  }

  fail(id: string): void {
    const pending = this.byId.get(id) ?? [];
    this.byId.delete(id);
    for (const p of pending) p.abort();
  }
}

/** Containers waiting out a restart back-off, and the back-off each has reached. */
export class RestartTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly backoff = new Map<string, number>();

  backoffOf(id: string): number {
    return this.backoff.get(id) ?? 0;
  }

  schedule(id: string, delayMs: number, fire: () => void): void {
    this.backoff.set(id, delayMs);
    const timer = setTimeout(() => {
      this.timers.delete(id);
      fire();
    }, delayMs);
    timer.unref();
    this.timers.set(id, timer);
  }

  /** Cancels a pending restart; the back-off is kept (a stop between restarts does not reset it). */
  cancel(id: string): void {
    const timer = this.timers.get(id);
    if (timer) clearTimeout(timer);
    this.timers.delete(id);
  }

  /** The container is gone: its timer and its back-off. */
  forget(id: string): void {
    this.cancel(id);
    this.backoff.delete(id);
  }
}
