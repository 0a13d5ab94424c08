import { historyWhere, replicaHistoryPage } from '@echelon/db';
import { DomainError, requireIdFilter, validateDatasetKey } from '@echelon/domain';
import { isMemberOnly } from '../../auth.js';
import { type RequestContext, tenantOf } from '../../context.js';
import { requestStorage, toEventView } from '../jobs/jobs.mappers.js';
import type { ReplicaEventConnectionView, ReplicaHistoryFilter } from './history.types.js';

export const encodeEventCursor = (id: bigint): string => Buffer.from(`event:${id}`, 'utf8').toString('base64url');

export function decodeEventCursor(cursor: string): bigint {
  const match = /^event:(\d{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (match?.[1] === undefined) {
    throw new DomainError(
      'BAD_USER_INPUT',
      `"${cursor.slice(0, 60)}" is not a cursor this API issued; pass an endCursor back`,
      {
        field: 'after',
      },
    );
  }
  return BigInt(match[1]);
}

/** The tenant's replica events, oldest first, filtered; a MEMBER sees its own identity's only. */
export async function replicaHistory(
  context: RequestContext,
  filter: ReplicaHistoryFilter | null | undefined,
  first: number,
  after: string | null | undefined,
): Promise<ReplicaEventConnectionView> {
  const { tenant, identity } = tenantOf(context);
  if (!Number.isInteger(first) || first < 1 || first > 1000) {
    throw new DomainError('BAD_USER_INPUT', `first must be between 1 and 1000, not ${first}`, { field: 'first' });
  }
  const scoped = filter ?? {};
  requireIdFilter(scoped.identityId, 'identityId');
  requireIdFilter(scoped.storageSystemId, 'storageSystemId');
  requireIdFilter(scoped.jobId, 'jobId');
  if (scoped.datasetKey !== null && scoped.datasetKey !== undefined) validateDatasetKey(scoped.datasetKey);
  if (scoped.since && scoped.until && scoped.since >= scoped.until) {
    throw new DomainError('BAD_USER_INPUT', 'since must be before until', { field: 'since' });
  }
  const where = historyWhere(tenant.id, scoped, isMemberOnly(identity.roles) ? identity.id : null);
  const page = await replicaHistoryPage(context.db, where, first, after ? decodeEventCursor(after) : null);
  const storage = requestStorage(context);
  const edges = page.events.map((event) => ({
    cursor: encodeEventCursor(event.id),
    node: toEventView(storage, event, event.replica),
  }));
  return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
}
