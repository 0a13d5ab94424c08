/** A promise that every waiter shares, resolved and replaced each time something changes. */
export class Signal {
  private resolve: () => void = () => undefined;
  promise: Promise<void> = this.fresh();

  private fresh(): Promise<void> {
    return new Promise((resolve) => {
      this.resolve = resolve;
    });
  }

  fire(): void {
    const resolve = this.resolve;
    this.promise = this.fresh();
    resolve();
  }
}

/** An async iterator from a pull function and a close hook (run once, on return()). */
export function pullIterator<T>(next: () => Promise<IteratorResult<T>>, close: () => void): AsyncIterableIterator<T> {
  let closed = false;
  const iterator: AsyncIterableIterator<T> = {
    next,
    async return(): Promise<IteratorResult<T>> {
      if (!closed) {
        closed = true;
        close();
      }
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/**
 * Reads in flight by key: callers that ask for the same key while its read is running share that read; once it
 * settles, the next caller starts a fresh one (nothing is kept, so nothing goes stale).
 */
export class InFlight<K, V> {
  private readonly pending = new Map<K, Promise<V>>();

  run(key: K, start: () => Promise<V>): Promise<V> {
    let promise = this.pending.get(key);
    if (promise === undefined) {
      const started = start();
      promise = started;
      this.pending.set(key, started);
      const forget = () => {
        if (this.pending.get(key) === started) this.pending.delete(key);
      };
      started.then(forget, forget);
    }
    return promise;
  }

  /** Keys with a read in flight (for tests and diagnostics). */
  get size(): number {
    return this.pending.size;
  }
}
