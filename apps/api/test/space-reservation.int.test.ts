import path from 'node:path';
import { reserveSpace, seedTenant, type SeededTenant, setJobStatus, transitionReplica } from '@echelon/db';
import { isDomainError } from '@echelon/domain';
import { insertJobRows, startTestStack, type TestStack } from '@echelon/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPLICAS = 20;
const BYTES = 1000;

describe('space reservation and state changes (real PostgreSQL)', () => {
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
    const { replicaIds: ids, jobId } = await insertJobRows(env.db, seeded, {
      datasetKey: name,
      sizeBytes: BYTES,
      jobStatus: 'RUNNING',
      storageSystemId: seeded.storageSystems[0]?.id ?? '',
      replicas: { count, firstOrder: 1, role: 'SECONDARY', status: 'PLANNED' },
    });
    return { seeded, replicaIds: ids, jobId };
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

  it('returns a transitioned replica exactly as stored, and refuses illegal or unknown moves without writing', async () => {
    const {
      seeded: fresh,
      replicaIds: [first],
    } = await tenantWithReplicas('transition', [{ name: 'only', capacityBytes: 5 * BYTES }], 1);
    if (first === undefined) throw new Error('no replica');
    const tenantId = fresh.tenant.id;
    const scheduledAt = new Date(Date.now() + 5000);
    const events = () => env.db.replicaEvent.count({ where: { replicaId: first } });
    const before = await events();
    const moved = await transitionReplica(env.db, {
      tenantId,
      replicaId: first,
      to: 'WAITING',
      patch: { scheduledAt },
      message: 'waiting',
    });
    // Every field, with its type (bigints, dates, nulls), as a fresh read gives it.
    expect(moved).toStrictEqual(await env.db.replica.findFirstOrThrow({ where: { id: first } }));
    expect(moved.status).toBe('WAITING');
    expect(moved.scheduledAt).toEqual(scheduledAt);
    expect(await events()).toBe(before + 1);
    // WAITING -> COMPLETED skips the copy: the domain's rule is named, nothing is written.
    await expect(transitionReplica(env.db, { tenantId, replicaId: first, to: 'COMPLETED' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await expect(
      transitionReplica(env.db, { tenantId, replicaId: '00000000-0000-4000-8000-000000000000', to: 'WAITING' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await events()).toBe(before + 1);
    expect((await env.db.replica.findFirstOrThrow({ where: { id: first } })).status).toBe('WAITING');
  });

  it("moves a job by the domain's rules and keeps a repeated move a no-op", async () => {
    const { seeded: fresh, jobId } = await tenantWithReplicas(
      'job-status',
      [{ name: 'only', capacityBytes: BYTES }],
      1,
    );
    const tenantId = fresh.tenant.id;
    const done = await setJobStatus(env.db, tenantId, jobId, 'PARTIAL', 'a secondary failed');
    expect(done).toStrictEqual(await env.db.backupJob.findFirstOrThrow({ where: { id: jobId } }));
    expect(done.completedAt).not.toBeNull();
    // Repeated with the same status and reason (an activity retry): nothing changes.
    expect(await setJobStatus(env.db, tenantId, jobId, 'PARTIAL', 'a secondary failed')).toStrictEqual(done);
    // PARTIAL -> PENDING is not a move the domain allows.
    await expect(setJobStatus(env.db, tenantId, jobId, 'PENDING')).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await env.db.backupJob.findFirstOrThrow({ where: { id: jobId } })).toStrictEqual(done);
  });
});
