import type { Db } from '../client.js';
import type { BackupSpace, Replica, StorageSystem } from '../generated/prisma/client.js';
import { type UploadContents, uploadContentsOf } from './chunks.js';

/** A chunked version as a download reads it: what its manifest is made of, and the copies that committed it. */
export interface ChunkedRestorePlan {
  version: {
    id: string;
    number: number;
    createdAt: Date;
    sha256: string;
    sizeBytes: bigint;
    datasetKey: string;
    contents: UploadContents;
  };
  /**
   * Replicas with a committed manifest, each with its space and storage system: COMPLETED ones, and DEGRADED ones,
   * whose good chunks still serve (the index no longer credits them with their bad ones).
   */
  replicas: (Replica & { space: BackupSpace | null; storageSystem: StorageSystem })[];
}

/**
 * The version's contents and its committed copies; null when the version is a whole object of the first data
 * plane (its upload has no contents).
 */
export async function chunkedRestorePlan(
  db: Db,
  tenantId: string,
  datasetVersionId: string,
): Promise<ChunkedRestorePlan | null> {
  const version = await db.datasetVersion.findFirst({
    where: { id: datasetVersionId, tenantId },
    include: { dataset: true, upload: true },
  });
  const contents = version?.upload ? uploadContentsOf(version.upload) : null;
  if (version === null || contents === null) return null;
  const replicas = await db.replica.findMany({
    where: {
      tenantId,
      status: { in: ['COMPLETED', 'DEGRADED'] },
      manifestId: { not: null },
      job: { datasetVersionId },
    },
    include: { space: true, storageSystem: true },
  });
  return {
    version: {
      id: version.id,
      number: version.number,
      createdAt: version.createdAt,
      sha256: version.sha256,
      sizeBytes: version.sizeBytes,
      datasetKey: version.dataset.key,
      contents,
    },
    replicas,
  };
}

/**
 * A chunk a read found missing or corrupt on a replica's space: the index stops claiming it there (so copies and
 * restores read it elsewhere, and a repair puts it back) and the replica's history says so, in one statement.
 */
export async function recordBadChunk(
  db: Db,
  input: { tenantId: string; replicaId: string; spaceId: string; hash: string; message: string },
): Promise<void> {
  await db.$executeRaw`
    WITH forgotten AS (
      DELETE FROM stored_chunks
       WHERE space_id = ${input.spaceId}::uuid AND tenant_id = ${input.tenantId}::uuid AND hash = ${input.hash}
      RETURNING length
    ), uncharged AS (
      UPDATE backup_spaces SET used_bytes = GREATEST(used_bytes - forgotten.length, 0)
        FROM forgotten WHERE id = ${input.spaceId}::uuid AND tenant_id = ${input.tenantId}::uuid
    )
    INSERT INTO replica_events (tenant_id, job_id, replica_id, status, bytes_copied, message)
    SELECT tenant_id, job_id, id, status, bytes_copied, ${input.message}
      FROM replicas WHERE id = ${input.replicaId}::uuid AND tenant_id = ${input.tenantId}::uuid`;
}
