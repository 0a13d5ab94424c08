import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { orderSecondaries, type SpaceCapacity, type StorageCapacity } from './capacity.js';
import { DomainError } from './errors.js';
import { plannedOffsetsSeconds } from './schedule.js';
import {
  type Assignment,
  buildScheme,
  matchAssignment,
  type Requester,
  type ResolvedScheme,
  resolveScheme,
  type TemplateVersion,
} from './scheme.js';

const GIB = 1024 ** 3;

const alice: Requester = { identityId: 'id-alice', externalId: 'alice@example.com', groups: ['ops', 'finance'] };

let nextAssignment = 0;
const assignment = (fields: Partial<Assignment> & { templateId: string }): Assignment => ({
  id: fields.id ?? `asg-${++nextAssignment}`,
  identityId: null,
  group: null,
  tenantDefault: false,
  dataClass: null,
  createdAt: new Date('2024-01-01T00:00:00Z'),
  ...fields,
});

const forIdentity = (templateId: string, identityId = alice.identityId, extra: Partial<Assignment> = {}) =>
  assignment({ templateId, identityId, ...extra });
const forGroup = (templateId: string, group: string, extra: Partial<Assignment> = {}) =>
  assignment({ templateId, group, ...extra });
const forTenant = (templateId: string, extra: Partial<Assignment> = {}) =>
  assignment({ templateId, tenantDefault: true, ...extra });

const templateIdOf = (assignments: readonly Assignment[], dataClass: string | null = null, who = alice) =>
  matchAssignment(assignments, who, dataClass)?.assignment.templateId;

describe('matchAssignment: precedence', () => {
  it('matches nothing when there are no assignments', () => {
    expect(matchAssignment([], alice, null)).toBeUndefined();
  });

  it('identity beats group and tenant default, whatever the row order', () => {
    const rows = [forTenant('t-tenant'), forGroup('t-group', 'ops'), forIdentity('t-identity')];
    expect(templateIdOf(rows)).toBe('t-identity');
    expect(templateIdOf([...rows].reverse())).toBe('t-identity');
  });

  it('group beats tenant default', () => {
    expect(templateIdOf([forTenant('t-tenant'), forGroup('t-group', 'finance')])).toBe('t-group');
    expect(templateIdOf([forGroup('t-group', 'finance'), forTenant('t-tenant')])).toBe('t-group');
  });

  it('falls back to the tenant default', () => {
    expect(templateIdOf([forTenant('t-tenant')])).toBe('t-tenant');
  });

  it('ignores assignments to other identities and to groups the identity is not in', () => {
    const rows = [forIdentity('t-bob', 'id-bob'), forGroup('t-sales', 'sales'), forTenant('t-tenant')];
    expect(templateIdOf(rows)).toBe('t-tenant');
    expect(templateIdOf(rows.slice(0, 2))).toBeUndefined();
  });

  it('ignores a row that is neither identity, group nor tenant default', () => {
    expect(templateIdOf([assignment({ templateId: 't-nothing' })])).toBeUndefined();
  });

  it('an identity-scoped row never falls through to the group or tenant scope', () => {
    // identityId wins over the other fields: this row is for bob only, even though it names alice's group.
    const odd = assignment({ templateId: 't-odd', identityId: 'id-bob', group: 'ops', tenantDefault: true });
    expect(templateIdOf([odd])).toBeUndefined();
  });
});

