import { rm } from 'node:fs/promises';
import { createDb, type Db, type SeededTenant, seedTenant } from '@echelon/db';
import { chmod, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './processes.js';
import { type RunningStack, type StackOptions, startStack } from './stack.js';

/** A temp directory the postgres system user can enter. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await chmod(dir, 0o755);
  return dir;
}

export interface TestStack {
  stack: RunningStack;
  db: Db;
  dataDir: string;
  apiUrl: string;
  webUrl: string | undefined;
  /** Every line the stack's processes have printed so far: the server log. */
  logLines: readonly string[];
  stop(): Promise<void>;
}

/**
 * The real stack on free ports in a fresh directory: embedded PostgreSQL, the Temporal CLI dev server, the
 * worker and the API as child processes. Nothing is faked; if the Temporal CLI cannot be found this throws.
 * Tenants may register FILESYSTEM storage under `<dataDir>/storage` (the platform's default root) and S3 storage
 * on 127.0.0.1, where the tests' S3 server (`startS3Server`) listens; `env` overrides either.
 */
export async function startTestStack(
  options: { web?: StackOptions['web']; env?: Record<string, string> } = {},
): Promise<TestStack> {
  const dataDir = await tempDir('echelon-it-');
  const lines: string[] = [];
  const stack = await startStack({
    env: {
      ECHELON_DATA_DIR: dataDir,
      ECHELON_API_PORT: String(await freePort()),
      ECHELON_PG_PORT: String(await freePort()),
      ECHELON_TEMPORAL_PORT: String(await freePort()),
      ECHELON_TEMPORAL_UI_PORT: String(await freePort()),
      ECHELON_WEB_PORT: String(await freePort()),
      DATABASE_URL: undefined,
      TEMPORAL_ADDRESS: undefined,
      ECHELON_S3_PRIVATE_ENDPOINTS: '127.0.0.1',
      ...options.env,
    },
    web: options.web ?? false,
    log: (line) => {
      lines.push(line);
      if (process.env.ECHELON_TEST_VERBOSE) console.log(line);
    },
  }).catch(async (error: unknown) => {
    console.error(lines.slice(-60).join('\n'));
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  });
  const db = createDb(stack.databaseUrl, { max: 4 });
  return {
    stack,
    db,
    dataDir,
    apiUrl: `http://127.0.0.1:${stack.config.apiPort}`,
    webUrl: stack.webUrl,
    logLines: lines,
    async stop() {
      await db.$disconnect();
      await stack.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A job's rows written straight into the database (dataset, version, job, replicas), for tests that need many rows
 * or a given state without running backups. Every replica is on `storageSystemId`, orders from `firstOrder` on.
 */
export async function insertJobRows(
  db: Db,
  seeded: SeededTenant,
  options: {
    datasetKey: string;
    sizeBytes: number;
    jobStatus: 'RUNNING' | 'COMPLETED';
    storageSystemId: string;
    replicas: { count: number; firstOrder: number; role: 'PRIMARY' | 'SECONDARY'; status: 'PLANNED' | 'COMPLETED' };
  },
): Promise<{ jobId: string; replicaIds: string[] }> {
  const { replicas } = options;
  const rows = await db.$queryRawUnsafe<{ id: string; job_id: string }[]>(
    `WITH dataset AS (
        INSERT INTO datasets (tenant_id, identity_id, key) VALUES ($1::uuid, $2::uuid, $3) RETURNING id
      ), version AS (
        INSERT INTO dataset_versions (tenant_id, dataset_id, number, size_bytes, sha256)
        SELECT $1::uuid, id, 1, $4, repeat('a', 64) FROM dataset RETURNING id
      ), job AS (
        INSERT INTO backup_jobs (tenant_id, identity_id, dataset_version_id, template_version_id, scheme, workflow_id, status)
        SELECT $1::uuid, $2::uuid, id, $5::uuid, '{}'::jsonb, 'rows-' || id, $6::"BackupJobStatus" FROM version RETURNING id
      )
      INSERT INTO replicas (tenant_id, job_id, role, "order", storage_system_id, bytes_total, status)
      SELECT $1::uuid, job.id, $7::"ReplicaRole", n, $8::uuid, $4, $9::"ReplicaStatus"
        FROM job, generate_series($10::int, $10::int + $11::int - 1) AS n
      RETURNING id::text, job_id::text`,
    seeded.tenant.id,
    seeded.adminIdentityId,
    options.datasetKey,
    BigInt(options.sizeBytes),
    seeded.template.id,
    options.jobStatus,
    replicas.role,
    options.storageSystemId,
    replicas.status,
    replicas.firstOrder,
    replicas.count,
  );
  const jobId = rows[0]?.job_id;
  if (jobId === undefined) throw new Error('no rows were inserted');
  return { jobId, replicaIds: rows.map((row) => row.id) };
}

/**
 * A tenant of its own in a test stack: two FILESYSTEM systems of 64 MiB under the stack's data directory and a
 * default template of two copies without delay.
 */
export function seedTwoCopyTenant(env: TestStack, slug: string): Promise<SeededTenant> {
  return seedTenant(env.db, {
    slug: `${slug}-${Date.now()}`,
    name: slug,
    storageRoot: path.join(env.dataDir, slug),
    storage: [
      { name: 'primary', spaces: [{ name: 'main', capacityBytes: 64 * 1024 * 1024 }] },
      { name: 'second', spaces: [{ name: 'main', capacityBytes: 64 * 1024 * 1024 }] },
    ],
    copies: 2,
    delaySeconds: 0,
  });
}
