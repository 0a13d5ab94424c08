import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { orderRestoreCandidates, type RestoreCandidate, validateVersionNumber } from './restore.js';

const at = (seconds: number) => new Date(Date.UTC(2026, 10, 28) + seconds * 1000);

const candidate = (overrides: Partial<RestoreCandidate> & { replicaId: string }): RestoreCandidate => ({
  role: 'SECONDARY',
  order: 1,
  storageHealthy: true,
  completedAt: at(0),
  ...overrides,
});

describe('orderRestoreCandidates', () => {
  it('puts replicas on healthy storage first, then the most recently verified, then the primary', () => {
    const ordered = orderRestoreCandidates([
      candidate({ replicaId: 'sick-primary', role: 'PRIMARY', order: 0, storageHealthy: false, completedAt: at(50) }),
      candidate({ replicaId: 'old', order: 1, completedAt: at(10) }),
      candidate({ replicaId: 'fresh', order: 2, completedAt: at(40) }),
      candidate({ replicaId: 'primary', role: 'PRIMARY', order: 0, completedAt: at(10) }),
    ]);
    expect(ordered.map((c) => c.replicaId)).toEqual(['fresh', 'primary', 'old', 'sick-primary']);
  });

  const candidates = fc.uniqueArray(
    fc.record({
      replicaId: fc.uuid(),
      role: fc.constantFrom('PRIMARY' as const, 'SECONDARY' as const),
      order: fc.nat({ max: 8 }),
      storageHealthy: fc.boolean(),
      completedAt: fc.integer({ min: 0, max: 1_000_000 }).map(at),
    }),
    { selector: (c) => c.replicaId, maxLength: 12 },
  );

  it('keeps every candidate, and the order does not depend on the input order', () => {
    fc.assert(
      fc.property(candidates, fc.infiniteStream(fc.nat()), (list, seeds) => {
        const ordered = orderRestoreCandidates(list);
        expect([...ordered].sort((a, b) => a.replicaId.localeCompare(b.replicaId))).toEqual(
          [...list].sort((a, b) => a.replicaId.localeCompare(b.replicaId)),
        );
        const shuffled = [...list].sort(() => (seeds.next().value % 3) - 1);
        expect(orderRestoreCandidates(shuffled)).toEqual(ordered);
      }),
    );
  });

  it('never tries an unhealthy system before a healthy one, nor an older copy before a newer on equal health', () => {
    fc.assert(
      fc.property(candidates, (list) => {
        const ordered = orderRestoreCandidates(list);
        for (let i = 1; i < ordered.length; i++) {
          const [before, after] = [ordered[i - 1], ordered[i]] as [RestoreCandidate, RestoreCandidate];
          expect(!before.storageHealthy && after.storageHealthy).toBe(false);
          if (before.storageHealthy === after.storageHealthy) {
            expect(before.completedAt.getTime()).toBeGreaterThanOrEqual(after.completedAt.getTime());
          }
        }
      }),
    );
  });
});

describe('validateVersionNumber', () => {
  it('accepts positive whole numbers and refuses the rest with BAD_USER_INPUT', () => {
    expect(validateVersionNumber(3)).toBe(3);
    for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 60]) {
      expect(() => validateVersionNumber(bad)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
    }
  });
});