describe('matchAssignment: data class', () => {
  it('within a scope, an assignment for the request’s data class comes before a generic one', () => {
    const generic = forIdentity('t-generic', alice.identityId, { createdAt: new Date('2020-01-01') });
    const specific = forIdentity('t-invoices', alice.identityId, { dataClass: 'invoices' });
    expect(templateIdOf([generic, specific], 'invoices')).toBe('t-invoices');
    expect(templateIdOf([specific, generic], 'invoices')).toBe('t-invoices');
    expect(templateIdOf([forGroup('g', 'ops'), forGroup('g-inv', 'ops', { dataClass: 'invoices' })], 'invoices')).toBe(
      'g-inv',
    );
    expect(templateIdOf([forTenant('d'), forTenant('d-inv', { dataClass: 'invoices' })], 'invoices')).toBe('d-inv');
  });

  it('scope outranks data class: a generic identity assignment beats a specific group one', () => {
    const rows = [
      forGroup('t-group-invoices', 'ops', { dataClass: 'invoices' }),
      forTenant('t-tenant-invoices', { dataClass: 'invoices' }),
      forIdentity('t-identity-generic'),
    ];
    expect(templateIdOf(rows, 'invoices')).toBe('t-identity-generic');
  });

  it('an assignment for another data class never matches', () => {
    const rows = [forIdentity('t-photos', alice.identityId, { dataClass: 'photos' }), forGroup('t-ops', 'ops')];
    expect(templateIdOf(rows, 'invoices')).toBe('t-ops');
    expect(templateIdOf(rows.slice(0, 1), 'invoices')).toBeUndefined();
  });

  it('a request without a data class only matches generic assignments', () => {
    const rows = [forIdentity('t-photos', alice.identityId, { dataClass: 'photos' }), forTenant('t-tenant')];
    expect(templateIdOf(rows, null)).toBe('t-tenant');
    expect(templateIdOf(rows.slice(0, 1), null)).toBeUndefined();
  });
});

describe('matchAssignment: ties', () => {
  it('two groups at the same precedence: the alphabetically first group name wins', () => {
    const ops = forGroup('t-ops', 'ops', { createdAt: new Date('2020-01-01') });
    const finance = forGroup('t-finance', 'finance', { createdAt: new Date('2025-01-01') });
    expect(templateIdOf([ops, finance])).toBe('t-finance');
    expect(templateIdOf([finance, ops])).toBe('t-finance');
  });

  it('the same group twice: the older assignment wins', () => {
    const newer = forGroup('t-newer', 'ops', { createdAt: new Date('2024-06-01') });
    const older = forGroup('t-older', 'ops', { createdAt: new Date('2024-01-01') });
    expect(templateIdOf([newer, older])).toBe('t-older');
    expect(templateIdOf([older, newer])).toBe('t-older');
  });

  it('two identity assignments: the older wins', () => {
    const newer = forIdentity('t-newer', alice.identityId, { createdAt: new Date('2024-06-01') });
    const older = forIdentity('t-older', alice.identityId, { createdAt: new Date('2024-01-01') });
    expect(templateIdOf([newer, older])).toBe('t-older');
  });

  it('a complete tie is broken by id, not by row order', () => {
    const b = forTenant('t-b', { id: 'asg-b' });
    const a = forTenant('t-a', { id: 'asg-a' });
    expect(templateIdOf([b, a])).toBe('t-a');
    expect(templateIdOf([a, b])).toBe('t-a');
  });

  it('a data-class match in a later group beats a generic one in an earlier group', () => {
    const rows = [forGroup('t-finance', 'finance'), forGroup('t-ops-invoices', 'ops', { dataClass: 'invoices' })];
    expect(templateIdOf(rows, 'invoices')).toBe('t-ops-invoices');
  });
});

describe('matchAssignment: matchedBy', () => {
  it('names the identity for an identity match', () => {
    const match = matchAssignment([forIdentity('t')], alice, null);
    expect(match?.matchedBy).toBe('assigned to identity alice@example.com for any data class');
  });

  it('names the group and the identity for a group match', () => {
    const match = matchAssignment([forGroup('t', 'finance', { dataClass: 'invoices' })], alice, 'invoices');
    expect(match?.matchedBy).toBe(
      'assigned to group "finance" of identity alice@example.com for data class "invoices"',
    );
  });

  it('says tenant default for a tenant default match', () => {
    const match = matchAssignment([forTenant('t')], alice, 'invoices');
    expect(match?.matchedBy).toBe('assigned to the tenant default for any data class');
  });

  it('returns the matched assignment itself', () => {
    const row = forGroup('t', 'ops');
    expect(matchAssignment([forTenant('x'), row], alice, null)?.assignment).toBe(row);
  });
});

