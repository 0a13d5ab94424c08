import { randomUUID } from 'node:crypto';
import {
  assertJobTransition,
  assertReplicaTransition,
  type BackupJobStatus,
  canTransitionReplica,
  DomainError,
  isUuid,
  jobOutcome,
  REPLICA_STATUSES,
  type ResolvedScheme,
  type StorageCapacity,
  workflowIdFor,
} from '@echelon/domain';
import { type Db, Prisma } from '../client.js';
import { modelOf } from '../rows.js';
import { type PolicyContext, policyContextColumns, policyContextFrom } from './policies.js';
import { bytesToWriteSql } from './chunks.js';
import { capacitiesColumn, capacitiesFrom } from './storage.js';
import type {
  BackupJob,
  Dataset,
  DatasetVersion,
  Identity,
  PolicyTemplateVersion,
  Replica,
  ReplicaEvent,
  ReplicaStatus,
  Upload,
} from '../generated/prisma/client.js';

// ── uploads ────────────────────────────────────────────────────────────────────────────────────────────

export async function recordUpload(
  db: Db,
  input: { id: string; tenantId: string; identityId: string; sizeBytes: number; stagingPath: string },
): Promise<Upload> {
  return db.upload.create({ data: { ...input, sizeBytes: BigInt(input.sizeBytes) } });
}

export async function completeUpload(db: Db, id: string, sha256: string): Promise<void> {
  await db.upload.update({ where: { id }, data: { sha256, completedAt: new Date() } });
}

/** An upload belongs to the identity that created it: for anyone else it does not exist. */
export async function findUpload(
  db: Db,
  owner: { tenantId: string; identityId: string },
  id: string,
): Promise<Upload | null> {
  return db.upload.findFirst({ where: { id, tenantId: owner.tenantId, identityId: owner.identityId } });
}

/** What requestBackup reads before it writes anything. */
export interface BackupIntake {
  /** The caller's upload and whether a dataset version already uses it; null when the caller has no such upload. */
  staged: { upload: Upload; used: boolean } | null;
  policies: PolicyContext;
  capacities: Map<string, StorageCapacity>;
}

/**
 * Everything requestBackup reads before it writes, in one statement: the caller's upload (another identity's is
 * not found) and whether it was backed up already, the tenant's policy context and every storage system's capacity.
 */
export async function readBackupIntake(
  db: Db,
  owner: { tenantId: string; identityId: string },
  uploadId: string,
): Promise<BackupIntake> {
  const [row] = await db.$queryRaw<{ staged: unknown; assignments: unknown; versions: unknown; capacities: unknown }[]>`
    SELECT (SELECT jsonb_build_object('upload', to_jsonb(u), 'used', EXISTS (
              SELECT 1 FROM dataset_versions v WHERE v.upload_id = u.id AND v.tenant_id = u.tenant_id))
              FROM uploads u
             WHERE u.id = ${uploadId} AND u.tenant_id = ${owner.tenantId}::uuid
               AND u.identity_id = ${owner.identityId}::uuid) AS staged,
           ${policyContextColumns(owner.tenantId)},
           ${capacitiesColumn(owner.tenantId, uploadId)}`;
  const staged = (typeof row?.staged === 'string' ? JSON.parse(row.staged) : row?.staged) as
    | { upload: unknown; used: boolean }
    | null
    | undefined;
  return {
    staged: staged ? { upload: modelOf<Upload>(staged.upload, UPLOAD_TYPES), used: staged.used } : null,
    policies: policyContextFrom(row),
    capacities: capacitiesFrom(row?.capacities ?? []),
  };
}

export interface AbandonedUpload {
  id: string;
  tenantId: string;
  stagingPath: string | null;
}

/** Uploads created before `cutoff` that no dataset version uses, in every tenant, oldest first. */
export async function abandonedUploads(db: Db, cutoff: Date, maxRows: number): Promise<AbandonedUpload[]> {
  const rows = await db.$queryRaw<{ id: string; tenant_id: string; staging_path: string | null }[]>`
    SELECT * FROM echelon_abandoned_uploads(${cutoff}, ${maxRows}::integer)`;
  return rows.map((row) => ({ id: row.id, tenantId: row.tenant_id, stagingPath: row.staging_path }));
}

