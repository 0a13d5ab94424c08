import { isDomainError } from '@echelon/domain';
import { heldVersionIds, liftLegalHoldAudited, placeLegalHoldAudited, tenantDb, verifyTenantChains } from '@echelon/db';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertJobRows, seedTwoCopyTenant, startTestStack, type TestStack } from '../src/index.js';

let env: TestStack;
beforeAll(async () => {
  env = await startTestStack();
}, 300_000);
afterAll(async () => env?.stop(), 120_000);

const codeOf = (work: Promise<unknown>) =>
  work.then(
    () => 'resolved',
    (error: unknown) => (isDomainError(error) ? error.code : String(error)),
  );

describe('legal holds on dataset versions', () => {
  it('places and lifts a hold, each audited in the hash chain; bad input is typed and changes nothing', async () => {
    const seeded = await seedTwoCopyTenant(env, 'holds');
    const other = await seedTwoCopyTenant(env, 'holds-other');
    const db = tenantDb(env.db, seeded.tenant.id);
    const actor = { identityId: seeded.adminIdentityId, label: seeded.adminExternalId };
    const { jobId } = await insertJobRows(env.db, seeded, {
      datasetKey: 'held/data',
      sizeBytes: 10,
      jobStatus: 'COMPLETED',
      storageSystemId: seeded.storageSystems[0]?.id as string,
      replicas: { count: 1, firstOrder: 1, role: 'PRIMARY', status: 'COMPLETED' },
    });
    const job = await env.db.backupJob.findFirstOrThrow({ where: { id: jobId } });
    const versionId = job.datasetVersionId;
    const auditCount = () => env.db.auditEntry.count({ where: { tenantId: seeded.tenant.id } });
    const before = await auditCount();

    expect(
      await codeOf(placeLegalHoldAudited(db, actor, seeded.tenant.id, { versionId: randomUUID(), reason: 'x' })),
    ).toBe('NOT_FOUND');
    expect(await codeOf(placeLegalHoldAudited(db, actor, seeded.tenant.id, { versionId, reason: '   ' }))).toBe(
      'BAD_USER_INPUT',
    );
    // Another tenant cannot hold this tenant's version.
    const otherDb = tenantDb(env.db, other.tenant.id);
    expect(
      await codeOf(
        placeLegalHoldAudited(otherDb, { identityId: other.adminIdentityId, label: 'x' }, other.tenant.id, {
          versionId,
          reason: 'litigation',
        }),
      ),
    ).toBe('NOT_FOUND');
    expect(await auditCount()).toBe(before);

    const hold = await placeLegalHoldAudited(db, actor, seeded.tenant.id, { versionId, reason: 'litigation 2026-17' });
    expect(hold.reason).toBe('litigation 2026-17');
    expect([...(await heldVersionIds(db, seeded.tenant.id, [versionId]))]).toEqual([versionId]);
    expect(await codeOf(placeLegalHoldAudited(db, actor, seeded.tenant.id, { versionId, reason: 'again' }))).toBe(
      'CONFLICT',
    );
    expect(await heldVersionIds(otherDb, other.tenant.id, [versionId])).toEqual(new Set());

    await liftLegalHoldAudited(db, actor, seeded.tenant.id, versionId);
    expect(await heldVersionIds(db, seeded.tenant.id, [versionId])).toEqual(new Set());
    expect(await codeOf(liftLegalHoldAudited(db, actor, seeded.tenant.id, versionId))).toBe('NOT_FOUND');

    const entries = await env.db.auditEntry.findMany({
      where: { tenantId: seeded.tenant.id, objectId: versionId },
      orderBy: { id: 'asc' },
    });
    expect(entries.map((entry) => entry.action)).toEqual(['legalHold.place', 'legalHold.lift']);
    const chains = await verifyTenantChains(env.db, seeded.tenant.id);
    expect(chains.brokenLinkCount).toBe(0);
  }, 120_000);
});
