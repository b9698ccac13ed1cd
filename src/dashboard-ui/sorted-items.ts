// The objects of a live list kept in display order as events change them one
// at a time: a change moves one object to its place by binary search, instead
// of sorting the whole list again for every watch event.

export class SortedItems<T> {
  private readonly byId = new Map<string, T>();
  private readonly sorted: T[] = [];

  /** order must be total: ties broken by id, so every object has exactly one place. */
  constructor(
    private readonly idOf: (item: T) => string,
    private readonly order: (a: T, b: T) => number,
  ) {}

  private compare(a: T, b: T): number {
    const c = this.order(a, b);
    if (c !== 0) return c;
    const x = this.idOf(a);
    const y = this.idOf(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }

  /** The first index whose item sorts at or after item. */
  private place(item: T): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(this.sorted[mid]!, item) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Adds item, or replaces the one with its id (which may move). */
  set(item: T): void {
    this.delete(this.idOf(item));
    this.byId.set(this.idOf(item), item);
    this.sorted.splice(this.place(item), 0, item);
  }

  delete(id: string): void {
    const old = this.byId.get(id);
    if (old === undefined) return;
    this.byId.delete(id);
    const i = this.place(old);
    if (this.sorted[i] === old) this.sorted.splice(i, 1);
    else this.sorted.splice(this.sorted.indexOf(old), 1);
  }

  /** Replaces everything with items (a fresh list). */
  reset(items: T[]): void {
    this.byId.clear();
    for (const i of items) this.byId.set(this.idOf(i), i);
    this.sorted.splice(0, this.sorted.length, ...this.byId.values());
    this.sorted.sort((a, b) => this.compare(a, b));
  }

  /** A copy in order, for a render. */
  items(): T[] {
    return this.sorted.slice();
  }
}

/**
 * Runs fn once in the next animation frame however often soon() is called
 * before it, so a burst of events is one render. A hidden tab gets no frames:
 * a timer then runs it, so the page is current when shown again.
 */
export function oncePerFrame(fn: () => void): { soon: () => void; cancel: () => void } {
  let frame = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const cancel = (): void => {
    cancelAnimationFrame(frame);
    clearTimeout(timer);
    frame = 0;
    timer = undefined;
  };
  const run = (): void => {
    cancel();
    fn();
  };
  return {
    soon: () => {
      if (frame || timer) return;
      frame = requestAnimationFrame(run);
      timer = setTimeout(run, 250);
    },
    cancel,
  };
}