/** For each id that an upload row has (in any tenant): whether a dataset version uses it. */
export async function stagedUploadStates(db: Db, ids: readonly string[]): Promise<Map<string, { used: boolean }>> {
  if (ids.length === 0) return new Map();
  const rows = await db.$queryRaw<{ id: string; used: boolean }[]>`
    SELECT * FROM echelon_staged_upload_states(${[...ids]}::text[])`;
  return new Map(rows.map((row) => [row.id, { used: row.used }]));
}

/**
 * Removes an upload's row unless a dataset version uses it by now (a backup requested during the sweep keeps
 * it); true when it was removed. `db` is scoped to the upload's tenant.
 */
export async function removeUnusedUpload(db: Db, tenantId: string, id: string): Promise<boolean> {
  const { count } = await db.upload.deleteMany({ where: { id, tenantId, versions: { none: {} } } });
  return count === 1;
}

// ── jobs ───────────────────────────────────────────────────────────────────────────────────────────────

export type JobWithRelations = BackupJob & {
  identity: Identity;
  templateVersion: PolicyTemplateVersion;
  replicas: Replica[];
  datasetVersion: DatasetVersion & { dataset: Dataset };
};

const JOB_INCLUDE = {
  identity: true,
  templateVersion: true,
  replicas: { orderBy: { order: 'asc' } },
  datasetVersion: { include: { dataset: true } },
} as const satisfies Prisma.BackupJobInclude;

export interface NewBackupJob {
  identityId: string;
  datasetKey: string;
  upload: Upload;
  templateVersionId: string;
  scheme: ResolvedScheme;
  idempotencyKey: string | null;
}

const UPLOAD_TYPES = { bigint: ['sizeBytes'], date: ['createdAt', 'completedAt'] } as const;
const JOB_TYPES = { date: ['createdAt', 'completedAt', 'workflowStartedAt'] } as const;
const VERSION_TYPES = { bigint: ['sizeBytes'], date: ['createdAt'] } as const;
const DATASET_TYPES = { date: ['createdAt'] } as const;
const REPLICA_TYPES = {
  bigint: ['bytesTotal', 'bytesCopied', 'reservedBytes'],
  date: ['scheduledAt', 'startedAt', 'completedAt'],
} as const;

/** A unique index the statement ran into, by name (Prisma names it in a raw statement's error message). */
const violates = (error: unknown, index: string): boolean => error instanceof Error && error.message.includes(index);

const IDEMPOTENCY_INDEX = 'backup_jobs_tenant_id_idempotency_key_key';

/**
 * Writes the dataset (if new), its next version, the job, its planned replicas and their PLANNED events in one
 * statement, and returns them: one round trip, atomic without a transaction block, and the events' insert
 * trigger holds the tenant's chain-head lock only to the end of that statement's commit. With an idempotency
 * key already used in this tenant (also by a request racing this one), returns that job and writes nothing.
 * `identity` and `templateVersion` are the caller's rows, returned as the job's relations.
 */
