import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '@echelon/config';
import { migrate } from '@echelon/db';
import { getDMMF } from '@prisma/internals';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, MIGRATIONS_DIR, startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../src/index.js';
import { mkdtemp, chmod } from 'node:fs/promises';

interface Column {
  table: string;
  column: string;
  nullable: boolean;
  isList: boolean;
  udtName: string;
}

type Dmmf = Awaited<ReturnType<typeof getDMMF>>;

/** What schema.prisma says the database holds, in the database's own names. */
function expectedFromSchema(dmmf: Dmmf) {
  const enums = new Map(
    dmmf.datamodel.enums.map((e) => [e.dbName ?? e.name, e.values.map((value) => value.dbName ?? value.name)]),
  );
  const columns: Column[] = [];
  for (const model of dmmf.datamodel.models) {
    const table = model.dbName ?? model.name;
    for (const field of model.fields) {
      if (field.kind === 'object') continue;
      columns.push({
        table,
        column: field.dbName ?? field.name,
        // Prisma creates list columns without NOT NULL; scalar nullability follows `?`.
        nullable: field.isList ? true : !field.isRequired,
        isList: field.isList,
        udtName: field.kind === 'enum' ? field.type : field.type,
      });
    }
  }
  return { enums, columns, tables: new Set(columns.map((column) => column.table)) };
}

async function actualFromDatabase(client: pg.Client) {
  const tables = await client.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations'`,
  );
  const columns = await client.query<{
    table_name: string;
    column_name: string;
    is_nullable: string;
    data_type: string;
    udt_name: string;
  }>(
    `SELECT table_name, column_name, is_nullable, data_type, udt_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`,
  );
  const enums = await client.query<{ typname: string; labels: string[] }>(
    `SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[] AS labels
       FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = 'public' GROUP BY t.typname`,
  );
  return {
    tables: new Set(tables.rows.map((row) => row.table_name)),
    columns: columns.rows.map((row) => ({
      table: row.table_name,
      column: row.column_name,
      nullable: row.is_nullable === 'YES',
      isList: row.data_type === 'ARRAY',
      udtName: row.udt_name,
    })),
    enums: new Map(enums.rows.map((row) => [row.typname, row.labels])),
  };
}

/** Every difference between the two descriptions, in words; empty when they agree. */
export function diffSchemas(
  expected: ReturnType<typeof expectedFromSchema>,
  actual: Awaited<ReturnType<typeof actualFromDatabase>>,
): string[] {
  const problems: string[] = [];
  for (const table of expected.tables)
    if (!actual.tables.has(table)) problems.push(`table ${table} is in schema.prisma but not in the database`);
  for (const table of actual.tables)
    if (!expected.tables.has(table)) problems.push(`table ${table} is in the database but not in schema.prisma`);
  const key = (column: { table: string; column: string }) => `${column.table}.${column.column}`;
  const actualColumns = new Map(actual.columns.map((column) => [key(column), column]));
  const expectedColumns = new Map(expected.columns.map((column) => [key(column), column]));
  for (const [name, column] of expectedColumns) {
    const found = actualColumns.get(name);
    if (found === undefined) {
      problems.push(`column ${name} is in schema.prisma but not in the database`);
      continue;
    }
    if (found.nullable !== column.nullable)
      problems.push(`column ${name}: nullable ${found.nullable} in the database, ${column.nullable} in schema.prisma`);
    if (found.isList !== column.isList)
      problems.push(`column ${name}: list ${found.isList} in the database, ${column.isList} in schema.prisma`);
    const enumValues = expected.enums.get(column.udtName);
    if (enumValues !== undefined && found.udtName.replace(/^_/, '') !== column.udtName) {
      problems.push(`column ${name}: type ${found.udtName} in the database, enum ${column.udtName} in schema.prisma`);
    }
  }
  for (const name of actualColumns.keys())
    if (!expectedColumns.has(name)) problems.push(`column ${name} is in the database but not in schema.prisma`);
  for (const [name, values] of expected.enums) {
    const found = actual.enums.get(name);
    if (found === undefined) problems.push(`enum ${name} is in schema.prisma but not in the database`);
    else if (found.join(',') !== values.join(','))
      problems.push(`enum ${name}: [${found.join(', ')}] in the database, [${values.join(', ')}] in schema.prisma`);
  }
  for (const name of actual.enums.keys())
    if (!expected.enums.has(name)) problems.push(`enum ${name} is in the database but not in schema.prisma`);
  return problems;
}

describe('schema.prisma and the migrated database agree', () => {
  let server: EmbeddedPostgresHandle;
  let dataDir: string;
  let client: pg.Client;
  let expected: ReturnType<typeof expectedFromSchema>;
  let actual: Awaited<ReturnType<typeof actualFromDatabase>>;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'echelon-drift-'));
    await chmod(dataDir, 0o755);
    server = await startEmbeddedPostgres({
      dataDir: path.join(dataDir, 'pg'),
      port: await freePort(),
      log: () => undefined,
    });
    const first = await migrate(server.databaseUrl, MIGRATIONS_DIR);
    expect(first.applied.length).toBeGreaterThan(0);
    client = new pg.Client({ connectionString: server.databaseUrl });
    await client.connect();
    const datamodel = await readFile(path.join(REPO_ROOT, 'prisma', 'schema.prisma'), 'utf8');
    expected = expectedFromSchema(await getDMMF({ datamodel }));
    actual = await actualFromDatabase(client);
  }, 120_000);

  afterAll(async () => {
    await client?.end();
    await server?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('has every table, column, nullability, list and enum value on both sides', () => {
    expect(expected.tables.size).toBeGreaterThan(10);
    expect(diffSchemas(expected, actual)).toEqual([]);
  });

  it('detects a column or enum value missing on either side', () => {
    const withoutColumn = {
      ...actual,
      columns: actual.columns.filter((column) => !(column.table === 'replicas' && column.column === 'checksum')),
    };
    expect(diffSchemas(expected, withoutColumn)).toContain(
      'column replicas.checksum is in schema.prisma but not in the database',
    );
    const extraColumn = {
      ...actual,
      columns: [
        ...actual.columns,
        { table: 'replicas', column: 'extra', nullable: true, isList: false, udtName: 'text' },
      ],
    };
    expect(diffSchemas(expected, extraColumn)).toContain(
      'column replicas.extra is in the database but not in schema.prisma',
    );
    const enums = new Map(actual.enums);
    enums.set('ReplicaStatus', ['PLANNED']);
    expect(diffSchemas(expected, { ...actual, enums }).join('\n')).toMatch(/enum ReplicaStatus/);
    const nullability = {
      ...actual,
      columns: actual.columns.map((column) =>
        column.table === 'backup_jobs' && column.column === 'workflow_id' ? { ...column, nullable: true } : column,
      ),
    };
    expect(diffSchemas(expected, nullability)).toContain(
      'column backup_jobs.workflow_id: nullable true in the database, false in schema.prisma',
    );
  });

  it('records migrations in _prisma_migrations and applies nothing twice', async () => {
    const rows = await client.query<{ migration_name: string; finished_at: Date | null; checksum: string }>(
      'SELECT migration_name, finished_at, checksum FROM _prisma_migrations',
    );
    expect(rows.rows.every((row) => row.finished_at !== null && /^[0-9a-f]{64}$/.test(row.checksum))).toBe(true);
    const again = await migrate(server.databaseUrl, MIGRATIONS_DIR);
    expect(again.applied).toEqual([]);
  });
});