describe('matchAssignment properties', () => {
  const groupNames = ['ops', 'finance', 'sales', 'Admins', 'eng'];
  const classes = [null, 'invoices', 'photos'];
  const requesterArb = fc.record({
    identityId: fc.constantFrom('id-alice', 'id-bob'),
    externalId: fc.constant('someone@example.com'),
    groups: fc.subarray(groupNames),
  });
  const assignmentsArb = fc
    .array(
      fc.record({
        kind: fc.constantFrom('identity', 'group', 'tenant', 'none'),
        identityId: fc.constantFrom('id-alice', 'id-bob'),
        group: fc.constantFrom(...groupNames),
        dataClass: fc.constantFrom(...classes),
        createdAt: fc.integer({ min: 0, max: 5 }).map((day) => new Date(Date.UTC(2024, 0, 1 + day))),
      }),
      { maxLength: 12 },
    )
    .map((rows) =>
      rows.map(
        (row, index): Assignment => ({
          id: `asg-${String(index).padStart(2, '0')}`,
          templateId: `t-${index}`,
          identityId: row.kind === 'identity' ? row.identityId : null,
          group: row.kind === 'group' ? row.group : null,
          tenantDefault: row.kind === 'tenant',
          dataClass: row.dataClass,
          createdAt: row.createdAt,
        }),
      ),
    );

  /** Independent oracle for which rows apply and how strongly (lower is stronger). */
  const rank = (row: Assignment, who: Requester, dataClass: string | null): number | undefined => {
    if (row.dataClass !== null && row.dataClass !== dataClass) return undefined;
    const specificity = row.dataClass === null ? 1 : 0;
    if (row.identityId !== null) return row.identityId === who.identityId ? 0 + specificity : undefined;
    if (row.group !== null) return who.groups.includes(row.group) ? 2 + specificity : undefined;
    return row.tenantDefault ? 4 + specificity : undefined;
  };

  it('does not depend on the order rows come back in', () => {
    fc.assert(
      fc.property(
        assignmentsArb.chain((rows) =>
          fc.tuple(fc.constant(rows), fc.shuffledSubarray(rows, { minLength: rows.length })),
        ),
        requesterArb,
        fc.constantFrom(...classes),
        ([rows, shuffled], who, dataClass) => {
          const a = matchAssignment(rows, who, dataClass);
          const b = matchAssignment(shuffled, who, dataClass);
          expect(b?.assignment.id).toBe(a?.assignment.id);
          expect(b?.matchedBy).toBe(a?.matchedBy);
        },
      ),
    );
  });

  it('picks an applicable row of the strongest rank, oldest among equals, and only when one applies', () => {
    fc.assert(
      fc.property(assignmentsArb, requesterArb, fc.constantFrom(...classes), (rows, who, dataClass) => {
        const match = matchAssignment(rows, who, dataClass);
        const ranks = rows.map((row) => rank(row, who, dataClass));
        const applicable = ranks.filter((r): r is number => r !== undefined);
        if (applicable.length === 0) {
          expect(match).toBeUndefined();
          return;
        }
        expect(match).toBeDefined();
        if (match === undefined) return;
        const chosenRank = rank(match.assignment, who, dataClass);
        expect(chosenRank).toBe(Math.min(...applicable));
        const sameRank = rows.filter((row) => rank(row, who, dataClass) === chosenRank);
        for (const other of sameRank) {
          expect((match.assignment.group ?? '').localeCompare(other.group ?? '')).toBeLessThanOrEqual(0);
        }
        const peers = rows.filter(
          (row) => rank(row, who, dataClass) === chosenRank && row.group === match.assignment.group,
        );
        for (const peer of peers) {
          expect(match.assignment.createdAt.getTime()).toBeLessThanOrEqual(peer.createdAt.getTime());
        }
        const scopeWord = chosenRank === undefined ? '?' : ['identity', 'group', 'tenant default'][chosenRank >> 1];
        expect(match.matchedBy).toContain(scopeWord);
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// resolveScheme / buildScheme

const space = (id: string, capacityBytes: number, usedBytes = 0): SpaceCapacity => ({
  id,
  name: `space ${id}`,
  capacityBytes,
  usedBytes,
});
const system = (id: string, spaces: SpaceCapacity[], healthy = true): StorageCapacity => ({
  storageSystemId: id,
  name: `System ${id}`,
  healthy,
  spaces,
});

const STORAGE = new Map<string, StorageCapacity>(
  [
    system('P', [space('p1', 1024 * GIB, 24 * GIB)]),
    system('A', [space('a1', 100 * GIB, 10 * GIB)]), // 90 GiB free
    system('B', [space('b1', 50 * GIB), space('b2', 10 * GIB)]), // 60 GiB free
    system('C', [space('c1', 30 * GIB, 5 * GIB)]), // 25 GiB free
    system('D', [space('d1', 500 * GIB)], false), // unhealthy
    system('E', [space('e1', 10 * GIB), space('e2', 15 * GIB)]), // best space 15 GiB
    system('SMALL', [space('s1', 5 * GIB)]),
  ].map((s) => [s.storageSystemId, s]),
);

const template = (fields: Partial<TemplateVersion> = {}): TemplateVersion => ({
  templateId: 't-main',
  version: 3,
  name: 'Main',
  copies: 3,
  primaryStorageSystemId: 'P',
  candidateStorageSystemIds: ['C', 'A', 'B', 'D', 'E'],
  delaySeconds: 60,
  ordering: 'CAPACITY',
  dataClass: null,
  ...fields,
});

const resolve = (
  templateFields: Partial<TemplateVersion> = {},
  sizeBytes = 20 * GIB,
  assignments: Assignment[] = [forTenant('t-main')],
): ResolvedScheme => {
  const t = template(templateFields);
  return resolveScheme({
    requester: alice,
    request: { sizeBytes, dataClass: null },
    assignments,
    templates: new Map([[t.templateId, t]]),
    storage: STORAGE,
  });
};

const reasonOf = (scheme: ResolvedScheme, id: string) =>
  scheme.skipped.find((skip) => skip.storageSystemId === id)?.reason;

const catchError = (run: () => unknown): DomainError => {
  try {
    run();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a DomainError, nothing was thrown');
};

describe('resolveScheme', () => {
  it('resolves the primary, capacity-ordered secondaries, skipped candidates and the plan', () => {
    const scheme = resolve();
    expect(scheme.templateId).toBe('t-main');
    expect(scheme.templateVersion).toBe(3);
    expect(scheme.matchedBy).toBe('assigned to the tenant default for any data class');
    expect(scheme.copies).toBe(3);
    expect(scheme.delaySeconds).toBe(60);
    expect(scheme.ordering).toBe('CAPACITY');
    expect(scheme.primary).toEqual({
      storageSystemId: 'P',
      spaceId: 'p1',
      remainingAfterBytes: 980 * GIB,
      bytesToWrite: 20 * GIB,
    });
    expect(scheme.secondaries).toEqual([
      { storageSystemId: 'A', spaceId: 'a1', remainingAfterBytes: 70 * GIB, bytesToWrite: 20 * GIB },
      { storageSystemId: 'B', spaceId: 'b1', remainingAfterBytes: 40 * GIB, bytesToWrite: 20 * GIB },
    ]);
    expect(scheme.skipped.map((s) => s.storageSystemId).sort()).toEqual(['C', 'D', 'E']);
    expect(reasonOf(scheme, 'C')).toMatch(/^not needed/);
    expect(reasonOf(scheme, 'C')).toContain('3 copies');
    expect(reasonOf(scheme, 'D')).toBe('System D is unhealthy');
    expect(reasonOf(scheme, 'E')).toContain('System E');
    // 20 GiB at 100 MiB/s = 205 s per copy, then 60 s delay.
    expect(scheme.plannedOffsetsSeconds).toEqual([0, 265, 530]);
  });

  it('with FIXED ordering takes the eligible candidates in template order', () => {
    const scheme = resolve({ ordering: 'FIXED' });
    expect(scheme.secondaries.map((s) => s.storageSystemId)).toEqual(['C', 'A']);
    expect(reasonOf(scheme, 'B')).toMatch(/^not needed/);
    // FIXED does not choose by room, so the reason must not say it did.
    expect(reasonOf(scheme, 'B')).not.toContain('more room');
    expect(reasonOf(scheme, 'B')).toContain('template order');
  });

  it('uses every eligible candidate when more copies are wanted than there are candidates', () => {
    const scheme = resolve({ copies: 10 });
    expect(scheme.secondaries.map((s) => s.storageSystemId)).toEqual(['A', 'B', 'C']);
    expect(scheme.skipped.filter((s) => s.reason.startsWith('not needed'))).toEqual([]);
    expect(scheme.plannedOffsetsSeconds).toHaveLength(4);
  });

  it('with one copy writes only the primary and lists every eligible candidate as not needed', () => {
    const scheme = resolve({ copies: 1 });
    expect(scheme.secondaries).toEqual([]);
    expect(
      scheme.skipped
        .filter((s) => s.reason.startsWith('not needed'))
        .map((s) => s.storageSystemId)
        .sort(),
    ).toEqual(['A', 'B', 'C']);
    expect(scheme.plannedOffsetsSeconds).toEqual([0]);
  });

  it('records a candidate that no longer exists as skipped', () => {
    const scheme = resolve({ candidateStorageSystemIds: ['gone', 'A'] });
    expect(scheme.secondaries.map((s) => s.storageSystemId)).toEqual(['A']);
    expect(reasonOf(scheme, 'gone')).toContain('gone no longer exists');
  });

  it('uses the template of the assignment that matched', () => {
    const identityTemplate = template({ templateId: 't-alice', version: 7, copies: 2, delaySeconds: 5 });
    const tenantTemplate = template({ templateId: 't-main' });
    const scheme = resolveScheme({
      requester: alice,
      request: { sizeBytes: GIB, dataClass: null },
      assignments: [forTenant('t-main'), forIdentity('t-alice')],
      templates: new Map([
        ['t-main', tenantTemplate],
        ['t-alice', identityTemplate],
      ]),
      storage: STORAGE,
    });
    expect(scheme.templateId).toBe('t-alice');
    expect(scheme.templateVersion).toBe(7);
    expect(scheme.matchedBy).toContain('identity alice@example.com');
    expect(scheme.secondaries).toHaveLength(1);
    expect(scheme.plannedOffsetsSeconds).toEqual([0, 11 + 5]);
  });

  it('throws NO_POLICY when no assignment applies, naming the identity and the data class', () => {
    const error = catchError(() =>
      resolveScheme({
        requester: alice,
        request: { sizeBytes: 1, dataClass: 'invoices' },
        assignments: [forTenant('t-main', { dataClass: 'photos' }), forGroup('t-main', 'sales')],
        templates: new Map([['t-main', template()]]),
        storage: STORAGE,
      }),
    );
    expect(error.code).toBe('NO_POLICY');
    expect(error.message).toContain('alice@example.com');
    expect(error.message).toContain('"invoices"');
    expect(error.message).toContain('assignPolicy');
  });

  it('throws NO_POLICY when the assigned template has no version', () => {
    const error = catchError(() => resolve({}, 1, [forTenant('t-unpublished')]));
    expect(error.code).toBe('NO_POLICY');
    expect(error.message).toContain('t-unpublished');
  });

  it('throws INSUFFICIENT_CAPACITY when the primary cannot hold the data', () => {
    const error = catchError(() => resolve({ primaryStorageSystemId: 'SMALL' }, 6 * GIB));
    expect(error.code).toBe('INSUFFICIENT_CAPACITY');
    expect(error.message).toContain('System SMALL');
    expect(error.details).toEqual({ storageSystemId: 'SMALL', sizeBytes: 6 * GIB });
  });

  it('throws INSUFFICIENT_CAPACITY when the primary is unhealthy', () => {
    const error = catchError(() => resolve({ primaryStorageSystemId: 'D' }, GIB));
    expect(error.code).toBe('INSUFFICIENT_CAPACITY');
    expect(error.message).toContain('unhealthy');
  });

  it('throws NOT_FOUND when the primary storage system does not exist', () => {
    const error = catchError(() => resolve({ primaryStorageSystemId: 'nowhere' }, GIB));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toContain('nowhere');
  });

  it('accepts data that exactly fills the primary’s best space', () => {
    const scheme = resolve({ primaryStorageSystemId: 'SMALL', candidateStorageSystemIds: [] }, 5 * GIB);
    expect(scheme.primary).toEqual({
      storageSystemId: 'SMALL',
      spaceId: 's1',
      remainingAfterBytes: 0,
      bytesToWrite: 5 * GIB,
    });
    expect(scheme.secondaries).toEqual([]);
  });
});

describe('buildScheme properties', () => {
  const MAX = 1000;
  const systemsArb = fc
    .array(
      fc.record({
        healthy: fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, { arbitrary: fc.constant(false), weight: 1 }),
        spaces: fc.array(fc.record({ capacity: fc.nat({ max: MAX }), used: fc.nat({ max: MAX }) }), { maxLength: 3 }),
      }),
      { minLength: 1, maxLength: 8 },
    )
    .map((rows) =>
      rows.map((row, index) =>
        system(
          `S${index}`,
          row.spaces.map((s, k) => space(`S${index}-${k}`, s.capacity, s.used)),
          row.healthy,
        ),
      ),
    );

  const caseArb = systemsArb.chain((systems) => {
    const systemIds = systems.map((s) => s.storageSystemId);
    return fc.record({
      systems: fc.constant(systems),
      primaryId: fc.constantFrom(...systemIds),
      candidateIds: fc.shuffledSubarray([...systemIds, 'missing-1', 'missing-2']),
      copies: fc.integer({ min: 1, max: 6 }),
      delaySeconds: fc.nat({ max: 3600 }),
      ordering: fc.constantFrom<'CAPACITY' | 'FIXED'>('CAPACITY', 'FIXED'),
      sizeBytes: fc.oneof(fc.constantFrom(0, 1, 100, 500), fc.nat({ max: MAX })),
      excludePrimary: fc.boolean(),
    });
  });

  type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;
  const build = (c: Case) => {
    const candidateStorageSystemIds = c.excludePrimary
      ? c.candidateIds.filter((id) => id !== c.primaryId)
      : c.candidateIds;
    const t = template({
      copies: c.copies,
      primaryStorageSystemId: c.primaryId,
      candidateStorageSystemIds,
      delaySeconds: c.delaySeconds,
      ordering: c.ordering,
    });
    const storage = new Map(c.systems.map((s) => [s.storageSystemId, s]));
    return { t, storage, candidateStorageSystemIds };
  };

  it('either refuses with INSUFFICIENT_CAPACITY because the primary cannot hold the data, or places it there', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const { t, storage } = build(c);
        const primary = storage.get(c.primaryId) as StorageCapacity;
        const primaryCanHold =
          primary.healthy && primary.spaces.some((s) => Math.max(0, s.capacityBytes - s.usedBytes) >= c.sizeBytes);
        if (!primaryCanHold) {
          expect(catchError(() => buildScheme(t, 'm', c.sizeBytes, storage)).code).toBe('INSUFFICIENT_CAPACITY');
        } else {
          expect(buildScheme(t, 'm', c.sizeBytes, storage).primary.storageSystemId).toBe(c.primaryId);
        }
      }),
    );
  });

  it('secondaries: at most copies-1, exactly min(copies-1, eligible), drawn from the candidates in order', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const { t, storage, candidateStorageSystemIds } = build(c);
        let scheme: ResolvedScheme;
        try {
          scheme = buildScheme(t, 'm', c.sizeBytes, storage);
        } catch (error) {
          expect((error as DomainError).code).toBe('INSUFFICIENT_CAPACITY');
          return;
        }
        const existing = candidateStorageSystemIds
          .filter((id) => id !== c.primaryId)
          .flatMap((id) => storage.get(id) ?? []);
        const order = orderSecondaries(existing, c.sizeBytes, c.ordering);
        const secondaryIds = scheme.secondaries.map((s) => s.storageSystemId);

        expect(secondaryIds.length).toBeLessThanOrEqual(c.copies - 1);
        expect(secondaryIds.length).toBe(Math.min(c.copies - 1, order.ordered.length));
        expect(scheme.secondaries).toEqual(order.ordered.slice(0, secondaryIds.length));
        for (const id of secondaryIds) expect(candidateStorageSystemIds).toContain(id);
        expect(new Set(secondaryIds).size).toBe(secondaryIds.length);
        // the primary never doubles as a secondary, even when a template lists it as a candidate
        expect(secondaryIds).not.toContain(c.primaryId);

        // every candidate is accounted for exactly once: written or skipped with a reason
        const accounted = [...secondaryIds, ...scheme.skipped.map((s) => s.storageSystemId)];
        expect(accounted.sort()).toEqual([...candidateStorageSystemIds].sort());
        for (const skip of scheme.skipped) expect(skip.reason.length).toBeGreaterThan(0);
        const notNeeded = scheme.skipped.filter((s) => s.reason.startsWith('not needed'));
        expect(notNeeded).toHaveLength(order.ordered.length - secondaryIds.length);

        expect(scheme.plannedOffsetsSeconds).toHaveLength(1 + secondaryIds.length);
        expect(scheme.plannedOffsetsSeconds).toEqual(
          plannedOffsetsSeconds(1 + secondaryIds.length, c.sizeBytes, c.delaySeconds),
        );
      }),
    );
  });
});

