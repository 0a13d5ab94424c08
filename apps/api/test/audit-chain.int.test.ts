import path from 'node:path';
import { seedTenant, type SeededTenant } from '@echelon/db';
import { gql, gqlOk, randomData, startTestStack, type TestStack, uploadBytes } from '@echelon/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Report {
  ok: boolean;
  checkedEvents: number;
  checkedAuditEntries: number;
  firstBrokenLink: BrokenLink | null;
  brokenLinks: BrokenLink[];
  brokenLinkCount: number;
}

interface BrokenLink {
  chain: string;
  sequence: number;
  rowId: string;
  reason: string;
}

const VERIFY = `{ verifyAuditChain { ok checkedEvents checkedAuditEntries
  firstBrokenLink { chain sequence rowId reason } brokenLinks { chain sequence rowId reason } brokenLinkCount } }`;

describe('tamper-evident history (real PostgreSQL)', () => {
  let env: TestStack;
  let counter = 0;
  beforeAll(async () => {
    // A thousand verifications in a minute are this suite's point, not an abuse to limit.
    env = await startTestStack({ env: { ECHELON_EXPENSIVE_PER_MINUTE: '100000' } });
  }, 240_000);
  afterAll(async () => {
    await env?.stop();
  }, 60_000);

  /** A tenant with a finished backup (replica events) and a few admin changes (audit entries). */
  async function tenantWithHistory(): Promise<SeededTenant> {
    const index = counter++;
    const seeded = await seedTenant(env.db, {
      slug: `chain-${Date.now()}-${index}`,
      name: 'Chain',
      storageRoot: path.join(env.dataDir, `chain-${index}`),
      delaySeconds: 0,
      copies: 2,
      storage: [
        { name: 'a', spaces: [{ name: 's', capacityBytes: 1024 ** 3 }] },
        { name: 'b', spaces: [{ name: 's', capacityBytes: 1024 ** 3 }] },
      ],
    });
    for (const externalId of ['one', 'two', 'three']) {
      await gqlOk(
        env.apiUrl,
        seeded.apiKey,
        'mutation($input: CreateIdentityInput!) { createIdentity(input: $input) { id } }',
        {
          input: { externalId, displayName: externalId, roles: ['AUDITOR'] },
        },
      );
    }
    const uploadId = await uploadBytes(env.apiUrl, seeded.apiKey, randomData(64 * 1024));
    const { requestBackup } = await gqlOk<{ requestBackup: { id: string } }>(
      env.apiUrl,
      seeded.apiKey,
      'mutation($input: RequestBackupInput!) { requestBackup(input: $input) { id } }',
      { input: { datasetKey: 'chain/data', uploadId } },
    );
    const deadline = Date.now() + 60_000;
    while ((await env.db.backupJob.findUniqueOrThrow({ where: { id: requestBackup.id } })).status !== 'COMPLETED') {
      if (Date.now() > deadline) throw new Error('the backup did not complete');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return seeded;
  }

  const verify = async (seeded: SeededTenant) =>
    (await gqlOk<{ verifyAuditChain: Report }>(env.apiUrl, seeded.apiKey, VERIFY)).verifyAuditChain;

  /** What an attacker with the database owner's rights can do: switch the append-only triggers off. */
  async function tamper(sql: string): Promise<void> {
    await env.db.$transaction(async (tx) => {
      await tx.$executeRawUnsafe('SET LOCAL session_replication_role = replica');
      await tx.$executeRawUnsafe(sql);
    });
  }

  it('links every event and audit entry, and refuses UPDATE and DELETE to every role', async () => {
    const seeded = await tenantWithHistory();
    const report = await verify(seeded);
    expect(report.ok).toBe(true);
    expect(report.firstBrokenLink).toBeNull();
    expect(report.checkedEvents).toBe(await env.db.replicaEvent.count({ where: { tenantId: seeded.tenant.id } }));
    expect(report.checkedAuditEntries).toBe(await env.db.auditEntry.count({ where: { tenantId: seeded.tenant.id } }));
    expect(report.checkedEvents).toBeGreaterThan(6);
    // The seed's own seven changes (tenant, admin, key, two storage systems, template, assignment), then the
    // three identities created through the API.
    expect(report.checkedAuditEntries).toBe(10);
    expect(await env.db.auditEntry.count({ where: { tenantId: seeded.tenant.id, actor: 'seed' } })).toBe(7);

    await expect(
      env.db.$executeRawUnsafe(`UPDATE replica_events SET message = 'x' WHERE tenant_id = '${seeded.tenant.id}'`),
    ).rejects.toThrow(/append-only/);
    await expect(
      env.db.$executeRawUnsafe(`DELETE FROM audit_entries WHERE tenant_id = '${seeded.tenant.id}'`),
    ).rejects.toThrow(/append-only/);
    await expect(env.db.$executeRawUnsafe('TRUNCATE replica_events CASCADE')).rejects.toThrow(/append-only/);

    // A MEMBER may not verify; an AUDITOR may.
    const member = await gql(env.apiUrl, undefined, VERIFY);
    expect(member.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('detects an altered row', async () => {
    const seeded = await tenantWithHistory();
    const victim = await env.db.replicaEvent.findFirstOrThrow({ where: { tenantId: seeded.tenant.id, chainSeq: 4n } });
    await tamper(`UPDATE replica_events SET bytes_copied = bytes_copied + 1 WHERE id = ${victim.id}`);
    const report = await verify(seeded);
    expect(report.ok).toBe(false);
    expect(report.firstBrokenLink).toEqual({
      chain: 'replica_events',
      sequence: 4,
      rowId: victim.id.toString(),
      reason: 'the row was changed after it was written',
    });
  });

  it('detects a deleted row, in the middle and at the end', async () => {
    const seeded = await tenantWithHistory();
    const middle = await env.db.auditEntry.findFirstOrThrow({ where: { tenantId: seeded.tenant.id, chainSeq: 2n } });
    await tamper(`DELETE FROM audit_entries WHERE id = ${middle.id}`);
    const report = await verify(seeded);
    expect(report.firstBrokenLink).toMatchObject({
      chain: 'audit_entries',
      sequence: 3,
      reason: 'rows 2…2 are missing',
    });

    const other = await tenantWithHistory();
    const last = await env.db.replicaEvent.findFirstOrThrow({
      where: { tenantId: other.tenant.id },
      orderBy: { chainSeq: 'desc' },
    });
    await tamper(`DELETE FROM replica_events WHERE id = ${last.id}`);
    expect((await verify(other)).firstBrokenLink?.reason).toMatch(/rows are missing at the end/);
  });

  it('detects reordered rows, and a forged row that copies its neighbour’s link', async () => {
    const seeded = await tenantWithHistory();
    const [a, b] = await env.db.replicaEvent.findMany({
      where: { tenantId: seeded.tenant.id, chainSeq: { in: [2n, 3n] } },
      orderBy: { chainSeq: 'asc' },
    });
    if (a === undefined || b === undefined) throw new Error('expected two events');
    await tamper(
      `UPDATE replica_events SET chain_seq = CASE id WHEN ${a.id} THEN 3 ELSE 2 END WHERE id IN (${a.id}, ${b.id})`,
    );
    expect((await verify(seeded)).firstBrokenLink).toMatchObject({ chain: 'replica_events', sequence: 2 });

    const other = await tenantWithHistory();
    const row = await env.db.replicaEvent.findFirstOrThrow({ where: { tenantId: other.tenant.id, chainSeq: 5n } });
    // Recompute the row's own hash after forging it: the next row no longer links to it.
    await tamper(`UPDATE replica_events SET message = 'forged' WHERE id = ${row.id}`);
    await tamper(
      `UPDATE replica_events SET row_hash = chain_hash(prev_hash, replica_event_payload(replica_events)) WHERE id = ${row.id}`,
    );
    expect((await verify(other)).firstBrokenLink).toMatchObject({
      chain: 'replica_events',
      sequence: 6,
      reason: 'the row does not link to the previous row',
    });
    // Another tenant's chain is untouched by all of this.
    const clean = await tenantWithHistory();
    expect((await verify(clean)).ok).toBe(true);
  });

  it('reports every break in both chains, so a changed audit entry does not hide behind a broken event', async () => {
    const seeded = await tenantWithHistory();
    const events = await env.db.replicaEvent.findMany({
      where: { tenantId: seeded.tenant.id, chainSeq: { in: [2n, 5n] } },
      orderBy: { chainSeq: 'asc' },
    });
    const audit = await env.db.auditEntry.findFirstOrThrow({ where: { tenantId: seeded.tenant.id, chainSeq: 3n } });
    const [changed, deleted] = events;
    if (changed === undefined || deleted === undefined) throw new Error('expected two events');
    await tamper(`UPDATE replica_events SET message = 'rewritten' WHERE id = ${changed.id}`);
    await tamper(`DELETE FROM replica_events WHERE id = ${deleted.id}`);
    await tamper(`UPDATE audit_entries SET actor = 'rewritten' WHERE id = ${audit.id}`);
    const report = await verify(seeded);
    expect(report.ok).toBe(false);
    expect(report.brokenLinks).toEqual([
      {
        chain: 'replica_events',
        sequence: 2,
        rowId: changed.id.toString(),
        reason: 'the row was changed after it was written',
      },
      { chain: 'replica_events', sequence: 6, rowId: expect.any(String), reason: 'rows 5…5 are missing' },
      {
        chain: 'audit_entries',
        sequence: 3,
        rowId: audit.id.toString(),
        reason: 'the row was changed after it was written',
      },
    ]);
    expect(report.brokenLinkCount).toBe(3);
    expect(report.firstBrokenLink).toEqual(report.brokenLinks[0]);
  });

  it('raises no false alarm in 1,000 verifications while jobs and admin changes write both chains', async () => {
    const seeded = await tenantWithHistory();
    let writing = true;
    let backups = 0;
    let changes = 0;
    // Writers: backups one after another (each a job whose events stream in), and admin changes (audit entries).
    const backupWriter = (async () => {
      while (writing) {
        const uploadId = await uploadBytes(env.apiUrl, seeded.apiKey, randomData(256 * 1024));
        const { requestBackup } = await gqlOk<{ requestBackup: { id: string } }>(
          env.apiUrl,
          seeded.apiKey,
          'mutation($input: RequestBackupInput!) { requestBackup(input: $input) { id } }',
          { input: { datasetKey: `busy/${backups}`, uploadId } },
        );
        backups += 1;
        while (writing) {
          const job = await env.db.backupJob.findUniqueOrThrow({ where: { id: requestBackup.id } });
          if (job.status === 'COMPLETED') break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    })();
    const adminWriter = (async () => {
      while (writing) {
        await gqlOk(
          env.apiUrl,
          seeded.apiKey,
          'mutation($input: CreateIdentityInput!) { createIdentity(input: $input) { id } }',
          { input: { externalId: `busy-${changes}`, displayName: 'busy', roles: ['AUDITOR'] } },
        );
        changes += 1;
      }
    })();
    const alarms: BrokenLink[] = [];
    let verified = 0;
    const verifier = async () => {
      while (verified < 1000) {
        verified += 1;
        const report = await verify(seeded);
        alarms.push(...report.brokenLinks);
      }
    };
    const before = await env.db.replicaEvent.count({ where: { tenantId: seeded.tenant.id } });
    try {
      await Promise.all(Array.from({ length: 8 }, verifier));
    } finally {
      writing = false;
      await Promise.all([backupWriter, adminWriter]);
    }
    const after = await env.db.replicaEvent.count({ where: { tenantId: seeded.tenant.id } });
    expect(alarms).toEqual([]);
    expect(verified).toBeGreaterThanOrEqual(1000);
    // The chains really grew while they were verified.
    expect(after - before).toBeGreaterThan(10);
    expect(changes).toBeGreaterThan(10);
    expect(backups).toBeGreaterThan(1);
    expect((await verify(seeded)).ok).toBe(true);
  });

  it('gives a tenant\'s rows ids in commit order, so "after id N" never skips a row that commits late', async () => {
    const seeded = await tenantWithHistory();
    const replica = await env.db.replica.findFirstOrThrow({ where: { tenantId: seeded.tenant.id } });
    // A test-only trigger that runs before the chain's (triggers fire in name order) and stalls one insert after
    // its column defaults were evaluated: the window in which an id drawn early could commit after a later one.
    await env.db.$executeRawUnsafe(`
      CREATE FUNCTION test_stall_insert() RETURNS trigger AS $$
      BEGIN IF NEW.message = 'stall' THEN PERFORM pg_sleep(1.5); END IF; RETURN NEW; END; $$ LANGUAGE plpgsql`);
    await env.db.$executeRawUnsafe(
      'CREATE TRIGGER replica_events_0_stall BEFORE INSERT ON replica_events FOR EACH ROW EXECUTE FUNCTION test_stall_insert()',
    );
    try {
      const insert = (message: string) =>
        env.db.$queryRawUnsafe<{ id: bigint; chain_seq: bigint }[]>(
          `INSERT INTO replica_events (tenant_id, job_id, replica_id, status, bytes_copied, message)
           VALUES ($1::uuid, $2::uuid, $3::uuid, 'COPYING', 1, $4) RETURNING id, chain_seq`,
          seeded.tenant.id,
          replica.jobId,
          replica.id,
          message,
        );
      // Prisma's promises are lazy: then() sends the statement now.
      const stalled = insert('stall').then((rows) => rows);
      await new Promise((resolve) => setTimeout(resolve, 400));
      const [quick] = await insert('quick');
      const [late] = await stalled;
      if (quick === undefined || late === undefined) throw new Error('no rows');
      // The stalled insert started first but committed last: its id must still be the larger one.
      expect(late.id).toBeGreaterThan(quick.id);
      expect(late.chain_seq).toBe(quick.chain_seq + 1n);
    } finally {
      await env.db.$executeRawUnsafe('DROP TRIGGER replica_events_0_stall ON replica_events');
      await env.db.$executeRawUnsafe('DROP FUNCTION test_stall_insert()');
    }
    expect((await verify(seeded)).ok).toBe(true);
  });
});
