import {
  createRestoreJob,
  findRestorableVersion,
  getRestoreJob,
  type RestoreJobWithRelations,
  findDataset,
} from '@echelon/db';
import { DomainError, isUuid, validateDatasetKey, validateVersionNumber } from '@echelon/domain';
import { maySeeOwnedBy } from '../../auth.js';
import { type RequestContext, tenantOf } from '../../context.js';
import { subjectIdentity } from '../jobs/jobs.service.js';
import type { RequestRestoreInput } from './restores.types.js';

/** Records a restore of one version and starts its workflow; nothing is written when the request is refused. */
export async function requestRestore(
  context: RequestContext,
  input: RequestRestoreInput,
): Promise<RestoreJobWithRelations> {
  const { tenant, identity: caller } = tenantOf(context);
  const datasetKey = validateDatasetKey(input.datasetKey);
  const version = input.version === null || input.version === undefined ? null : validateVersionNumber(input.version);
  const subject = await subjectIdentity(context, input.identityId);
  const dataset = await findDataset(context.db, { tenantId: tenant.id, identityId: subject.id }, datasetKey);
  if (dataset === null) throw new DomainError('NOT_FOUND', `dataset "${datasetKey}" does not exist for this identity`);
  const found = await findRestorableVersion(context.db, tenant.id, dataset.id, version);
  if (found === undefined) {
    throw new DomainError(
      'NOT_FOUND',
      version === null
        ? `dataset "${datasetKey}" has no version with a verified copy yet`
        : `dataset "${datasetKey}" has no version ${version}`,
    );
  }
  if (!found.restorable) {
    throw new DomainError('BAD_USER_INPUT', `version ${found.number} of "${datasetKey}" has no verified copy yet`, {
      field: 'version',
    });
  }
  const job = await createRestoreJob(context.db, tenant.id, {
    identityId: subject.id,
    requestedById: caller.id,
    datasetVersionId: found.id,
  });
  // A restore recorded while Temporal is unreachable starts when an API process starts.
  await context.backups.startRestore({ tenantId: tenant.id, restoreJobId: job.id });
  return job;
}

/** A restore job of the caller's tenant (a MEMBER's own only); null when there is none. */
export async function findRestoreJob(context: RequestContext, id: string): Promise<RestoreJobWithRelations | null> {
  const { tenant, identity } = tenantOf(context);
  if (!isUuid(id)) return null;
  const job = await getRestoreJob(context.db, tenant.id, id);
  if (job === null) return null;
  if (!maySeeOwnedBy(identity, job.identityId)) return null;
  return job;
}
