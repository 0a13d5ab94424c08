import { committedReplica, getReplica, type Replica } from '@echelon/db';
import { DomainError, requireKnownIdShape } from '@echelon/domain';
import { actorOf, type RequestContext, tenantOf } from '../../context.js';

/** The innermost message of a workflow failure (the activity's own words). */
function failureMessage(error: unknown): string {
  let current: unknown = error;
  while ((current as { cause?: unknown } | null)?.cause instanceof Error) current = (current as { cause: Error }).cause;
  return current instanceof Error ? current.message : String(current);
}

/**
 * verifyReplica: checks one of the tenant's committed chunked copies now (its manifest and every chunk it names,
 * each read and verified) and returns the replica as the check left it: DEGRADED when it found damage (the repair
 * then runs on its own), unchanged when it found none. Another tenant's replica is NOT_FOUND; a copy that is not a
 * committed chunked one (in flight, failed, a whole object) is a CONFLICT that says what can be verified.
 */
export async function verifyReplica(context: RequestContext, replicaId: string): Promise<Replica> {
  const { tenant } = tenantOf(context);
  requireKnownIdShape(replicaId, 'replica');
  const replica = await getReplica(context.db, tenant.id, replicaId).catch(() => null);
  if (replica === null) throw new DomainError('NOT_FOUND', `replica ${replicaId} does not exist in this tenant`);
  if ((await committedReplica(context.db, tenant.id, replica.id)) === null) {
    throw new DomainError(
      'CONFLICT',
      replica.status === 'COMPLETED' || replica.status === 'DEGRADED'
        ? `replica ${replica.id} is a whole-object copy; verifyReplica checks chunked copies (a restore verifies a whole object)`
        : `replica ${replica.id} is ${replica.status}; only a COMPLETED or DEGRADED copy can be verified`,
      { status: replica.status },
    );
  }
  const checked = await context.backups
    .verifyReplica({ tenantId: tenant.id, replicaId: replica.id, actor: actorOf(context) })
    .catch((error: unknown) => {
      // The check's activity gave up (its storage did not answer through every retry): say so, not a stack.
      throw new DomainError(
        'STORAGE_UNAVAILABLE',
        `the check of replica ${replica.id} could not finish: ${failureMessage(error)}; try again once its storage answers`,
      );
    });
  const after = await getReplica(context.db, tenant.id, replica.id);
  if (after === null) throw new DomainError('NOT_FOUND', `replica ${replicaId} does not exist in this tenant`);
  // The state the check left: a repair that started meanwhile may already have moved the row on.
  return { ...after, status: checked.status as Replica['status'], lastError: checked.lastError };
}
