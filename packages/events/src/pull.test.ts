import { describe, expect, it } from 'vitest';
import { InFlight } from './pull.js';

/** A read that settles when the test says so, counting how often it was started. */
function gatedRead<V>() {
  let starts = 0;
  let settle: { resolve: (value: V) => void; reject: (error: Error) => void } | undefined;
  const start = () => {
    starts++;
    return new Promise<V>((resolve, reject) => {
      settle = { resolve, reject };
    });
  };
  return {
    start,
    starts: () => starts,
    resolve: (value: V) => settle?.resolve(value),
    reject: (error: Error) => settle?.reject(error),
  };
}

describe('InFlight', () => {
  it('shares one read among the callers of a key while it runs, and starts a fresh one after', async () => {
    const reads = new InFlight<string, number>();
    const read = gatedRead<number>();
    const waiting = Array.from({ length: 20 }, () => reads.run('job-1', read.start));
    expect(read.starts()).toBe(1);
    read.resolve(7);
    expect(await Promise.all(waiting)).toEqual(Array(20).fill(7));
    expect(reads.size).toBe(0);
    const again = reads.run('job-1', read.start);
    expect(read.starts()).toBe(2);
    read.resolve(8);
    expect(await again).toBe(8);
  });

  it('keeps keys apart', async () => {
    const reads = new InFlight<string, string>();
    const first = reads.run('a', async () => 'A');
    const second = reads.run('b', async () => 'B');
    expect(await Promise.all([first, second])).toEqual(['A', 'B']);
  });

  it('hands a failure to every caller that shared the read, and forgets it', async () => {
    const reads = new InFlight<string, number>();
    const read = gatedRead<number>();
    const waiting = [reads.run('k', read.start), reads.run('k', read.start)];
    read.reject(new Error('connection lost'));
    for (const result of await Promise.allSettled(waiting)) {
      expect(result).toMatchObject({ status: 'rejected', reason: { message: 'connection lost' } });
    }
    expect(reads.size).toBe(0);
    const retried = reads.run('k', read.start);
    read.resolve(1);
    expect(await retried).toBe(1);
    expect(read.starts()).toBe(2);
  });
});
