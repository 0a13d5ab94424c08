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
