import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  orderSecondaries,
  type Placement,
  placeOnSystem,
  remainingBytes,
  type SecondaryOrdering,
  type SpaceCapacity,
  type StorageCapacity,
  systemCapacityBytes,
  systemRemainingBytes,
} from './capacity.js';

const GIB = 1024 ** 3;

const space = (id: string, capacityBytes: number, usedBytes: number): SpaceCapacity => ({
  id,
  name: `space ${id}`,
  capacityBytes,
  usedBytes,
});

const system = (id: string, spaces: SpaceCapacity[], healthy = true): StorageCapacity => ({
  storageSystemId: id,
  name: `System ${id.toUpperCase()}`,
  healthy,
  spaces,
});

const ids = (placements: readonly { storageSystemId: string }[]): string[] =>
  placements.map((placement) => placement.storageSystemId);

describe('remainingBytes / systemRemainingBytes / systemCapacityBytes', () => {
  it('is capacity minus used', () => {
    expect(remainingBytes(space('a', 100, 30))).toBe(70);
  });

  it('never goes below zero when a space is over-full', () => {
    expect(remainingBytes(space('a', 100, 130))).toBe(0);
  });

  it('sums the remaining bytes of every space, counting over-full spaces as zero', () => {
    const sys = system('s', [space('a', 100, 30), space('b', 50, 80), space('c', 10, 0)]);
    expect(systemRemainingBytes(sys)).toBe(70 + 0 + 10);
    expect(systemCapacityBytes(sys)).toBe(160);
  });

  it('is zero for a system without spaces', () => {
    expect(systemRemainingBytes(system('s', []))).toBe(0);
    expect(systemCapacityBytes(system('s', []))).toBe(0);
  });
});

describe('placeOnSystem', () => {
  it('chooses the space with the most room, not the first or the largest', () => {
    const sys = system('s', [space('small-free', 100, 0), space('big-full', 1000, 990), space('mid', 500, 100)]);
    const result = placeOnSystem(sys, 50);
    expect(result).toEqual({
      placement: { storageSystemId: 's', spaceId: 'mid', remainingAfterBytes: 100 + 10 + 400 - 50, bytesToWrite: 50 },
    });
  });

  it('breaks ties between equally free spaces by declaration order', () => {
    const sys = system('s', [space('x', 200, 100), space('y', 100, 0), space('z', 300, 200)]);
    const result = placeOnSystem(sys, 10);
    expect('placement' in result && result.placement.spaceId).toBe('x');
  });

  it('accepts data that exactly fills the best space', () => {
    const result = placeOnSystem(system('s', [space('a', 100, 40)]), 60);
    expect(result).toEqual({
      placement: { storageSystemId: 's', spaceId: 'a', remainingAfterBytes: 0, bytesToWrite: 60 },
    });
  });

  it('refuses data one byte larger than the best space, even when the system as a whole has room', () => {
    // 60 + 60 bytes free in total, but no single space can take 61.
    const result = placeOnSystem(system('s', [space('a', 100, 40), space('b', 100, 40)]), 61);
    expect('reason' in result).toBe(true);
    if ('reason' in result) {
      expect(result.reason).toContain('System S');
      expect(result.reason).toContain('61 bytes');
      expect(result.reason).toContain('space a');
      expect(result.reason).toContain('60 bytes');
    }
  });

  it('refuses an unhealthy system even when it has room, naming it', () => {
    const result = placeOnSystem(system('s', [space('a', 100 * GIB, 0)], false), 1);
    expect(result).toEqual({ reason: 'System S is unhealthy' });
  });

  it('refuses a system without backup spaces, naming it', () => {
    expect(placeOnSystem(system('s', []), 0)).toEqual({ reason: 'System S has no backup space' });
  });

  it('places empty data on a full space', () => {
    const result = placeOnSystem(system('s', [space('a', 100, 100)]), 0);
    expect(result).toEqual({
      placement: { storageSystemId: 's', spaceId: 'a', remainingAfterBytes: 0, bytesToWrite: 0 },
    });
  });

  it('charges a space only for what it lacks of the data, and prefers the space that holds most of it', () => {
    // 90 of the 100 bytes are already in "holder" (chunks of an earlier version): it needs only 10 of its 20 free.
    const holder = { ...space('holder', 1000, 980), heldBytes: 90 };
    const result = placeOnSystem(system('s', [space('empty', 150, 0), holder]), 100);
    expect(result).toEqual({
      placement: { storageSystemId: 's', spaceId: 'empty', remainingAfterBytes: 150 + 20 - 100, bytesToWrite: 100 },
    });
    const tight = placeOnSystem(system('s', [space('small', 50, 0), holder]), 100);
    expect(tight).toEqual({
      placement: { storageSystemId: 's', spaceId: 'holder', remainingAfterBytes: 50 + 20 - 10, bytesToWrite: 10 },
    });
    // Holding more than the data never makes room: a copy writes at least nothing.
    const whole = placeOnSystem(system('s', [{ ...space('full', 100, 100), heldBytes: 500 }]), 100);
    expect('placement' in whole && whole.placement.bytesToWrite).toBe(0);
  });

  it('names what a space lacks when it holds part of the data and still cannot take the rest', () => {
    const result = placeOnSystem(system('s', [{ ...space('a', 100, 95), heldBytes: 40 }]), 100);
    expect(result).toEqual({
      reason:
        'no backup space of System S can hold the 60 bytes it lacks of 100 (the largest free space, space a, has 5 bytes)',
    });
  });
});

