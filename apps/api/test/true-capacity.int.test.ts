import path from 'node:path';
import { type SeededTenant, seedTenant, tenantDb } from '@echelon/db';
import { backUpAndWait, gqlOk, randomData, startTestStack, type TestStack } from '@echelon/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MIB = 1024 * 1024;

/** A space's used bytes against the unique chunk bytes the index says it holds, and its open reservations. */
async function spaceFigures(env: TestStack, seeded: SeededTenant) {
  const db = tenantDb(env.db, seeded.tenant.id);
  const spaces = await db.backupSpace.findMany({ where: { tenantId: seeded.tenant.id }, orderBy: { name: 'asc' } });
  return Promise.all(
    spaces.map(async (space) => {
      const chunks = await db.storedChunk.aggregate({ where: { spaceId: space.id }, _sum: { length: true } });
      const reserved = await db.replica.aggregate({ where: { spaceId: space.id }, _sum: { reservedBytes: true } });
      return {
        name: space.name,
        used: Number(space.usedBytes),
        chunkBytes: chunks._sum.length ?? 0,
        reserved: Number(reserved._sum.reservedBytes ?? 0n),
      };
    }),
  );
}

describe('capacity in true bytes', () => {
  let env: TestStack;
  let seeded: SeededTenant;

  beforeAll(async () => {
    env = await startTestStack();
    // The secondaries' spaces hold 30 MiB: a first 20 MiB version fits, a second whole copy would not.
    seeded = await seedTenant(env.db, {
      slug: 'true-capacity',
      name: 'True capacity',
      storageRoot: path.join(env.dataDir, 'storage'),
      storage: [
        { name: 'primary', spaces: [{ name: 'p', capacityBytes: 200 * MIB }] },
        { name: 'second', spaces: [{ name: 's', capacityBytes: 30 * MIB }] },
        { name: 'third', spaces: [{ name: 't', capacityBytes: 30 * MIB }] },
      ],
      copies: 3,
      delaySeconds: 0,
      minCopies: 3,
    });
  }, 120_000);

  afterAll(async () => {
    await env?.stop();
  });

  it('counts each space by the unique chunk bytes it holds, and places a new version by what it lacks', async () => {
    const first = randomData(20 * MIB);
    await backUpAndWait(env.apiUrl, seeded.apiKey, 'disk', first);
    const afterFirst = await spaceFigures(env, seeded);
    for (const space of afterFirst) {
      // Nothing is reserved once the copies are committed, and nothing is counted twice.
      expect(space.reserved).toBe(0);
      expect(space.used).toBe(space.chunkBytes);
      expect(space.used).toBe(first.length);
    }

    // 1 % changed in place: the second version needs about 1–3 chunks in each space, though a whole copy (20 MiB)
    // no longer fits the 10 MiB left on the secondaries.
    const second = Buffer.from(first);
    randomData(200 * 1024).copy(second, 7 * MIB);
    const preview = await gqlOk<{ previewScheme: { secondaries: { name: string }[]; skipped: { reason: string }[] } }>(
      env.apiUrl,
      seeded.apiKey,
      'query($input: PreviewSchemeInput!) { previewScheme(input: $input) { secondaries { name } skipped { reason } } }',
      { input: { sizeBytes: second.length, identityId: seeded.adminIdentityId } },
    );
    // A preview knows only the size: by it, the secondaries are full.
    expect(preview.previewScheme.secondaries).toEqual([]);
    const jobId = await backUpAndWait(env.apiUrl, seeded.apiKey, 'disk', second);
    const job = await tenantDb(env.db, seeded.tenant.id).backupJob.findFirstOrThrow({
      where: { id: jobId },
      include: { replicas: true },
    });
    expect(job.replicas.map((replica) => replica.status)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
    const afterSecond = await spaceFigures(env, seeded);
    for (const [index, space] of afterSecond.entries()) {
      expect(space.reserved).toBe(0);
      expect(space.used).toBe(space.chunkBytes);
      const grown = space.used - (afterFirst[index]?.used ?? 0);
      expect(grown).toBeGreaterThan(0);
      expect(grown).toBeLessThanOrEqual(0.3 * second.length);
    }
  }, 300_000);
});
