import { gql, gqlOk, seedTwoCopyTenant, startTestStack, type TestStack } from '@echelon/stack';
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
});