describe('orderSecondaries', () => {
  const roomy = system('roomy', [space('r1', 100 * GIB, 10 * GIB)]); // 90 GiB free
  const medium = system('medium', [space('m1', 50 * GIB, 0), space('m2', 10 * GIB, 0)]); // 60 GiB free
  const tight = system('tight', [space('t1', 30 * GIB, 5 * GIB)]); // 25 GiB free
  const tooSmall = system('too-small', [space('s1', 10 * GIB, 0), space('s2', 15 * GIB, 0)]); // 25 GiB, best 15
  const sick = system('sick', [space('k1', 500 * GIB, 0)], false);

  it('skips candidates whose best space cannot hold the data, with a reason naming the system', () => {
    const { ordered, skipped } = orderSecondaries([tight, tooSmall, roomy], 20 * GIB, 'CAPACITY');
    expect(ids(ordered)).toEqual(['roomy', 'tight']);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]?.storageSystemId).toBe('too-small');
    expect(skipped[0]?.reason).toContain('System TOO-SMALL');
    expect(skipped[0]?.reason).toContain(String(20 * GIB));
  });

  it('skips unhealthy candidates however much room they have', () => {
    const { ordered, skipped } = orderSecondaries([sick, tight], GIB, 'CAPACITY');
    expect(ids(ordered)).toEqual(['tight']);
    expect(skipped).toEqual([{ storageSystemId: 'sick', reason: 'System SICK is unhealthy' }]);
  });

  it('orders CAPACITY by the most remaining capacity after placement', () => {
    const { ordered, skipped } = orderSecondaries([tight, medium, roomy], 5 * GIB, 'CAPACITY');
    expect(ids(ordered)).toEqual(['roomy', 'medium', 'tight']);
    expect(ordered.map((p) => p.remainingAfterBytes)).toEqual([85 * GIB, 55 * GIB, 20 * GIB]);
    expect(ordered.map((p) => p.spaceId)).toEqual(['r1', 'm1', 't1']);
    expect(skipped).toEqual([]);
  });

  it('ranks CAPACITY by the whole system, not the chosen space', () => {
    // "wide" has the larger total room but a smaller best space than "deep".
    const wide = system('wide', [space('w1', 40, 0), space('w2', 40, 0), space('w3', 40, 0)]); // 120 total
    const deep = system('deep', [space('d1', 100, 0)]); // 100 total
    const { ordered } = orderSecondaries([deep, wide], 10, 'CAPACITY');
    expect(ids(ordered)).toEqual(['wide', 'deep']);
  });

  it('breaks CAPACITY ties by template order', () => {
    const a = system('a', [space('a1', 100, 50)]);
    const b = system('b', [space('b1', 60, 10)]);
    const c = system('c', [space('c1', 200, 0)]);
    const d = system('d', [space('d1', 50, 0)]);
    expect(ids(orderSecondaries([b, a, c, d], 10, 'CAPACITY').ordered)).toEqual(['c', 'b', 'a', 'd']);
    expect(ids(orderSecondaries([d, a, c, b], 10, 'CAPACITY').ordered)).toEqual(['c', 'd', 'a', 'b']);
  });

  it('keeps template order with FIXED, still skipping those that cannot hold the data', () => {
    const { ordered, skipped } = orderSecondaries([tight, sick, medium, tooSmall, roomy], 20 * GIB, 'FIXED');
    expect(ids(ordered)).toEqual(['tight', 'medium', 'roomy']);
    expect(ids(skipped)).toEqual(['sick', 'too-small']);
  });

  it('returns nothing for no candidates', () => {
    expect(orderSecondaries([], 1, 'CAPACITY')).toEqual({ ordered: [], skipped: [] });
    expect(orderSecondaries([], 1, 'FIXED')).toEqual({ ordered: [], skipped: [] });
  });

  it('does not reorder the caller’s array', () => {
    const candidates = [tight, medium, roomy];
    orderSecondaries(candidates, 1, 'CAPACITY');
    expect(ids(candidates)).toEqual(['tight', 'medium', 'roomy']);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Properties

const MAX_BYTES = 2 ** 40;

const spacesArb = fc
  .array(fc.record({ capacityBytes: fc.nat({ max: MAX_BYTES }), usedBytes: fc.nat({ max: MAX_BYTES }) }), {
    maxLength: 4,
  })
  .map((rows) => rows.map((row, index) => space(`sp${index}`, row.capacityBytes, row.usedBytes)));

/** Candidates with unique ids; capacities drawn from a small pool so that ties actually happen. */
const candidatesArb = fc
  .array(
    fc.record({
      healthy: fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, { arbitrary: fc.constant(false), weight: 1 }),
      spaces: fc.oneof(
        spacesArb,
        fc
          .array(fc.constantFrom(0, 10, 50, 100, 1000), { maxLength: 3 })
          .map((caps) => caps.map((cap, index) => space(`sp${index}`, cap, 0))),
      ),
    }),
    { maxLength: 10 },
  )
  .map((rows) => rows.map((row, index) => system(`sys${index}`, row.spaces, row.healthy)));

const sizeArb = fc.oneof(fc.constantFrom(0, 1, 10, 50, 100), fc.nat({ max: MAX_BYTES }));
const orderingArb = fc.constantFrom<SecondaryOrdering>('CAPACITY', 'FIXED');

/** Independent oracle: can the system take the data at all? */
const canHold = (sys: StorageCapacity, sizeBytes: number): boolean =>
  sys.healthy && sys.spaces.some((s) => Math.max(0, s.capacityBytes - s.usedBytes) >= sizeBytes);

const indexOf = (candidates: readonly StorageCapacity[], placement: Placement): number =>
  candidates.findIndex((c) => c.storageSystemId === placement.storageSystemId);

describe('orderSecondaries properties', () => {
  it('ordered ∪ skipped is a permutation of the candidates', () => {
    fc.assert(
      fc.property(candidatesArb, sizeArb, orderingArb, (candidates, sizeBytes, ordering) => {
        const { ordered, skipped } = orderSecondaries(candidates, sizeBytes, ordering);
        const all = [...ids(ordered), ...ids(skipped)];
        expect(all).toHaveLength(candidates.length);
        expect([...all].sort()).toEqual(ids(candidates).sort());
      }),
    );
  });

  it('a candidate is ordered exactly when it is healthy and one of its spaces can hold the data', () => {
    fc.assert(
      fc.property(candidatesArb, sizeArb, orderingArb, (candidates, sizeBytes, ordering) => {
        const { ordered, skipped } = orderSecondaries(candidates, sizeBytes, ordering);
        const orderedIds = new Set(ids(ordered));
        for (const candidate of candidates) {
          expect(orderedIds.has(candidate.storageSystemId)).toBe(canHold(candidate, sizeBytes));
        }
        for (const skip of skipped) {
          const candidate = candidates.find((c) => c.storageSystemId === skip.storageSystemId);
          expect(skip.reason).toContain(candidate?.name);
        }
      }),
    );
  });

  it('every placement lands in a space of that system with remaining ≥ size, the one with the most room', () => {
    fc.assert(
      fc.property(candidatesArb, sizeArb, orderingArb, (candidates, sizeBytes, ordering) => {
        for (const placement of orderSecondaries(candidates, sizeBytes, ordering).ordered) {
          const sys = candidates[indexOf(candidates, placement)];
          const chosenIndex = sys?.spaces.findIndex((s) => s.id === placement.spaceId) ?? -1;
          const chosen = sys?.spaces[chosenIndex];
          expect(chosen).toBeDefined();
          if (sys === undefined || chosen === undefined) return;
          const room = (s: SpaceCapacity) => Math.max(0, s.capacityBytes - s.usedBytes);
          expect(room(chosen)).toBeGreaterThanOrEqual(sizeBytes);
          // most room; ties go to the earliest declared space
          sys.spaces.forEach((other, otherIndex) => {
            if (otherIndex < chosenIndex) expect(room(other)).toBeLessThan(room(chosen));
            else expect(room(other)).toBeLessThanOrEqual(room(chosen));
          });
          const total = sys.spaces.reduce((sum, s) => sum + room(s), 0);
          expect(placement.remainingAfterBytes).toBe(total - sizeBytes);
          expect(placement.remainingAfterBytes).toBeGreaterThanOrEqual(0);
        }
      }),
    );
  });

  it('CAPACITY is non-increasing in remainingAfterBytes, ties in template order', () => {
    fc.assert(
      fc.property(candidatesArb, sizeArb, (candidates, sizeBytes) => {
        const { ordered } = orderSecondaries(candidates, sizeBytes, 'CAPACITY');
        for (let k = 1; k < ordered.length; k++) {
          const previous = ordered[k - 1] as Placement;
          const current = ordered[k] as Placement;
          expect(current.remainingAfterBytes).toBeLessThanOrEqual(previous.remainingAfterBytes);
          if (current.remainingAfterBytes === previous.remainingAfterBytes) {
            expect(indexOf(candidates, current)).toBeGreaterThan(indexOf(candidates, previous));
          }
        }
      }),
    );
  });

  it('FIXED preserves the template’s relative order', () => {
    fc.assert(
      fc.property(candidatesArb, sizeArb, (candidates, sizeBytes) => {
        const { ordered } = orderSecondaries(candidates, sizeBytes, 'FIXED');
        const expected = candidates.filter((c) => canHold(c, sizeBytes)).map((c) => c.storageSystemId);
        expect(ids(ordered)).toEqual(expected);
      }),
    );
  });

  it('CAPACITY and FIXED place on the same systems and spaces and skip the same candidates', () => {
    fc.assert(
      fc.property(candidatesArb, sizeArb, (candidates, sizeBytes) => {
        const byCapacity = orderSecondaries(candidates, sizeBytes, 'CAPACITY');
        const fixed = orderSecondaries(candidates, sizeBytes, 'FIXED');
        const key = (p: Placement) => `${p.storageSystemId}/${p.spaceId}/${p.remainingAfterBytes}`;
        expect(byCapacity.ordered.map(key).sort()).toEqual(fixed.ordered.map(key).sort());
        expect(byCapacity.skipped).toEqual(fixed.skipped);
      }),
    );
  });

  it('CAPACITY does not depend on the template order except to break ties', () => {
    fc.assert(
      fc.property(
        candidatesArb.chain((candidates) =>
          fc.tuple(fc.constant(candidates), fc.shuffledSubarray(candidates, { minLength: candidates.length })),
        ),
        sizeArb,
        ([candidates, shuffled], sizeBytes) => {
          const a = orderSecondaries(candidates, sizeBytes, 'CAPACITY').ordered;
          const b = orderSecondaries(shuffled, sizeBytes, 'CAPACITY').ordered;
          expect(a.map((p) => p.remainingAfterBytes)).toEqual(b.map((p) => p.remainingAfterBytes));
        },
      ),
    );
  });
});