export async function createBackupJob(
  db: Db,
  tenantId: string,
  input: NewBackupJob & { identity: Identity; templateVersion: PolicyTemplateVersion },
): Promise<{ job: JobWithRelations; created: boolean }> {
  const existingJob = async () =>
    input.idempotencyKey === null
      ? null
      : db.backupJob.findFirst({ where: { tenantId, idempotencyKey: input.idempotencyKey }, include: JOB_INCLUDE });
  const existing = await existingJob();
  if (existing !== null) return { job: existing, created: false };
  if (input.upload.sha256 === null || input.upload.completedAt === null) {
    throw new DomainError(
      'BAD_USER_INPUT',
      `upload ${input.upload.id} is not complete yet; finish the tus upload first`,
    );
  }
  const placements = [input.scheme.primary, ...input.scheme.secondaries];
  const jobId = randomUUID();
  try {
    const [row] = await db.$queryRaw<{ job: unknown; version: unknown; dataset: unknown; replicas: unknown }[]>`
      WITH dataset AS (
        -- The upsert waits for any other request numbering this dataset and then increments the number it
        -- left: the versions of one dataset are numbered one by one.
        INSERT INTO datasets (tenant_id, identity_id, key, latest_version)
        VALUES (${tenantId}::uuid, ${input.identityId}::uuid, ${input.datasetKey}, 1)
        ON CONFLICT (tenant_id, identity_id, key) DO UPDATE SET latest_version = datasets.latest_version + 1
        RETURNING *
      ), version AS (
        INSERT INTO dataset_versions (tenant_id, dataset_id, number, size_bytes, sha256, upload_id)
        SELECT ${tenantId}::uuid, d.id, d.latest_version, ${input.upload.sizeBytes}, ${input.upload.sha256},
               ${input.upload.id}
          FROM dataset d
        RETURNING *
      ), job AS (
        INSERT INTO backup_jobs (id, tenant_id, identity_id, dataset_version_id, template_version_id, scheme,
                                 workflow_id, idempotency_key)
        SELECT ${jobId}::uuid, ${tenantId}::uuid, ${input.identityId}::uuid, v.id, ${input.templateVersionId}::uuid,
               ${JSON.stringify(input.scheme)}::jsonb, ${workflowIdFor(tenantId, jobId)}, ${input.idempotencyKey}
          FROM version v
        RETURNING *
      ), planned AS (
        INSERT INTO replicas (tenant_id, job_id, role, "order", storage_system_id, space_id, bytes_total)
        SELECT ${tenantId}::uuid, j.id,
               (CASE WHEN placement.ord = 0 THEN 'PRIMARY' ELSE 'SECONDARY' END)::"ReplicaRole",
               placement.ord, placement.system, placement.space, ${input.upload.sizeBytes}
          FROM job j,
               unnest(${placements.map((_, order) => order)}::int[],
                      ${placements.map((placement) => placement.storageSystemId)}::uuid[],
                      ${placements.map((placement) => placement.spaceId)}::uuid[]) AS placement(ord, system, space)
        RETURNING *
      ), events AS (
        INSERT INTO replica_events (tenant_id, job_id, replica_id, status, bytes_copied, message)
        SELECT tenant_id, job_id, id, 'PLANNED'::"ReplicaStatus", bytes_copied,
               CASE WHEN "order" = 0 THEN 'planned as primary' ELSE 'planned as secondary ' || "order" END
          FROM planned ORDER BY "order"
        RETURNING id
      )
      SELECT (SELECT to_jsonb(j) FROM job j) AS job,
             (SELECT to_jsonb(v) FROM version v) AS version,
             (SELECT to_jsonb(d) FROM dataset d) AS dataset,
             (SELECT jsonb_agg(to_jsonb(p) ORDER BY p."order") FROM planned p) AS replicas,
             (SELECT count(*) FROM events) AS events`;
    if (row === undefined) throw new Error('creating the backup job returned no row');
    const dataset = modelOf<Dataset>(row.dataset, DATASET_TYPES);
    const version = modelOf<DatasetVersion>(row.version, VERSION_TYPES);
    const replicaRows = (typeof row.replicas === 'string' ? JSON.parse(row.replicas) : row.replicas) as unknown[];
    const job: JobWithRelations = {
      ...modelOf<BackupJob>(row.job, JOB_TYPES),
      identity: input.identity,
      templateVersion: input.templateVersion,
      replicas: replicaRows.map((replica) => modelOf<Replica>(replica, REPLICA_TYPES)),
      datasetVersion: { ...version, dataset },
    };
    return { job, created: true };
  } catch (error) {
    if (input.idempotencyKey !== null && violates(error, IDEMPOTENCY_INDEX)) {
      const raced = await existingJob();
      if (raced !== null) return { job: raced, created: false };
    }
    throw error;
  }
}

/** Jobs of every tenant whose workflow start was not recorded, created before `cutoff`, oldest first. */
export const unstartedJobs = (db: Db, cutoff: Date, maxRows: number): Promise<{ id: string; tenant_id: string }[]> =>
  db.$queryRaw`SELECT * FROM echelon_unstarted_jobs(${cutoff}, ${maxRows}::integer)`;

/** Records that these jobs' workflows were started (jobs of any tenant, one statement). */
export async function markWorkflowsStarted(db: Db, jobIds: readonly string[]): Promise<void> {
  if (jobIds.length === 0) return;
  await db.$executeRaw`SELECT echelon_mark_workflows_started(${[...jobIds]}::uuid[])`;
}

export async function findJobByIdempotencyKey(
  db: Db,
  tenantId: string,
  idempotencyKey: string,
): Promise<JobWithRelations | null> {
  return db.backupJob.findFirst({ where: { tenantId, idempotencyKey }, include: JOB_INCLUDE });
}

