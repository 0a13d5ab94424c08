import { APP_ROLE, createDb, type Db, scopedDb, type SeededTenant, tenantDb } from '@echelon/db';
import {
  backUpAndWait,
  gqlOk,
  gqlUntil,
  randomData,
  seedTwoCopyTenant,
  startTestStack,
  type TestStack,
} from '@echelon/stack';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Row-level security, the second wall between tenants: the API and the worker connect as the application's role,
 * every tenant-owned table has a policy, and a statement that forgets its tenant filter still sees only the
 * tenant its transaction named (or nothing, when it named none). Checked against the real database with the
 * role the processes use, and through the scoped Prisma client they use.
 */

describe('row-level security (real stack, the application role)', () => {
  let env: TestStack;
  let a: SeededTenant;
  let b: SeededTenant;
  let app: pg.Client;
  let appDb: Db;
  /** Tables with a tenant_id column, read from the catalogue, so a table added later is covered too. */
  let tenantTables: string[];

  const ownerCount = async (table: string, tenantId?: string): Promise<number> => {
    const [row] = await env.db.$queryRawUnsafe<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM ${table}${tenantId === undefined ? '' : ' WHERE tenant_id = $1::uuid'}`,
      ...(tenantId === undefined ? [] : [tenantId]),
    );
    return row?.n ?? 0;
  };

  /** Runs `work` on the application role's connection in a transaction that names `tenantId` (or nothing). */
  const asApp = async <T>(tenantId: string | null, work: () => Promise<T>): Promise<T> => {
    await app.query('BEGIN');
    try {
      if (tenantId !== null) await app.query("SELECT set_config('echelon.tenant_id', $1, true)", [tenantId]);
      return await work();
    } finally {
      await app.query('ROLLBACK');
    }
  };

  /** The SQLSTATE of a failed statement, run in its own transaction on the application role's connection. */
  const failure = (tenantId: string | null, sql: string, values: unknown[] = []) =>
    asApp(tenantId, () => app.query(sql, values)).then(
      () => 'no error',
      (error: { code?: string }) => error.code,
    );

  beforeAll(async () => {
    env = await startTestStack();
    a = await seedTwoCopyTenant(env, 'rls-a');
    b = await seedTwoCopyTenant(env, 'rls-b');
    // A real backup (a tus upload: chunks indexed in the intake space, the upload's chunk list), a legal hold, a
    // restore and a console sign-in in each tenant, through the API and the worker: every tenant-owned table gets
    // rows, written by the processes under the application role.
    const consoleOrigin = `${new URL(env.apiUrl).protocol}//${new URL(env.apiUrl).hostname}:3999`;
    for (const tenant of [a, b]) {
      const signIn = await fetch(`${env.apiUrl}/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: consoleOrigin },
        body: JSON.stringify({ apiKey: tenant.apiKey }),
      });
      expect(signIn.status).toBe(201);
      await backUpAndWait(env.apiUrl, tenant.apiKey, 'rls/data', randomData(256 * 1024));
      await gqlOk(
        env.apiUrl,
        tenant.apiKey,
        'mutation { placeLegalHold(datasetKey: "rls/data", version: 1, reason: "row security") { version } }',
      );
      const { requestRestore } = await gqlOk<{ requestRestore: { id: string } }>(
        env.apiUrl,
        tenant.apiKey,
        'mutation($input: RequestRestoreInput!) { requestRestore(input: $input) { id } }',
        { input: { datasetKey: 'rls/data' } },
      );
      await gqlUntil<{ restoreJob: { status: string } }>(
        env.apiUrl,
        tenant.apiKey,
        'query($id: ID!) { restoreJob(id: $id) { status } }',
        { id: requestRestore.id },
        ({ restoreJob }) => restoreJob.status === 'COMPLETED',
        { what: 'the restore completing' },
      );
    }
    app = new pg.Client({ connectionString: env.stack.appDatabaseUrl });
    await app.connect();
    appDb = createDb(env.stack.appDatabaseUrl, { max: 2 });
    tenantTables = (
      await env.db.$queryRaw<{ table_name: string }[]>`
        SELECT table_name FROM information_schema.columns
        WHERE table_schema = 'public' AND column_name = 'tenant_id' ORDER BY table_name`
    ).map((row) => row.table_name);
  }, 240_000);

  afterAll(async () => {
    await app?.end();
    await appDb?.$disconnect();
    await env?.stop();
  });

  it('runs the API and the worker as the application role, which is no superuser and owns nothing', async () => {
    const sessions = await env.db.$queryRaw<{ application_name: string; usename: string }[]>`
      SELECT DISTINCT application_name, usename::text FROM pg_stat_activity
      WHERE datname = current_database() AND application_name IN ('echelon-api', 'echelon-worker')`;
    expect(sessions.map((session) => session.application_name).sort()).toEqual(['echelon-api', 'echelon-worker']);
    expect(new Set(sessions.map((session) => session.usename))).toEqual(new Set([APP_ROLE]));
    expect(env.stack.childEnv.DATABASE_URL).toBe(env.stack.appDatabaseUrl);
    expect(new URL(env.stack.appDatabaseUrl).username).toBe(APP_ROLE);

    const [role] = await env.db.$queryRaw<{ rolsuper: boolean; rolbypassrls: boolean; owned: number }[]>`
      SELECT rolsuper, rolbypassrls,
             (SELECT count(*)::int FROM pg_class c WHERE c.relowner = r.oid) AS owned
      FROM pg_roles r WHERE rolname = ${APP_ROLE}`;
    expect(role).toEqual({ rolsuper: false, rolbypassrls: false, owned: 0 });
  });

  it('has a policy on every table that holds tenant rows, and on the tenants table', async () => {
    expect(tenantTables).toEqual(
      expect.arrayContaining([
        'backup_jobs',
        'replica_events',
        'audit_entries',
        'stored_chunks',
        'upload_chunks',
        'sessions',
      ]),
    );
    const rows = await env.db.$queryRaw<{ relname: string; rls: boolean; policies: number }[]>`
      SELECT c.relname::text, c.relrowsecurity AS rls,
             (SELECT count(*)::int FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind = 'r'`;
    const byName = new Map(rows.map((row) => [row.relname, row]));
    for (const table of [...tenantTables, 'tenants']) {
      expect({ table, rls: byName.get(table)?.rls, policy: (byName.get(table)?.policies ?? 0) > 0 }).toEqual({
        table,
        rls: true,
        policy: true,
      });
    }
    // The migrations' bookkeeping is the owner's alone.
    expect(await failure(null, 'SELECT count(*) FROM _prisma_migrations')).toBe('42501');
  });

  it('shows a transaction that names no tenant no tenant row at all', async () => {
    for (const table of [...tenantTables, 'tenants']) {
      expect(await ownerCount(table), `the owner sees rows in ${table}`).toBeGreaterThan(0);
      const { rows } = await asApp(null, () => app.query(`SELECT count(*)::int AS n FROM ${table}`));
      expect({ table, rows: rows[0].n }).toEqual({ table, rows: 0 });
    }
  });

  it("shows a transaction that names tenant A exactly A's rows, whatever the statement forgets", async () => {
    for (const table of tenantTables) {
      const expected = await ownerCount(table, a.tenant.id);
      const { rows } = await asApp(a.tenant.id, () =>
        app.query(
          `SELECT count(*)::int AS n, count(*) FILTER (WHERE tenant_id <> $1::uuid)::int AS foreign FROM ${table}`,
          [a.tenant.id],
        ),
      );
      expect({ table, ...rows[0] }).toEqual({ table, n: expected, foreign: 0 });
    }
    const { rows: tenants } = await asApp(a.tenant.id, () => app.query('SELECT id FROM tenants'));
    expect(tenants).toEqual([{ id: a.tenant.id }]);
  });

  it("refuses to write B's rows from a transaction that names A, and changes none of them", async () => {
    const [bJob] = await env.db.backupJob.findMany({ where: { tenantId: b.tenant.id } });
    expect(bJob).toBeDefined();
    // Inserting a row for B: the policy's check refuses it.
    expect(
      await failure(
        a.tenant.id,
        "INSERT INTO identities (tenant_id, external_id, display_name, roles) VALUES ($1::uuid, 'intruder', 'x', '{MEMBER}')",
        [b.tenant.id],
      ),
    ).toBe('42501');
    // Updating or deleting B's rows: they are not there for A.
    const updated = await asApp(a.tenant.id, () =>
      app.query("UPDATE backup_jobs SET status = 'FAILED' WHERE id = $1::uuid", [bJob?.id]),
    );
    expect(updated.rowCount).toBe(0);
    const deleted = await asApp(a.tenant.id, () =>
      app.query('DELETE FROM storage_systems WHERE tenant_id = $1::uuid', [b.tenant.id]),
    );
    expect(deleted.rowCount).toBe(0);
    // Moving one of A's rows to B is refused too.
    const [aSystem] = a.storageSystems;
    expect(
      await failure(a.tenant.id, 'UPDATE storage_systems SET tenant_id = $1::uuid WHERE id = $2::uuid', [
        b.tenant.id,
        aSystem?.id,
      ]),
    ).toBe('42501');
    expect((await env.db.backupJob.findUnique({ where: { id: bJob?.id ?? '' } }))?.status).toBe('COMPLETED');
  });

  it('gives the application no UPDATE, DELETE or TRUNCATE on the history, even of its own tenant', async () => {
    for (const table of ['replica_events', 'audit_entries']) {
      expect(await failure(a.tenant.id, `UPDATE ${table} SET tenant_id = tenant_id`)).toBe('42501');
      expect(await failure(a.tenant.id, `DELETE FROM ${table}`)).toBe('42501');
      expect(await failure(a.tenant.id, `TRUNCATE ${table}`)).toBe('42501');
    }
    expect(await failure(a.tenant.id, "UPDATE chain_heads SET hash = repeat('0', 64)")).toBe('42501');
    // Appending still works, through the chain trigger that keeps the heads.
    const appended = await asApp(a.tenant.id, () =>
      app.query(
        `INSERT INTO audit_entries (tenant_id, actor, action, object_type, object_id)
         VALUES ($1::uuid, 'test', 'test.append', 'Test', 'x') RETURNING chain_seq`,
        [a.tenant.id],
      ),
    );
    expect(Number(appended.rows[0].chain_seq)).toBeGreaterThan(0);
  });

  it('confines the scoped Prisma client to its tenant, also in interactive transactions', async () => {
    const forgetful = (db: Db) => db.backupJob.findMany({ select: { tenantId: true } });
    const asA = tenantDb(appDb, a.tenant.id);
    const seen = await forgetful(asA);
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen.map((job) => job.tenantId))).toEqual(new Set([a.tenant.id]));
    expect(await forgetful(scopedDb(appDb, {}))).toEqual([]);
    expect(await forgetful(appDb)).toEqual([]);
    const inTransaction = await asA.$transaction(async (tx) => ({
      jobs: await tx.backupJob.findMany({ select: { tenantId: true } }),
      raw: await tx.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM backup_jobs`,
    }));
    expect(new Set(inTransaction.jobs.map((job) => job.tenantId))).toEqual(new Set([a.tenant.id]));
    expect(inTransaction.raw[0]?.n).toBe(seen.length);
    const [, batched] = await asA.$transaction([
      asA.tenant.findMany({ select: { id: true } }),
      asA.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM tenants`,
    ]);
    expect(batched[0]?.n).toBe(1);
    // Operations of different tenants at once, on one pool: each runs as its own tenant. findUnique calls of one
    // tick would be merged into one query by Prisma; each must still find its own tenant's row.
    const asB = tenantDb(appDb, b.tenant.id);
    const mixed = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        i % 2 === 0
          ? asA.tenant.findUnique({ where: { id: a.tenant.id } }).then((row) => ({ want: a.tenant.id, row }))
          : asB.tenant.findUnique({ where: { id: b.tenant.id } }).then((row) => ({ want: b.tenant.id, row })),
      ),
    );
    for (const { want, row } of mixed) expect(row?.id).toBe(want);
    // A compound unique selector works the same.
    const head = await asA.chainHead.findUnique({
      where: { tenantId_chain: { tenantId: a.tenant.id, chain: 'audit_entries' } },
    });
    expect(head?.tenantId).toBe(a.tenant.id);
    expect(
      await asA.chainHead.findUnique({ where: { tenantId_chain: { tenantId: b.tenant.id, chain: 'audit_entries' } } }),
    ).toBeNull();
    const lists = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? asA : asB).backupJob.findMany({ select: { tenantId: true } }),
      ),
    );
    lists.forEach((list, i) => {
      expect(list.length).toBeGreaterThan(0);
      expect(new Set(list.map((job) => job.tenantId))).toEqual(new Set([i % 2 === 0 ? a.tenant.id : b.tenant.id]));
    });
    // A tenant-scoped write with another tenant's id fails instead of landing.
    await expect(
      asA.identity.create({
        data: { tenantId: b.tenant.id, externalId: 'intruder', displayName: 'x', roles: ['MEMBER'] },
      }),
    ).rejects.toThrow(/row-level security|row level security/i);
    expect(await env.db.identity.count({ where: { externalId: 'intruder' } })).toBe(0);
  });
});
