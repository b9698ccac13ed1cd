// Round-robin over a name's addresses: each query for the same name starts
// one address further, so clients that take the first address spread over
// every replica. (Docker shuffles at random instead; rotation spreads as
// evenly and is predictable.) Counters are per name and bounded.

const MAX_NAMES = 4096;

export class Rotation {
  private readonly next = new Map<string, number>();

  order<T>(key: string, items: readonly T[]): T[] {
    if (items.length < 2) return [...items];
    if (!this.next.has(key) && this.next.size >= MAX_NAMES) this.next.clear();
    const start = (this.next.get(key) ?? 0) % items.length;
    this.next.set(key, start + 1);
    return [...items.slice(start), ...items.slice(0, start)];
  }
}