export async function getJob(db: Db, tenantId: string, jobId: string): Promise<JobWithRelations | null> {
  return db.backupJob.findFirst({ where: { id: jobId, tenantId }, include: JOB_INCLUDE });
}

/** Whose job it is (its identity), or null when the tenant has no such job: one read, for access checks. */
export async function jobOwner(db: Db, tenantId: string, jobId: string): Promise<{ identityId: string } | null> {
  return db.backupJob.findFirst({ where: { id: jobId, tenantId }, select: { identityId: true } });
}

/** What the worker's activities need of a job (its replicas and dataset version): 3 reads instead of 6. */
export type WorkJob = Prisma.BackupJobGetPayload<{
  include: { replicas: { orderBy: { order: 'asc' } }; datasetVersion: true };
}>;

export async function getWorkJob(db: Db, tenantId: string, jobId: string): Promise<WorkJob | null> {
  return db.backupJob.findFirst({
    where: { id: jobId, tenantId },
    include: { replicas: { orderBy: { order: 'asc' } }, datasetVersion: true },
  });
}

/** Several jobs of a tenant at once (ids of other tenants are ignored). */
export async function getJobs(db: Db, tenantId: string, jobIds: readonly string[]): Promise<JobWithRelations[]> {
  return db.backupJob.findMany({ where: { id: { in: [...jobIds] }, tenantId }, include: JOB_INCLUDE });
}

export interface JobFilter {
  datasetKey?: string | null;
  identityId?: string | null;
  status?: BackupJobStatus | null;
}

export interface JobCursor {
  createdAt: Date;
  id: string;
}

export const encodeJobCursor = (job: JobCursor): string =>
  Buffer.from(`${job.createdAt.toISOString()}|${job.id}`, 'utf8').toString('base64url');

export function decodeJobCursor(cursor: string): JobCursor {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (id === undefined || !isUuid(id) || Number.isNaN(createdAt.getTime())) {
    throw new DomainError('BAD_USER_INPUT', `"${cursor}" is not a cursor this API issued; pass an endCursor back`);
  }
  return { createdAt, id };
}

/** Newest first; the cursor is (createdAt, id), so pages stay stable while new jobs arrive. */
export async function listJobs(
  db: Db,
  tenantId: string,
  filter: JobFilter,
  first: number,
  after: string | null,
): Promise<{ jobs: JobWithRelations[]; hasNextPage: boolean; totalCount: number }> {
  const where: Prisma.BackupJobWhereInput = {
    tenantId,
    ...(filter.identityId ? { identityId: filter.identityId } : {}),
    ...(filter.status ? { status: filter.status } : {}),
    ...(filter.datasetKey ? { datasetVersion: { dataset: { key: filter.datasetKey } } } : {}),
  };
  const cursor = after ? decodeJobCursor(after) : undefined;
  const page: Prisma.BackupJobWhereInput = cursor
    ? {
        AND: [
          where,
          {
            OR: [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { lt: cursor.id } }],
          },
        ],
      }
    : where;
  const [rows, totalCount] = await Promise.all([
    db.backupJob.findMany({
      where: page,
      include: JOB_INCLUDE,
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: first + 1,
    }),
    db.backupJob.count({ where }),
  ]);
  return { jobs: rows.slice(0, first), hasNextPage: rows.length > first, totalCount };
}

// ── replicas and events ────────────────────────────────────────────────────────────────────────────────

export type ReplicaPatch = Partial<
  Pick<
    Replica,
    | 'scheduledAt'
    | 'startedAt'
    | 'completedAt'
    | 'bytesCopied'
    | 'checksum'
    | 'lastError'
    | 'objectKey'
    | 'spaceId'
    | 'attempts'
    | 'manifestId'
  >
>;

/**
 * Moves a replica to a new status (validated by the domain's state machine), applies the patch and appends
 * the event, atomically. A repeated call with the status the replica already has only applies the patch
 * when `allowSame` is set (progress ticks); otherwise it is a no-op, which keeps activity retries idempotent.
 */
/** Database columns of the replica fields a transition may set. */
const PATCH_COLUMNS: Record<keyof ReplicaPatch, string> = {
  scheduledAt: 'scheduled_at',
  startedAt: 'started_at',
  completedAt: 'completed_at',
  bytesCopied: 'bytes_copied',
  checksum: 'checksum',
  lastError: 'last_error',
  objectKey: 'object_key',
  spaceId: 'space_id',
  attempts: 'attempts',
  manifestId: 'manifest_id',
};