describe('resolveScheme with data-class templates', () => {
  const storage = new Map([
    [
      'p',
      {
        storageSystemId: 'p',
        name: 'p',
        healthy: true,
        spaces: [{ id: 'ps', name: 'ps', capacityBytes: 100, usedBytes: 0 }],
      },
    ],
  ]);
  const template = (templateId: string, dataClass: string | null) => ({
    templateId,
    version: 1,
    name: templateId,
    copies: 1,
    primaryStorageSystemId: 'p',
    candidateStorageSystemIds: [],
    delaySeconds: 0,
    ordering: 'CAPACITY' as const,
    dataClass,
  });
  const assignment = (id: string, templateId: string) => ({
    id,
    templateId,
    identityId: null,
    group: null,
    tenantDefault: true,
    dataClass: null,
    createdAt: new Date(0),
  });
  const requester = { identityId: 'i', externalId: 'emp-1', groups: [] };
  const templates = new Map([
    ['generic', template('generic', null)],
    ['medical', template('medical', 'medical')],
  ]);
  const assignments = [assignment('a1', 'generic'), assignment('a2', 'medical')];

  it('applies a template that names a data class to requests of that class first', () => {
    const scheme = resolveScheme({
      requester,
      request: { sizeBytes: 1, dataClass: 'medical' },
      assignments,
      templates,
      storage,
    });
    expect(scheme.templateId).toBe('medical');
    expect(scheme.matchedBy).toContain('data class "medical"');
  });

  it('never applies it to other requests', () => {
    expect(
      resolveScheme({ requester, request: { sizeBytes: 1, dataClass: null }, assignments, templates, storage })
        .templateId,
    ).toBe('generic');
    expect(() =>
      resolveScheme({
        requester,
        request: { sizeBytes: 1, dataClass: null },
        assignments: [assignment('a2', 'medical')],
        templates,
        storage,
      }),
    ).toThrow(expect.objectContaining({ code: 'NO_POLICY' }));
  });
});
