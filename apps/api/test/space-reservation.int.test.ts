import path from 'node:path';
import { reserveSpace, seedTenant, type SeededTenant } from '@echelon/db';
import { isDomainError } from '@echelon/domain';
import { insertJobRows, startTestStack, type TestStack } from '@echelon/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPLICAS = 20;
const BYTES = 1000;

describe('space reservation under concurrency (real PostgreSQL)', () => {
  let env: TestStack;
  let tenant: SeededTenant;
  let replicaIds: string[];

  /** A tenant with one storage system of the given spaces, and a job of `count` PLANNED secondaries of BYTES on it. */
  async function tenantWithReplicas(name: string, spaces: { name: string; capacityBytes: number }[], count: number) {
    const seeded = await seedTenant(env.db, {
      slug: `${name}-${Date.now()}`,
      name,
      storageRoot: path.join(env.dataDir, name),
      storage: [{ name: 'only', spaces }],
    });
    const { replicaIds: ids } = await insertJobRows(env.db, seeded, {
      datasetKey: name,
      sizeBytes: BYTES,
      jobStatus: 'RUNNING',
      storageSystemId: seeded.storageSystems[0]?.id ?? '',
      replicas: { count, firstOrder: 1, role: 'SECONDARY', status: 'PLANNED' },
    });
    return { seeded, replicaIds: ids };
  }

  beforeAll(async () => {
    env = await startTestStack();
    ({ seeded: tenant, replicaIds } = await tenantWithReplicas(
      'reserve',
      [
        { name: 'big', capacityBytes: 10 * BYTES },
        { name: 'small', capacityBytes: 6 * BYTES },
      ],
      REPLICAS,
    ));
  }, 240_000);

  afterAll(async () => {
    await env?.stop();
  }, 60_000);

  it('never charges a space beyond its capacity, and refuses the rest with INSUFFICIENT_CAPACITY', async () => {
    const outcomes = await Promise.all(
      replicaIds.map((id) =>
        reserveSpace(env.db, tenant.tenant.id, id).then(
          (replica) => ({ ok: true as const, spaceId: replica.spaceId }),
          (error: unknown) => ({ ok: false as const, code: isDomainError(error) ? error.code : String(error) }),
        ),
      ),
    );
    const spaces = await env.db.backupSpace.findMany({ where: { tenantId: tenant.tenant.id } });
    const byName = new Map(spaces.map((space) => [space.name, space]));
    // 16 replicas fit (10 in the big space, 6 in the small one); the other 4 are refused, not over-booked.
    expect(outcomes.filter((outcome) => outcome.ok)).toHaveLength(16);
    expect(outcomes.filter((outcome) => !outcome.ok).map((outcome) => (outcome.ok ? '' : outcome.code))).toEqual(
      Array(4).fill('INSUFFICIENT_CAPACITY'),
    );
    expect(byName.get('big')?.usedBytes).toBe(BigInt(10 * BYTES));
    expect(byName.get('small')?.usedBytes).toBe(BigInt(6 * BYTES));
    // What the spaces were charged is exactly what the replicas hold.
    const replicas = await env.db.replica.findMany({ where: { id: { in: replicaIds } } });
    for (const space of spaces) {
      const held = replicas
        .filter((replica) => replica.spaceId === space.id)
        .reduce((sum, replica) => sum + replica.reservedBytes, 0n);
      expect(held).toBe(space.usedBytes);
    }
    // Reserving again (an activity retry) charges nothing more.
    const reserved = replicas.find((replica) => replica.spaceId !== null);
    if (reserved === undefined) throw new Error('nothing reserved');
    expect((await reserveSpace(env.db, tenant.tenant.id, reserved.id)).spaceId).toBe(reserved.spaceId);
    const after = await env.db.backupSpace.findMany({ where: { tenantId: tenant.tenant.id } });
    expect(after.reduce((sum, space) => sum + space.usedBytes, 0n)).toBe(BigInt(16 * BYTES));
  });

  it('charges the space with the most room first', async () => {
    const {
      seeded: fresh,
      replicaIds: [only],
    } = await tenantWithReplicas(
      'reserve-order',
      [
        { name: 'small', capacityBytes: 3 * BYTES },
        { name: 'big', capacityBytes: 5 * BYTES },
      ],
      1,
    );
    if (only === undefined) throw new Error('no replica');
    const replica = await reserveSpace(env.db, fresh.tenant.id, only);
    const big = await env.db.backupSpace.findFirstOrThrow({ where: { tenantId: fresh.tenant.id, name: 'big' } });
    expect(replica.spaceId).toBe(big.id);
    expect(replica.reservedBytes).toBe(BigInt(BYTES));
  });
});