/**
 * Moves a replica to `to` (with `patch`) and appends its event, in one statement: the tenant's chain-head lock,
 * which the event's insert trigger takes, is held until that statement commits and never across a round trip to
 * this process (under load that round trip waits for a busy event loop). The transition rules are the domain's:
 * the statement only updates from a status the rules allow, and an illegal move is reported with the domain's error.
 */
export async function transitionReplica(
  db: Db,
  input: { tenantId: string; replicaId: string; to: ReplicaStatus; patch?: ReplicaPatch; message?: string | null },
): Promise<Replica> {
  // Repeating a state is allowed (an activity retried after a crash), except COPYING, which starts an attempt.
  const allowedFrom = REPLICA_STATUSES.filter(
    (from) => (from === input.to && input.to !== 'COPYING') || canTransitionReplica(from, input.to),
  );
  const sets = [
    Prisma.sql`status = ${input.to}::"ReplicaStatus"`,
    ...Object.entries(input.patch ?? {}).flatMap(([field, value]) => {
      if (value === undefined) return [];
      const column = Prisma.raw(`"${PATCH_COLUMNS[field as keyof ReplicaPatch]}"`);
      return [field === 'spaceId' ? Prisma.sql`${column} = ${value}::uuid` : Prisma.sql`${column} = ${value}`];
    }),
  ];
  const [outcome] = await db.$queryRaw<({ previous: ReplicaStatus } & Partial<Replica>)[]>`
    WITH locked AS (
      SELECT id, status FROM replicas
      WHERE id = ${input.replicaId}::uuid AND tenant_id = ${input.tenantId}::uuid
      FOR UPDATE
    ), moved AS (
      UPDATE replicas SET ${Prisma.join(sets, ', ')}
      FROM locked
      WHERE replicas.id = locked.id AND locked.status::text = ANY(${allowedFrom}::text[])
      RETURNING replicas.*
    ), appended AS (
      INSERT INTO replica_events (tenant_id, job_id, replica_id, status, bytes_copied, message)
      SELECT tenant_id, job_id, id, ${input.to}::"ReplicaStatus", bytes_copied, ${input.message ?? null} FROM moved
    )
    SELECT locked.status::text AS previous, ${replicaColumns('moved')} FROM locked LEFT JOIN moved ON true`;
  if (outcome === undefined) throw new DomainError('NOT_FOUND', `replica ${input.replicaId} does not exist`);
  const { previous, ...moved } = outcome;
  if (moved.id === null || moved.id === undefined) {
    assertReplicaTransition(previous, input.to);
    throw new DomainError('CONFLICT', `replica ${input.replicaId} could not go from ${previous} to ${input.to}`);
  }
  // The row as the statement left it: no second read.
  return moved as Replica;
}

/** A replica row's columns under the model's field names, for statements that return one (`alias`: its table). */
function replicaColumns(alias: string): Prisma.Sql {
  const column = (name: string, field: string, cast = '') => `${alias}."${name}"${cast} AS "${field}"`;
  return Prisma.raw(
    [
      column('id', 'id', '::text'),
      column('tenant_id', 'tenantId', '::text'),
      column('job_id', 'jobId', '::text'),
      column('role', 'role', '::text'),
      column('order', 'order'),
      column('storage_system_id', 'storageSystemId', '::text'),
      column('space_id', 'spaceId', '::text'),
      column('status', 'status', '::text'),
      column('object_key', 'objectKey'),
      column('scheduled_at', 'scheduledAt'),
      column('started_at', 'startedAt'),
      column('completed_at', 'completedAt'),
      column('bytes_total', 'bytesTotal'),
      column('bytes_copied', 'bytesCopied'),
      column('reserved_bytes', 'reservedBytes'),
      column('checksum', 'checksum'),
      column('manifest_id', 'manifestId'),
      column('attempts', 'attempts'),
      column('last_error', 'lastError'),
    ].join(', '),
  );
}

