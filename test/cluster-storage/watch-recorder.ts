// Test helper: records one watch's events and lets a test wait for a condition
// on them (with a generous hang guard, not a timing assertion).
import type { Store, WatchEvent } from '../../src/apiserver/storage/store.js';

export interface WatchRecorder {
  events: WatchEvent[];
  error: Error | null;
  /** Resolves once pred(events) is true; rejects on a watch error or after hangMs. */
  until(pred: (events: WatchEvent[]) => boolean, hangMs?: number): Promise<void>;
  /** Resolves with the watch error (for tests that expect one). */
  failure(hangMs?: number): Promise<Error>;
  cancel(): void;
}

export function recordWatch(store: Store, prefix: string, fromRevision: number): WatchRecorder {
  const waiters = new Set<() => void>();
  const rec: WatchRecorder = {
    events: [],
    error: null,
    until(pred, hangMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (rec.error) return done(rec.error);
          if (pred(rec.events)) return done(null);
        };
        const timer = setTimeout(() => done(new Error(`watch condition not met within ${hangMs} ms; got ${rec.events.length} events`)), hangMs);
        const done = (err: Error | null): void => {
          clearTimeout(timer);
          waiters.delete(check);
          if (err) reject(err);
          else resolve();
        };
        waiters.add(check);
        check();
      });
    },
    failure(hangMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (rec.error) done(rec.error);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`watch did not fail within ${hangMs} ms`));
        }, hangMs);
        const done = (err: Error): void => {
          clearTimeout(timer);
          waiters.delete(check);
          resolve(err);
        };
        waiters.add(check);
        check();
      });
    },
    cancel: () => cancel(),
  };
  const notify = (): void => {
    for (const w of [...waiters]) w();
  };
  const cancel = store.watch(
    prefix,
    fromRevision,
    (e) => {
      rec.events.push(e);
      notify();
    },
    (err) => {
      rec.error = err;
      notify();
    },
  );
  return rec;
}

/** Events other than bookmarks. */
export function changes(events: WatchEvent[]): Exclude<WatchEvent, { type: 'BOOKMARK' }>[] {
  return events.filter((e): e is Exclude<WatchEvent, { type: 'BOOKMARK' }> => e.type !== 'BOOKMARK');
}
