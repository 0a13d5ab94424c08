import { restoreWorkflowIdFor } from '@echelon/domain';
import { randomUUID } from 'node:crypto';
import type { Db } from '../client.js';
import type { Prisma, RestoreJobStatus } from '../generated/prisma/client.js';

const RESTORE_INCLUDE = {
  datasetVersion: { include: { dataset: true } },
  fromReplica: true,
} as const;

export type RestoreJobWithRelations = Prisma.RestoreJobGetPayload<{ include: typeof RESTORE_INCLUDE }>;

/** A replica a restore may read: COMPLETED, with its checksum, its space and its storage system's health. */
export type RestoreSource = Prisma.ReplicaGetPayload<{ include: { space: true; storageSystem: true } }>;

export async function getRestoreJob(db: Db, tenantId: string, id: string): Promise<RestoreJobWithRelations | null> {
  return db.restoreJob.findFirst({ where: { id, tenantId }, include: RESTORE_INCLUDE });
}

/**
 * The version of `datasetId` a restore brings back: `number`, or the newest with a COMPLETED replica. Undefined
 * version: no such version; `restorable` false: it exists but no copy of it has been verified.
 */
export async function findRestorableVersion(
  db: Db,
  tenantId: string,
  datasetId: string,
  number: number | null,
): Promise<{ id: string; number: number; restorable: boolean } | undefined> {
  const completed = { some: { status: 'COMPLETED' as const, checksum: { not: null } } };
  if (number === null) {
    const newest = await db.datasetVersion.findFirst({
      where: { tenantId, datasetId, jobs: { some: { replicas: completed } } },
      orderBy: { number: 'desc' },
    });
    return newest === null ? undefined : { id: newest.id, number: newest.number, restorable: true };
  }
  const version = await db.datasetVersion.findFirst({ where: { tenantId, datasetId, number } });
  if (version === null) return undefined;
  const copies = await db.replica.count({
    where: { tenantId, status: 'COMPLETED', checksum: { not: null }, job: { datasetVersionId: version.id } },
  });
  return { id: version.id, number: version.number, restorable: copies > 0 };
}

export async function createRestoreJob(
  db: Db,
  tenantId: string,
  input: { identityId: string; requestedById: string; datasetVersionId: string },
): Promise<RestoreJobWithRelations> {
  const id = randomUUID();
  return db.restoreJob.create({
    data: { id, tenantId, ...input, workflowId: restoreWorkflowIdFor(tenantId, id) },
    include: RESTORE_INCLUDE,
  });
}

/** The verified copies of a version, each with the space and storage system it lives on. */
export async function restoreSources(db: Db, tenantId: string, datasetVersionId: string): Promise<RestoreSource[]> {
  return db.replica.findMany({
    where: {
      tenantId,
      status: 'COMPLETED',
      checksum: { not: null },
      objectKey: { not: null },
      job: { datasetVersionId },
    },
    include: { space: true, storageSystem: true },
  });
}

/** Moves a restore on; a finished restore (COMPLETED or FAILED) is never changed again. */
export async function updateRestoreJob(
  db: Db,
  tenantId: string,
  id: string,
  patch: { status: RestoreJobStatus; fromReplicaId?: string | null; lastError?: string | null; completedAt?: Date },
): Promise<boolean> {
  const { count } = await db.restoreJob.updateMany({
    where: { id, tenantId, status: { in: ['PENDING', 'RUNNING'] } },
    data: patch,
  });
  return count === 1;
}

/** Restores in every tenant whose workflow may never have been started (an API process starts them). */
export const pendingRestores = (db: Db): Promise<{ id: string; tenant_id: string }[]> =>
  db.$queryRaw`SELECT * FROM echelon_pending_restores()`;

/** An identity's dataset by key; null when it has none of that key. */
export async function findDataset(
  db: Db,
  owner: { tenantId: string; identityId: string },
  key: string,
): Promise<{ id: string; key: string } | null> {
  return db.dataset.findFirst({
    where: { tenantId: owner.tenantId, identityId: owner.identityId, key },
    select: { id: true, key: true },
  });
}
