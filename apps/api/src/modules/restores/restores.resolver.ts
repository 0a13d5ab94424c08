import type { RestoreJobWithRelations } from '@echelon/db';
import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../../context.js';
import { requestStorage, type StorageLookup, toReplicaView } from '../jobs/jobs.mappers.js';
import { findRestoreJob, requestRestore } from './restores.service.js';
import { RequestRestoreInput, type RestoreJobStatusEnum, RestoreJobView } from './restores.types.js';

/** Where a completed restore's bytes are served (see restores.router.ts). */
export const restoreContentPath = (id: string): string => `/restores/${id}/content`;

function toRestoreJobView(
  context: RequestContext,
  storage: StorageLookup,
  job: RestoreJobWithRelations,
): RestoreJobView {
  return {
    id: job.id,
    datasetKey: job.datasetVersion.dataset.key,
    version: job.datasetVersion.number,
    status: job.status as RestoreJobStatusEnum,
    fromReplica: job.fromReplica === null ? null : toReplicaView(storage, job.fromReplica),
    downloadUrl:
      job.status === 'COMPLETED' ? `${context.config.publicApiUrl ?? ''}${restoreContentPath(job.id)}` : null,
    lastError: job.lastError,
    createdAt: job.createdAt,
    completedAt: job.completedAt,
  };
}

@Resolver(() => RestoreJobView)
export class RestoresResolver {
  @Authorized('restore:read')
  @Query(() => RestoreJobView, { nullable: true })
  async restoreJob(@Ctx() context: RequestContext, @Arg('id', () => ID) id: string): Promise<RestoreJobView | null> {
    const job = await findRestoreJob(context, id);
    return job === null ? null : toRestoreJobView(context, requestStorage(context), job);
  }

  @Authorized('restore:request')
  @Mutation(() => RestoreJobView)
  async requestRestore(
    @Ctx() context: RequestContext,
    @Arg('input', () => RequestRestoreInput) input: RequestRestoreInput,
  ): Promise<RestoreJobView> {
    return toRestoreJobView(context, requestStorage(context), await requestRestore(context, input));
  }
}
