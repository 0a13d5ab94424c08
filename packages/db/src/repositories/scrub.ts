import { canTransitionReplica, REPLICA_STATUSES, type ReplicaStatus } from '@echelon/domain';
import { type Db, Prisma } from '../client.js';
import type { Actor } from './audit.js';
import { type ChunkRecord, type UploadContents, uploadContentsOf } from './chunks.js';

/**
 * What the scrub (docs/data-layout.md, "Scrub") reads and records: the storage systems to work through, the chunks
 * the index says a space holds, the committed copies in a space, and a replica's moves between COMPLETED and
 * DEGRADED, each with its replica event and its audit entry in one statement.
 */

/** One storage system of one tenant: what one scrub pass works through. */
export interface ScrubTarget {
  tenantId: string;
  storageSystemId: string;
}

/**
 * Every storage system of every tenant. Runs as no tenant: the function lists only ids (SECURITY DEFINER, see the
 * scrub_targets migration), and each pass then reads and writes as its own tenant.
 */
export async function scrubTargets(db: Db): Promise<ScrubTarget[]> {
  const rows = await db.$queryRaw<{ tenant_id: string; storage_system_id: string }[]>`
    SELECT tenant_id::text, storage_system_id::text FROM echelon_scrub_targets()`;
  return rows.map((row) => ({ tenantId: row.tenant_id, storageSystemId: row.storage_system_id }));
}

/** Up to `limit` of the chunks the index says `spaceId` holds, in hash order after `afterHash` (a pass's cursor). */
export async function storedChunksAfter(
  db: Db,
  tenantId: string,
  spaceId: string,
  afterHash: string | null,
  limit: number,
): Promise<ChunkRecord[]> {
  return db.$queryRaw<ChunkRecord[]>`
    SELECT hash, length, location FROM stored_chunks
     WHERE space_id = ${spaceId}::uuid AND tenant_id = ${tenantId}::uuid AND hash > ${afterHash ?? ''}
     ORDER BY hash LIMIT ${limit}`;
}

/** A copy whose manifest was committed (COMPLETED or DEGRADED), with what reading and rebuilding it takes. */
export interface CommittedReplica {
  id: string;
  tenantId: string;
  jobId: string;
  order: number;
  status: ReplicaStatus;
  storageSystemId: string;
  spaceId: string;
  manifestId: string;
  lastError: string | null;
  datasetKey: string;
  version: { id: string; number: number; createdAt: Date; sha256: string; uploadId: string };
  contents: UploadContents;
}

const COMMITTED_STATUSES = ['COMPLETED', 'DEGRADED'] as const;

const committedInclude = {
  job: { include: { datasetVersion: { include: { dataset: { select: { key: true } }, upload: true } } } },
} satisfies Prisma.ReplicaInclude;

type ReplicaWithVersion = Prisma.ReplicaGetPayload<{ include: typeof committedInclude }>;

function toCommitted(replica: ReplicaWithVersion): CommittedReplica | null {
  const version = replica.job.datasetVersion;
  const contents = version.upload === null ? null : uploadContentsOf(version.upload);
  if (replica.spaceId === null || replica.manifestId === null || contents === null || version.uploadId === null) {
    return null;
  }
  return {
    id: replica.id,
    tenantId: replica.tenantId,
    jobId: replica.jobId,
    order: replica.order,
    status: replica.status,
    storageSystemId: replica.storageSystemId,
    spaceId: replica.spaceId,
    manifestId: replica.manifestId,
    lastError: replica.lastError,
    datasetKey: version.dataset.key,
    version: {
      id: version.id,
      number: version.number,
      createdAt: version.createdAt,
      sha256: version.sha256,
      uploadId: version.uploadId,
    },
    contents,
  };
}

/** The committed chunked copies on a storage system, in a stable order (oldest first). */
export async function committedReplicasOn(
  db: Db,
  tenantId: string,
  storageSystemId: string,
): Promise<CommittedReplica[]> {
  const rows = await db.replica.findMany({
    where: { tenantId, storageSystemId, status: { in: [...COMMITTED_STATUSES] }, manifestId: { not: null } },
    include: committedInclude,
    orderBy: [{ completedAt: 'asc' }, { id: 'asc' }],
  });
  return rows.flatMap((row) => toCommitted(row) ?? []);
}

/** One replica of the tenant as a committed chunked copy; null when it is none (or not the tenant's). */
export async function committedReplica(db: Db, tenantId: string, replicaId: string): Promise<CommittedReplica | null> {
  const row = await db.replica.findFirst({
    where: { id: replicaId, tenantId, status: { in: [...COMMITTED_STATUSES] }, manifestId: { not: null } },
    include: committedInclude,
  });
  return row === null ? null : toCommitted(row);
}

/** The committed copies in `spaceId` whose version names `hash`: those a bad copy of it there damages. */
export async function replicasNamingChunk(
  db: Db,
  tenantId: string,
  spaceId: string,
  hash: string,
): Promise<{ id: string; status: ReplicaStatus }[]> {
  return db.$queryRaw<{ id: string; status: ReplicaStatus }[]>`
    SELECT r.id::text AS id, r.status::text AS status FROM replicas r
      JOIN backup_jobs j ON j.id = r.job_id AND j.tenant_id = r.tenant_id
      JOIN dataset_versions v ON v.id = j.dataset_version_id AND v.tenant_id = r.tenant_id
     WHERE r.tenant_id = ${tenantId}::uuid AND r.space_id = ${spaceId}::uuid AND r.manifest_id IS NOT NULL
       AND r.status::text = ANY (${[...COMMITTED_STATUSES]}::text[])
       AND EXISTS (SELECT 1 FROM upload_chunks c
                    WHERE c.upload_id = v.upload_id AND c.tenant_id = r.tenant_id AND c.hash = ${hash})
     ORDER BY r.id`;
}