/** A progress tick: bytes only, recorded as a COPYING event. */
export async function recordProgress(
  db: Db,
  input: { tenantId: string; replicaId: string; bytesCopied: number },
): Promise<void> {
  // One statement: the tenant's chain-head lock (taken by the event's insert trigger) is held only until this
  // statement commits, not across client round trips. A replica no longer COPYING records nothing.
  await db.$executeRaw`
    WITH copying AS (
      UPDATE replicas SET bytes_copied = ${BigInt(input.bytesCopied)}
      WHERE id = ${input.replicaId}::uuid AND tenant_id = ${input.tenantId}::uuid AND status = 'COPYING'
      RETURNING id, tenant_id, job_id, bytes_copied
    )
    INSERT INTO replica_events (tenant_id, job_id, replica_id, status, bytes_copied)
    SELECT tenant_id, job_id, id, 'COPYING'::"ReplicaStatus", bytes_copied FROM copying`;
}

export async function getReplica(db: Db, tenantId: string, replicaId: string): Promise<Replica | null> {
  return db.replica.findFirst({ where: { id: replicaId, tenantId } });
}

export async function listReplicas(db: Db, tenantId: string, jobId: string): Promise<Replica[]> {
  return db.replica.findMany({ where: { tenantId, jobId }, orderBy: { order: 'asc' } });
}

/**
 * Reserves the replica's bytes in the space with the most room on its storage system, re-reading capacity at
 * this moment. Idempotent: a replica that already holds a reservation keeps it.
 */
export async function reserveSpace(db: Db, tenantId: string, replicaId: string): Promise<Replica> {
  // One statement, no transaction held across round trips: the space with the most room left after the copy that
  // can take it is charged and the replica records it. A copy is charged what it will write: a whole object its
  // size, a chunked version the chunks the space lacks (see bytesToWriteSql; the chunks it writes are counted by
  // the index as they land, and the reservation is given back once the copy is committed). Two reservations racing
  // for the same space serialise on its row only for the statement; the loser's capacity condition is re-checked
  // on the updated row, and it tries again against fresh figures.
  for (let attempt = 0; attempt < 10; attempt++) {
    const reserved = await db.$queryRaw<{ id: string }[]>`
      WITH replica AS (
        SELECT r.id, r.storage_system_id, r.bytes_total, v.upload_id FROM replicas r
          JOIN backup_jobs j ON j.id = r.job_id
          JOIN dataset_versions v ON v.id = j.dataset_version_id
        WHERE r.id = ${replicaId}::uuid AND r.tenant_id = ${tenantId}::uuid
          AND NOT (r.space_id IS NOT NULL AND (r.reserved_bytes > 0 OR r.bytes_total = 0))
        FOR UPDATE OF r
      ), need AS (
        SELECT candidate.id, candidate.capacity_bytes - candidate.used_bytes AS room,
               candidate.created_at, candidate.name,
               CASE WHEN replica.upload_id IS NULL THEN replica.bytes_total
                    ELSE coalesce(${bytesToWriteSql(Prisma.sql`replica.upload_id`, Prisma.sql`candidate.id`)}, replica.bytes_total)
               END AS bytes
          FROM backup_spaces AS candidate, replica
         WHERE candidate.storage_system_id = replica.storage_system_id AND candidate.tenant_id = ${tenantId}::uuid
      ), chosen AS (
        SELECT id, bytes FROM need WHERE room >= bytes
         ORDER BY room - bytes DESC, created_at ASC, name ASC LIMIT 1
      ), charged AS (
        UPDATE backup_spaces AS space SET used_bytes = space.used_bytes + chosen.bytes
        FROM chosen, replica
        WHERE space.id = chosen.id AND space.capacity_bytes - space.used_bytes >= chosen.bytes
        RETURNING space.id AS space_id, replica.id AS replica_id, chosen.bytes
      )
      UPDATE replicas SET space_id = charged.space_id, reserved_bytes = charged.bytes
      FROM charged WHERE replicas.id = charged.replica_id
      RETURNING replicas.id::text AS id`;
    const replica = await db.replica.findFirst({ where: { id: replicaId, tenantId } });
    if (replica === null) throw new DomainError('NOT_FOUND', `replica ${replicaId} does not exist in this tenant`);
    if (reserved.length > 0) return replica;
    // Nothing charged: reserved already (an activity retry), no space can hold it, or another reservation took
    // the chosen space's room first (then try again).
    if (replica.spaceId !== null && (replica.reservedBytes > 0n || replica.bytesTotal === 0n)) return replica;
    const [room] = await db.$queryRaw<{ most: bigint | null }[]>`
      SELECT max(capacity_bytes - used_bytes) AS most FROM backup_spaces
      WHERE storage_system_id = ${replica.storageSystemId}::uuid AND tenant_id = ${tenantId}::uuid`;
    const [smallest] = await db.$queryRaw<{ bytes: bigint | null }[]>`
      SELECT min(CASE WHEN v.upload_id IS NULL THEN r.bytes_total
                      ELSE coalesce(${bytesToWriteSql(Prisma.sql`v.upload_id`, Prisma.sql`b.id`)}, r.bytes_total) END) AS bytes
        FROM replicas r JOIN backup_jobs j ON j.id = r.job_id JOIN dataset_versions v ON v.id = j.dataset_version_id
        JOIN backup_spaces b ON b.storage_system_id = r.storage_system_id AND b.tenant_id = r.tenant_id
       WHERE r.id = ${replicaId}::uuid AND r.tenant_id = ${tenantId}::uuid`;
    const needed = smallest?.bytes ?? replica.bytesTotal;
    if (room?.most === null || room?.most === undefined || room.most < needed) {
      throw new DomainError(
        'INSUFFICIENT_CAPACITY',
        `no backup space of storage system ${replica.storageSystemId} can hold the ${needed} bytes this copy writes now`,
      );
    }
  }
  // Transient: the activity's retry policy tries again later.
  throw new Error(`could not reserve space for replica ${replicaId}: too much contention`);
}

