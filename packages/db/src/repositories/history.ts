import type { Db } from '../client.js';
import type { Prisma, Replica, ReplicaEvent } from '../generated/prisma/client.js';

export interface HistoryFilter {
  datasetKey?: string | null;
  identityId?: string | null;
  storageSystemId?: string | null;
  jobId?: string | null;
  since?: Date | null;
  until?: Date | null;
}

/** The where clause of a tenant's replica history; `onlyIdentityId` narrows it for MEMBER callers. */
export function historyWhere(
  tenantId: string,
  filter: HistoryFilter,
  onlyIdentityId: string | null,
): Prisma.ReplicaEventWhereInput {
  const job: Prisma.BackupJobWhereInput = {
    ...(filter.identityId ? { identityId: filter.identityId } : {}),
    ...(onlyIdentityId ? { identityId: onlyIdentityId } : {}),
    ...(filter.datasetKey ? { datasetVersion: { dataset: { key: filter.datasetKey } } } : {}),
  };
  return {
    tenantId,
    ...(filter.jobId ? { jobId: filter.jobId } : {}),
    ...(filter.storageSystemId ? { replica: { storageSystemId: filter.storageSystemId } } : {}),
    ...(filter.since || filter.until
      ? { at: { ...(filter.since ? { gte: filter.since } : {}), ...(filter.until ? { lt: filter.until } : {}) } }
      : {}),
    ...(Object.keys(job).length > 0 ? { job } : {}),
  };
}

/**
 * One page of history in the order events happened (by id). The cursor is the last id seen, so pages stay
 * stable while new events are inserted: they only ever append after the last page.
 */
export async function replicaHistoryPage(
  db: Db,
  where: Prisma.ReplicaEventWhereInput,
  first: number,
  afterId: bigint | null,
): Promise<{ events: (ReplicaEvent & { replica: Replica })[]; hasNextPage: boolean }> {
  const rows = await db.replicaEvent.findMany({
    where: afterId === null ? where : { AND: [where, { id: { gt: afterId } }] },
    include: { replica: true },
    orderBy: { id: 'asc' },
    take: first + 1,
  });
  return { events: rows.slice(0, first), hasNextPage: rows.length > first };
}

/** One batch of a tenant's audit entries after `afterId`, oldest first, for exports. */
export function auditEntriesBatch(
  db: Db,
  tenantId: string,
  filter: { since?: Date | null; until?: Date | null },
  afterId: bigint,
  take: number,
) {
  return db.auditEntry.findMany({
    where: {
      tenantId,
      id: { gt: afterId },
      ...(filter.since || filter.until
        ? { at: { ...(filter.since ? { gte: filter.since } : {}), ...(filter.until ? { lt: filter.until } : {}) } }
        : {}),
    },
    orderBy: { id: 'asc' },
    take,
  });
}

/** One batch of replica history after `afterId`, with the columns an export needs. */
export function historyBatch(db: Db, where: Prisma.ReplicaEventWhereInput, afterId: bigint, take: number) {
  return db.replicaEvent.findMany({
    where: { AND: [where, { id: { gt: afterId } }] },
    include: { replica: { select: { order: true, role: true, storageSystemId: true, spaceId: true } } },
    orderBy: { id: 'asc' },
    take,
  });
}

/** Per version of a dataset: the copies its latest job's scheme required and the copies verified. */
export async function versionProtection(db: Db, tenantId: string, datasetId: string) {
  const versions = await db.datasetVersion.findMany({
    where: { tenantId, datasetId },
    include: { jobs: { orderBy: { createdAt: 'desc' }, take: 1, include: { replicas: true } } },
    orderBy: { number: 'asc' },
  });
  return versions.map((version) => {
    const job = version.jobs[0];
    const completed = job?.replicas.filter((replica) => replica.status === 'COMPLETED') ?? [];
    const scheme = (job?.scheme ?? {}) as { copies?: number };
    let newest: Date | null = null;
    for (const replica of completed)
      if (replica.completedAt && (newest === null || replica.completedAt > newest)) newest = replica.completedAt;
    return {
      version: version.number,
      copiesRequired: typeof scheme.copies === 'number' ? scheme.copies : (job?.replicas.length ?? 0),
      copiesAchieved: completed.length,
      newestVerifiedAt: newest,
    };
  });
}