/**
 * The chunks a committed copy's version names that its space's index does not hold (found bad there, or forgotten
 * by a restore that read around them): what a repair must put back. Each once, in stream order.
 */
export async function replicaLackingChunks(
  db: Db,
  tenantId: string,
  replicaId: string,
): Promise<{ hash: string; length: number }[]> {
  return db.$queryRaw<{ hash: string; length: number }[]>`
    SELECT c.hash, min(c.length)::int AS length FROM replicas r
      JOIN backup_jobs j ON j.id = r.job_id AND j.tenant_id = r.tenant_id
      JOIN dataset_versions v ON v.id = j.dataset_version_id AND v.tenant_id = r.tenant_id
      JOIN upload_chunks c ON c.upload_id = v.upload_id AND c.tenant_id = r.tenant_id
     WHERE r.id = ${replicaId}::uuid AND r.tenant_id = ${tenantId}::uuid
       AND NOT EXISTS (SELECT 1 FROM stored_chunks s
                        WHERE s.space_id = r.space_id AND s.tenant_id = r.tenant_id AND s.hash = c.hash)
     GROUP BY c.hash ORDER BY min(c.seq)`;
}

const auditJson = (value: unknown) => JSON.stringify(value);

/** The statuses a replica may be DEGRADED from: by the domain's rules, or DEGRADED already (more damage found). */
const DEGRADABLE = REPLICA_STATUSES.filter((from) => from === 'DEGRADED' || canTransitionReplica(from, 'DEGRADED'));
const REPAIRABLE = REPLICA_STATUSES.filter((from) => from === 'DEGRADED' && canTransitionReplica(from, 'COMPLETED'));

/**
 * A committed copy was found damaged: DEGRADED, with `lastError`, a replica event saying what was found and an audit
 * entry (action `replica.degrade`), in one statement. A replica DEGRADED already with the same lastError is left as
 * it is (a scrub finding the same loss again writes no new history). False when nothing changed.
 */
export async function markReplicaDegraded(
  db: Db,
  input: { tenantId: string; replicaId: string; lastError: string; message: string; actor: Actor; chunks: string[] },
): Promise<boolean> {
  const [row] = await db.$queryRaw<{ moved: number }[]>`
    WITH before AS (
      SELECT id, status FROM replicas WHERE id = ${input.replicaId}::uuid AND tenant_id = ${input.tenantId}::uuid
       FOR UPDATE
    ), moved AS (
      UPDATE replicas r SET status = 'DEGRADED', last_error = ${input.lastError}
        FROM before
       WHERE r.id = before.id AND before.status::text = ANY (${DEGRADABLE}::text[])
         AND NOT (before.status = 'DEGRADED' AND r.last_error IS NOT DISTINCT FROM ${input.lastError})
      RETURNING r.id, r.tenant_id, r.job_id, r.bytes_copied, before.status::text AS previous
    ), evented AS (
      INSERT INTO replica_events (tenant_id, job_id, replica_id, status, bytes_copied, message)
      SELECT tenant_id, job_id, id, 'DEGRADED', bytes_copied, ${input.message} FROM moved
    ), audited AS (
      INSERT INTO audit_entries (tenant_id, actor_identity_id, actor, action, object_type, object_id, before, after)
      SELECT tenant_id, ${input.actor.identityId}::uuid, ${input.actor.label}, 'replica.degrade', 'replica', id::text,
             jsonb_build_object('status', previous),
             ${auditJson({ status: 'DEGRADED', lastError: input.lastError, chunks: input.chunks })}::jsonb
        FROM moved
    )
    SELECT count(*)::int AS moved FROM moved`;
  return (row?.moved ?? 0) > 0;
}

/**
 * A DEGRADED copy holds every chunk again, each verified where it now lies: COMPLETED, lastError cleared, with its
 * replica event and an audit entry (action `replica.repair`), in one statement. False when it was not DEGRADED.
 */
export async function markReplicaRepaired(
  db: Db,
  input: { tenantId: string; replicaId: string; message: string; actor: Actor; chunks: string[] },
): Promise<boolean> {
  const [row] = await db.$queryRaw<{ moved: number }[]>`
    WITH moved AS (
      UPDATE replicas SET status = 'COMPLETED', last_error = NULL
       WHERE id = ${input.replicaId}::uuid AND tenant_id = ${input.tenantId}::uuid
         AND status::text = ANY (${REPAIRABLE}::text[])
      RETURNING id, tenant_id, job_id, bytes_copied
    ), evented AS (
      INSERT INTO replica_events (tenant_id, job_id, replica_id, status, bytes_copied, message)
      SELECT tenant_id, job_id, id, 'COMPLETED', bytes_copied, ${input.message} FROM moved
    ), audited AS (
      INSERT INTO audit_entries (tenant_id, actor_identity_id, actor, action, object_type, object_id, before, after)
      SELECT tenant_id, ${input.actor.identityId}::uuid, ${input.actor.label}, 'replica.repair', 'replica', id::text,
             '{"status":"DEGRADED"}'::jsonb, ${auditJson({ status: 'COMPLETED', repairedChunks: input.chunks })}::jsonb
        FROM moved
    )
    SELECT count(*)::int AS moved FROM moved`;
  return (row?.moved ?? 0) > 0;
}

/** The replica's status and lastError now; null when the tenant has no such replica. */
export async function replicaHealth(
  db: Db,
  tenantId: string,
  replicaId: string,
): Promise<{ status: ReplicaStatus; lastError: string | null } | null> {
  return db.replica.findFirst({ where: { id: replicaId, tenantId }, select: { status: true, lastError: true } });
}
