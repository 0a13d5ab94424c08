import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ESTIMATED_THROUGHPUT_BYTES_PER_SECOND, estimatedCopySeconds, plannedOffsetsSeconds } from './schedule.js';

const MIB = 1024 * 1024;

describe('estimatedCopySeconds', () => {
  it('assumes 100 MiB/s by default', () => {
    expect(ESTIMATED_THROUGHPUT_BYTES_PER_SECOND).toBe(100 * MIB);
  });

  it('is zero for empty data', () => {
    expect(estimatedCopySeconds(0)).toBe(0);
  });

  it('rounds up to whole seconds', () => {
    expect(estimatedCopySeconds(1)).toBe(1);
    expect(estimatedCopySeconds(100 * MIB)).toBe(1);
    expect(estimatedCopySeconds(100 * MIB + 1)).toBe(2);
    expect(estimatedCopySeconds(20 * 1024 * MIB)).toBe(205); // 20 GiB = 204.8 s
  });

  it('uses the given throughput', () => {
    expect(estimatedCopySeconds(1000, 100)).toBe(10);
    expect(estimatedCopySeconds(1001, 100)).toBe(11);
  });
});

describe('plannedOffsetsSeconds', () => {
  it('plans nothing for no copies', () => {
    expect(plannedOffsetsSeconds(0, 100 * MIB, 60)).toEqual([]);
  });

  it('starts the primary at T1', () => {
    expect(plannedOffsetsSeconds(1, 500 * MIB, 60)).toEqual([0]);
  });

  it('starts each copy `delay` after the previous one has finished, not after it started', () => {
    // 250 MiB at 100 MiB/s → 3 s per copy; 60 s delay.
    expect(plannedOffsetsSeconds(3, 250 * MIB, 60)).toEqual([0, 63, 126]);
  });

  it('with no delay, copies follow each other back to back', () => {
    expect(plannedOffsetsSeconds(4, 100, 0, 10)).toEqual([0, 10, 20, 30]);
  });

  it('with empty data, copies are spaced by the delay alone', () => {
    expect(plannedOffsetsSeconds(3, 0, 30)).toEqual([0, 30, 60]);
  });

  it('uses the given throughput', () => {
    expect(plannedOffsetsSeconds(3, 1000, 5, 100)).toEqual([0, 15, 30]);
  });
});

describe('plannedOffsetsSeconds properties', () => {
  const copyCountArb = fc.integer({ min: 0, max: 20 });
  const sizeArb = fc.oneof(fc.constant(0), fc.nat({ max: 2 ** 45 }));
  const delayArb = fc.oneof(fc.constant(0), fc.nat({ max: 7 * 24 * 3600 }));
  const throughputArb = fc.oneof(
    fc.constant(ESTIMATED_THROUGHPUT_BYTES_PER_SECOND),
    fc.integer({ min: 1, max: 10 * 1024 * MIB }),
  );

  it('has one offset per copy, the primary at 0', () => {
    fc.assert(
      fc.property(copyCountArb, sizeArb, delayArb, throughputArb, (count, size, delay, throughput) => {
        const offsets = plannedOffsetsSeconds(count, size, delay, throughput);
        expect(offsets).toHaveLength(count);
        if (count > 0) expect(offsets[0]).toBe(0);
      }),
    );
  });

  it('offsets are whole seconds and non-decreasing', () => {
    fc.assert(
      fc.property(copyCountArb, sizeArb, delayArb, throughputArb, (count, size, delay, throughput) => {
        const offsets = plannedOffsetsSeconds(count, size, delay, throughput);
        for (const offset of offsets) expect(Number.isInteger(offset)).toBe(true);
        for (let k = 1; k < offsets.length; k++) {
          expect(offsets[k]).toBeGreaterThanOrEqual(offsets[k - 1] as number);
        }
      }),
    );
  });

  it('copy k+1 starts exactly `delay` after copy k finished (gap = copy time + delay)', () => {
    fc.assert(
      fc.property(copyCountArb, sizeArb, delayArb, throughputArb, (count, size, delay, throughput) => {
        const offsets = plannedOffsetsSeconds(count, size, delay, throughput);
        // Copy time from first principles, not from estimatedCopySeconds.
        const copySeconds = Math.ceil(size / throughput);
        for (let k = 1; k < offsets.length; k++) {
          const previousFinishes = (offsets[k - 1] as number) + copySeconds;
          expect(offsets[k]).toBe(previousFinishes + delay);
        }
      }),
    );
  });

  it('copies never overlap: each starts no earlier than the previous one ends', () => {
    fc.assert(
      fc.property(copyCountArb, sizeArb, delayArb, (count, size, delay) => {
        const offsets = plannedOffsetsSeconds(count, size, delay);
        const copySeconds = estimatedCopySeconds(size);
        for (let k = 1; k < offsets.length; k++) {
          expect(offsets[k] as number).toBeGreaterThanOrEqual((offsets[k - 1] as number) + copySeconds);
        }
      }),
    );
  });

  it('with non-empty data and any delay, offsets are strictly increasing', () => {
    fc.assert(
      fc.property(copyCountArb, fc.integer({ min: 1, max: 2 ** 45 }), delayArb, (count, size, delay) => {
        const offsets = plannedOffsetsSeconds(count, size, delay);
        for (let k = 1; k < offsets.length; k++) {
          expect(offsets[k] as number).toBeGreaterThan(offsets[k - 1] as number);
        }
      }),
    );
  });

  it('a plan for more copies extends the plan for fewer', () => {
    fc.assert(
      fc.property(copyCountArb, copyCountArb, sizeArb, delayArb, (a, b, size, delay) => {
        const [fewer, more] = a <= b ? [a, b] : [b, a];
        expect(plannedOffsetsSeconds(more, size, delay).slice(0, fewer)).toEqual(
          plannedOffsetsSeconds(fewer, size, delay),
        );
      }),
    );
  });

  it('the last copy starts after (n-1) copies and (n-1) delays', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), sizeArb, delayArb, (count, size, delay) => {
        const offsets = plannedOffsetsSeconds(count, size, delay);
        expect(offsets[count - 1]).toBe((count - 1) * (estimatedCopySeconds(size) + delay));
      }),
    );
  });
});