/** Gives back a reservation (failed or cancelled copy). */
export async function releaseSpace(db: Db, tenantId: string, replicaId: string): Promise<void> {
  await db.$transaction(async (tx) => {
    const replica = await tx.replica.findFirstOrThrow({ where: { id: replicaId, tenantId } });
    if (replica.reservedBytes === 0n || replica.spaceId === null) return;
    await tx.$executeRaw`UPDATE backup_spaces SET used_bytes = GREATEST(used_bytes - ${replica.reservedBytes}, 0) WHERE id = ${replica.spaceId}::uuid`;
    await tx.replica.update({ where: { id: replica.id }, data: { reservedBytes: 0n } });
  });
}

/**
 * Re-numbers the job's not-yet-dispatched secondaries so that `chosenReplicaId` is written next, at
 * `order`. The others keep their relative order behind it.
 */
export async function assignDispatchOrder(
  db: Db,
  tenantId: string,
  jobId: string,
  chosenReplicaId: string,
  order: number,
): Promise<void> {
  await db.$transaction(async (tx) => {
    const pending = await tx.replica.findMany({
      where: { tenantId, jobId, order: { gte: order } },
      orderBy: { order: 'asc' },
    });
    const chosen = pending.find((replica) => replica.id === chosenReplicaId);
    if (chosen === undefined || chosen.order === order) return;
    const rest = pending.filter((replica) => replica.id !== chosenReplicaId);
    const sequence = [chosen, ...rest];
    // Two passes keep the (job, order) unique index satisfied at every statement.
    for (const [index, replica] of sequence.entries()) {
      await tx.replica.update({ where: { id: replica.id }, data: { order: -1 - index } });
    }
    for (const [index, replica] of sequence.entries()) {
      await tx.replica.update({ where: { id: replica.id }, data: { order: order + index } });
    }
  });
}

export async function setJobStatus(
  db: Db,
  tenantId: string,
  jobId: string,
  to: BackupJobStatus,
  reason: string | null = null,
): Promise<BackupJob> {
  // A read, then an update that applies only if the status read is still the job's: no transaction held across
  // round trips. A concurrent move makes the update match nothing, and the rules are checked again on a fresh read.
  for (let attempt = 0; attempt < 10; attempt++) {
    const job = await db.backupJob.findFirstOrThrow({ where: { id: jobId, tenantId } });
    if (job.status === to && job.statusReason === reason) return job;
    if (job.status !== to) assertJobTransition(job.status, to);
    const terminal = to === 'COMPLETED' || to === 'PARTIAL' || to === 'FAILED' || to === 'CANCELLED';
    const [updated] = await db.backupJob.updateManyAndReturn({
      where: { id: jobId, tenantId, status: job.status },
      data: { status: to, statusReason: reason, completedAt: terminal ? new Date() : null },
    });
    if (updated !== undefined) return updated;
  }
  // Transient: the caller's retry policy tries again later.
  throw new Error(`job ${jobId} changed status too often to record ${to}`);
}

