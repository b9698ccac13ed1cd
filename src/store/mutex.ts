// A promise-chain mutex: runs critical sections one after another within this
// process. The store's metadata is one JSON document per root, so its
// read-modify-write steps must not interleave.
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
