import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DomainError } from './errors.js';
import { evaluateRetention, isoWeekKey, type RetentionRules, validateRetentionRules } from './retention.js';

const rules = (partial: Partial<RetentionRules>): RetentionRules => ({
  keepLast: null,
  keepWithinDays: null,
  keepDaily: null,
  keepWeekly: null,
  keepMonthly: null,
  ...partial,
});
const version = (id: string, iso: string, isHeld = false) => ({ id, createdAt: new Date(iso), isHeld });
const keptIds = (decision: { kept: { version: { id: string } }[] }) => decision.kept.map((k) => k.version.id).sort();
const NOW = new Date('2026-12-07T12:00:00Z');

describe('validateRetentionRules', () => {
  it('takes no rules as keep everything', () => {
    expect(validateRetentionRules(undefined)).toBeNull();
    expect(validateRetentionRules({})).toBeNull();
  });
  it('refuses negative, fractional and oversized counts with BAD_USER_INPUT naming the field', () => {
    for (const bad of [{ keepLast: -1 }, { keepDaily: 1.5 }, { keepMonthly: 100_000 }]) {
      const error = (() => {
        try {
          validateRetentionRules(bad);
        } catch (caught) {
          return caught;
        }
      })();
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).code).toBe('BAD_USER_INPUT');
      expect((error as DomainError).details.field).toBe(Object.keys(bad)[0]);
    }
  });
  it('refuses rules that are all 0 as contradicting keeping any version', () => {
    expect(() => validateRetentionRules({ keepLast: 0, keepDaily: 0 })).toThrow(/all 0/);
  });
});

describe('isoWeekKey', () => {
  it('puts the turn of the year in the right ISO week', () => {
    expect(isoWeekKey(new Date('2024-12-30T00:00:00Z'))).toBe('2025-W01'); // Monday of 2025's week 1
    expect(isoWeekKey(new Date('2021-01-03T23:59:59Z'))).toBe('2020-W53'); // Sunday still in 2020's week 53
    expect(isoWeekKey(new Date('2021-01-04T00:00:00Z'))).toBe('2021-W01');
  });
});

describe('evaluateRetention', () => {
  it('keeps the last N and drops the rest', () => {
    const versions = [1, 2, 3, 4, 5].map((n) => version(`v${n}`, `2026-12-0${n}T00:00:00Z`));
    const decision = evaluateRetention(versions, rules({ keepLast: 2 }), NOW);
    expect(keptIds(decision)).toEqual(['v4', 'v5']);
    expect(decision.dropped.map((v) => v.id)).toEqual(['v3', 'v2', 'v1']);
  });

  it('keeps within D days, inclusive at the boundary', () => {
    const decision = evaluateRetention(
      [
        version('edge', '2026-12-04T12:00:00Z'),
        version('old', '2026-12-04T11:59:59Z'),
        version('new', '2026-12-07T00:00:00Z'),
      ],
      rules({ keepWithinDays: 3 }),
      NOW,
    );
    expect(keptIds(decision)).toEqual(['edge', 'new']);
  });

  it('GFS keeps the newest version of each day, and days without a version do not count', () => {
    const decision = evaluateRetention(
      [
        version('mon-early', '2026-11-30T01:00:00Z'),
        version('mon-late', '2026-11-30T23:00:00Z'),
        version('wed', '2026-12-02T10:00:00Z'),
        version('sun', '2026-12-06T10:00:00Z'),
      ],
      rules({ keepDaily: 3 }),
      NOW,
    );
    expect(keptIds(decision)).toEqual(['mon-late', 'sun', 'wed']);
  });

  it('GFS weekly uses ISO weeks across a year end, monthly uses UTC months', () => {
    const versions = [
      version('2020-w53-sun', '2021-01-03T20:00:00Z'),
      version('2020-w53-thu', '2020-12-31T20:00:00Z'),
      version('2020-w52', '2020-12-27T20:00:00Z'),
      version('2021-w01', '2021-01-04T08:00:00Z'),
    ];
    const weekly = evaluateRetention(versions, rules({ keepWeekly: 2 }), NOW);
    expect(keptIds(weekly)).toEqual(['2020-w53-sun', '2021-w01']);
    const monthly = evaluateRetention(versions, rules({ keepMonthly: 2 }), NOW);
    expect(keptIds(monthly)).toEqual(['2020-w53-thu', '2021-w01']);
  });

  it('a version local midnight would move is bucketed by its UTC day', () => {
    const decision = evaluateRetention(
      [version('a', '2026-12-05T23:30:00Z'), version('b', '2026-12-06T00:30:00Z')],
      rules({ keepDaily: 1, keepLast: 0 }),
      NOW,
    );
    expect(keptIds(decision)).toEqual(['b']);
  });

  it('rules add up: a version kept by any rule is kept, with every reason', () => {
    const decision = evaluateRetention(
      [version('x', '2026-01-15T00:00:00Z'), version('y', '2026-12-06T00:00:00Z')],
      rules({ keepLast: 1, keepMonthly: 12 }),
      NOW,
    );
    expect(decision.dropped).toEqual([]);
    expect(decision.kept.find((k) => k.version.id === 'y')?.reasons).toEqual(['LAST', 'MONTHLY', 'NEWEST']);
  });

  it('never drops a held version or the newest one', () => {
    const decision = evaluateRetention(
      [
        version('held', '2020-01-01T00:00:00Z', true),
        version('newest', '2021-01-01T00:00:00Z'),
        version('gone', '2020-06-01T00:00:00Z'),
      ],
      rules({ keepWithinDays: 1 }),
      NOW,
    );
    expect(keptIds(decision)).toEqual(['held', 'newest']);
    expect(decision.dropped.map((v) => v.id)).toEqual(['gone']);
  });

  it('partitions every version exactly once, whatever the rules and order (property)', () => {
    const arbitraryRules = fc.record({
      keepLast: fc.option(fc.nat(5)),
      keepWithinDays: fc.option(fc.nat(30)),
      keepDaily: fc.option(fc.nat(5)),
      keepWeekly: fc.option(fc.nat(5)),
      keepMonthly: fc.option(fc.nat(5)),
    });
    const arbitraryVersions = fc.uniqueArray(
      fc.record({
        id: fc.uuid(),
        createdAt: fc.date({ min: new Date('2025-01-01'), max: NOW, noInvalidDate: true }),
        isHeld: fc.boolean(),
      }),
      { selector: (v) => v.id, maxLength: 40 },
    );
    fc.assert(
      fc.property(arbitraryVersions, arbitraryRules, (versions, partial) => {
        const decision = evaluateRetention(versions, rules(partial), NOW);
        expect(decision.kept.length + decision.dropped.length).toBe(versions.length);
        for (const dropped of decision.dropped) expect(dropped.isHeld).toBe(false);
        if (versions.length > 0) expect(decision.kept.length).toBeGreaterThanOrEqual(1);
        const reversed = evaluateRetention([...versions].reverse(), rules(partial), NOW);
        expect(keptIds(reversed)).toEqual(keptIds(decision));
        if (partial.keepLast !== null)
          expect(decision.kept.length).toBeGreaterThanOrEqual(Math.min(partial.keepLast, versions.length));
      }),
    );
  });
});
