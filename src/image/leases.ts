// Counted holds that keep things alive for the length of an operation, as
// containerd's leases do: a blob an unfinished addImage, import or save relies
// on (a pin, by blob digest or diff ID), or an image a caller is about to run
// a container on (a lease, by image ID, between lowerDirs and registering the
// container).
//
// In memory only, and that is enough: a hold lives no longer than the process
// doing the work, and after a crash nothing is in flight (the store's open
// sweep then drops whatever no image record names).
export class Holds {
  private readonly counts = new Map<string, number>();

  has(key: string): boolean {
    return this.counts.has(key);
  }

  add(keys: Iterable<string>): void {
    for (const k of keys) this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }

  remove(keys: Iterable<string>): void {
    for (const k of keys) {
      const n = (this.counts.get(k) ?? 0) - 1;
      if (n <= 0) this.counts.delete(k);
      else this.counts.set(k, n);
    }
  }

  /** Adds the keys; the returned function removes them once, however often it is called. */
  hold(keys: string[]): () => void {
    const held = [...keys];
    this.add(held);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.remove(held);
    };
  }
}