/** Decides and records the job's outcome from its replicas and the template's minimum of verified copies. */
export async function finishJob(db: Db, tenantId: string, jobId: string): Promise<BackupJob> {
  const job = await db.backupJob.findFirstOrThrow({
    where: { id: jobId, tenantId },
    include: { templateVersion: true, replicas: true },
  });
  if (job.status === 'CANCELLED') return job;
  const outcome = jobOutcome(job.replicas, job.templateVersion.minCopies);
  return setJobStatus(db, tenantId, jobId, outcome.status, outcome.reason);
}

const IN_FLIGHT: readonly ReplicaStatus[] = ['PLANNED', 'WAITING', 'COPYING', 'VERIFYING'];

/**
 * Records a cancelled job: every replica not yet written is CANCELLED and gives back its space; verified
 * copies stay. Idempotent.
 */
export async function cancelJob(db: Db, tenantId: string, jobId: string): Promise<BackupJob> {
  const replicas = await listReplicas(db, tenantId, jobId);
  for (const replica of replicas) {
    if (!IN_FLIGHT.includes(replica.status)) continue;
    await transitionReplica(db, {
      tenantId,
      replicaId: replica.id,
      to: 'CANCELLED',
      message: 'cancelled on request',
    });
    await releaseSpace(db, tenantId, replica.id);
  }
  return setJobStatus(db, tenantId, jobId, 'CANCELLED', 'cancelled on request');
}

/** Prepares a FAILED replica for another attempt: its job runs again. CONFLICT for any other replica. */
export async function startRetry(
  db: Db,
  tenantId: string,
  replicaId: string,
): Promise<{ replica: Replica; job: BackupJob }> {
  const replica = await getReplica(db, tenantId, replicaId);
  if (replica === null) throw new DomainError('NOT_FOUND', `replica ${replicaId} does not exist in this tenant`);
  const job = await db.backupJob.findFirstOrThrow({ where: { id: replica.jobId, tenantId } });
  if (replica.status === 'COPYING' || replica.status === 'VERIFYING' || replica.status === 'COMPLETED') {
    // A retry already under way or done: nothing to prepare (an activity retry lands here).
    return { replica, job };
  }
  if (replica.status !== 'FAILED') {
    throw new DomainError(
      'CONFLICT',
      `replica ${replicaId} is ${replica.status}; only a FAILED replica can be retried`,
    );
  }
  if (job.status === 'RUNNING') return { replica, job };
  return { replica, job: await setJobStatus(db, tenantId, job.id, 'RUNNING', null) };
}

export type ReplicaEventWithReplica = ReplicaEvent & { replica: Replica };

/**
 * A job's events after `afterEventId`, oldest first, each with its replica as it is now. Ids of one tenant's
 * events are drawn in commit order (see the chain_ordered_ids migration), so reading "after the last id seen"
 * never skips an event that commits late.
 */
export async function eventsAfter(
  db: Db,
  tenantId: string,
  /** One job, or several: their events in one id order (a feed reader serves every watched job of a tenant). */
  jobId: string | readonly string[],
  afterEventId: bigint,
  limit = 1000,
): Promise<ReplicaEventWithReplica[]> {
  return db.replicaEvent.findMany({
    where: { tenantId, jobId: typeof jobId === 'string' ? jobId : { in: [...jobId] }, id: { gt: afterEventId } },
    include: { replica: true },
    orderBy: { id: 'asc' },
    take: limit,
  });
}

/** The id of a job's newest event, 0 when it has none. */
export async function lastEventId(db: Db, tenantId: string, jobId: string): Promise<bigint> {
  const newest = await db.replicaEvent.findFirst({
    where: { tenantId, jobId },
    orderBy: { id: 'desc' },
    select: { id: true },
  });
  return newest?.id ?? 0n;
}

/** The workflow that runs the job from now on (a replica's retry runs under its own workflow id). */
export async function setJobWorkflowId(db: Db, tenantId: string, jobId: string, workflowId: string): Promise<void> {
  await db.backupJob.updateMany({ where: { id: jobId, tenantId }, data: { workflowId } });
}
