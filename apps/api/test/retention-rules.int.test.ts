import {
  backUpAndWait,
  gql,
  gqlOk,
  randomData,
  seedTwoCopyTenant,
  startTestStack,
  type TestStack,
} from '@echelon/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('retention rules on policy templates (real stack)', () => {
  let env: TestStack;
  beforeAll(async () => {
    env = await startTestStack();
  }, 240_000);
  afterAll(async () => env?.stop(), 60_000);

  it('are versioned with the template; contradicting or invalid rules are BAD_USER_INPUT and change nothing', async () => {
    const seeded = await seedTwoCopyTenant(env, 'retention');
    const [primary, second] = seeded.storageSystems.map((system) => system.id);
    const update =
      'mutation($id: ID!, $input: CreatePolicyTemplateInput!) { updatePolicyTemplate(id: $id, input: $input) { version retention { keepLast keepWithinDays keepDaily keepWeekly keepMonthly } } }';
    const base = {
      name: seeded.template.name,
      copies: 2,
      primaryStorageSystemId: primary,
      candidateStorageSystemIds: [second],
      delaySeconds: 0,
    };
    for (const [retention, pattern] of [
      [{ keepLast: 0, keepDaily: 0 }, /all 0/],
      [{ keepWeekly: -1 }, /keepWeekly must be a whole number/],
    ] as const) {
      const refused = await gql(env.apiUrl, seeded.apiKey, update, {
        id: seeded.template.templateId,
        input: { ...base, retention },
      });
      expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(refused.errors?.[0]?.message).toMatch(pattern);
    }
    const read =
      'query($id: ID!, $v: Int) { policyTemplate(id: $id, version: $v) { version retention { keepLast keepDaily } } }';
    const unchanged = await gqlOk<{ policyTemplate: { version: number; retention: unknown } }>(
      env.apiUrl,
      seeded.apiKey,
      read,
      { id: seeded.template.templateId },
    );
    expect(unchanged.policyTemplate).toEqual({ version: 1, retention: null });

    const saved = await gqlOk<{ updatePolicyTemplate: { version: number; retention: Record<string, number | null> } }>(
      env.apiUrl,
      seeded.apiKey,
      update,
      { id: seeded.template.templateId, input: { ...base, retention: { keepLast: 3, keepDaily: 7, keepMonthly: 12 } } },
    );
    expect(saved.updatePolicyTemplate).toEqual({
      version: 2,
      retention: { keepLast: 3, keepWithinDays: null, keepDaily: 7, keepWeekly: null, keepMonthly: 12 },
    });
    const first = await gqlOk<{ policyTemplate: { version: number; retention: unknown } }>(
      env.apiUrl,
      seeded.apiKey,
      read,
      {
        id: seeded.template.templateId,
        v: 1,
      },
    );
    expect(first.policyTemplate).toEqual({ version: 1, retention: null });
  }, 180_000);

  it('holds a dataset version through the API (audited), lists it, refuses a second or a wrong one, and lifts it', async () => {
    const seeded = await seedTwoCopyTenant(env, 'holds');
    await backUpAndWait(env.apiUrl, seeded.apiKey, 'held/ledger', randomData(64 * 1024));
    const place =
      'mutation($key: String!, $v: Int!, $reason: String!) { placeLegalHold(datasetKey: $key, version: $v, reason: $reason) { datasetKey version reason placedBy } }';
    const placed = await gqlOk<{ placeLegalHold: Record<string, unknown> }>(env.apiUrl, seeded.apiKey, place, {
      key: 'held/ledger',
      v: 1,
      reason: 'litigation 2026-17',
    });
    expect(placed.placeLegalHold).toMatchObject({
      datasetKey: 'held/ledger',
      version: 1,
      reason: 'litigation 2026-17',
    });
    const codeOf = async (variables: Record<string, unknown>) =>
      (await gql(env.apiUrl, seeded.apiKey, place, variables)).errors?.[0]?.extensions?.code;
    expect(await codeOf({ key: 'held/ledger', v: 1, reason: 'again' })).toBe('CONFLICT');
    expect(await codeOf({ key: 'held/ledger', v: 2, reason: 'no such version' })).toBe('NOT_FOUND');
    expect(await codeOf({ key: 'no/such', v: 1, reason: 'no such dataset' })).toBe('NOT_FOUND');
    expect(await codeOf({ key: 'held/ledger', v: 1, reason: '   ' })).toBe('BAD_USER_INPUT');
    const listed = await gqlOk<{ legalHolds: { datasetKey: string; version: number }[] }>(
      env.apiUrl,
      seeded.apiKey,
      '{ legalHolds { datasetKey version reason } }',
    );
    expect(listed.legalHolds).toEqual([{ datasetKey: 'held/ledger', version: 1, reason: 'litigation 2026-17' }]);
    const lift =
      'mutation($key: String!, $v: Int!) { liftLegalHold(datasetKey: $key, version: $v) { datasetKey version } }';
    await gqlOk(env.apiUrl, seeded.apiKey, lift, { key: 'held/ledger', v: 1 });
    expect(
      (await gql(env.apiUrl, seeded.apiKey, lift, { key: 'held/ledger', v: 1 })).errors?.[0]?.extensions?.code,
    ).toBe('NOT_FOUND');
    expect(
      (await gqlOk<{ legalHolds: unknown[] }>(env.apiUrl, seeded.apiKey, '{ legalHolds { version } }')).legalHolds,
    ).toEqual([]);
    // Placed and lifted once each in the tenant's audit log; the refusals wrote nothing.
    const audited = await env.db.auditEntry.findMany({
      where: { tenantId: seeded.tenant.id, action: { startsWith: 'legalHold.' } },
      orderBy: { chainSeq: 'asc' },
    });
    expect(audited.map((entry) => entry.action)).toEqual(['legalHold.place', 'legalHold.lift']);
  }, 180_000);

  it('previews what rules would keep and drop of the datasets a template governs, without saving them', async () => {
    const seeded = await seedTwoCopyTenant(env, 'retention-preview');
    for (let version = 1; version <= 4; version++) {
      await backUpAndWait(env.apiUrl, seeded.apiKey, 'preview/ledger', randomData(16 * 1024));
    }
    await gqlOk(
      env.apiUrl,
      seeded.apiKey,
      'mutation { placeLegalHold(datasetKey: "preview/ledger", version: 1, reason: "audit") { version } }',
    );
    const preview = async (retention: Record<string, number> | null) =>
      (
        await gqlOk<{
          previewRetention: { datasetKey: string; droppedCount: number; versions: Record<string, unknown>[] }[];
        }>(
          env.apiUrl,
          seeded.apiKey,
          'query($id: ID!, $r: RetentionRulesInput) { previewRetention(templateId: $id, retention: $r) { datasetKey droppedCount versions { version kept held reasons } } }',
          { id: seeded.template.templateId, r: retention },
        )
      ).previewRetention;
    // Keep the last 2: versions 3 and 4 by the rule, 1 by its hold; 2 would go.
    expect(await preview({ keepLast: 2 })).toEqual([
      {
        datasetKey: 'preview/ledger',
        droppedCount: 1,
        versions: [
          { version: 1, kept: true, held: true, reasons: ['HELD'] },
          { version: 2, kept: false, held: false, reasons: [] },
          { version: 3, kept: true, held: false, reasons: ['LAST'] },
          { version: 4, kept: true, held: false, reasons: expect.arrayContaining(['LAST']) },
        ],
      },
    ]);
    // No rules: every version stays. Bad rules: BAD_USER_INPUT. Nothing was saved either way.
    expect((await preview(null))[0]?.droppedCount).toBe(0);
    const bad = await gql(
      env.apiUrl,
      seeded.apiKey,
      'query($id: ID!) { previewRetention(templateId: $id, retention: { keepLast: 0 }) { datasetKey } }',
      { id: seeded.template.templateId },
    );
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const template = await gqlOk<{ policyTemplate: { version: number; retention: unknown } }>(
      env.apiUrl,
      seeded.apiKey,
      'query($id: ID!) { policyTemplate(id: $id) { version retention { keepLast } } }',
      { id: seeded.template.templateId },
    );
    expect(template.policyTemplate).toEqual({ version: 1, retention: null });
  }, 180_000);
});
