import { encodeJobCursor, type JobWithRelations } from '@echelon/db';
import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../context.js';
import { Expensive } from '../../rate-limit.js';
import { toSchemeView } from '../policies/policies.mappers.js';
import { BackupSchemeView } from '../policies/policies.types.js';
import { BackupJobFilter, PreviewSchemeInput, RequestBackupInput } from './jobs.inputs.js';
import { requestStorage, toJobView, toReplicaView } from './jobs.mappers.js';
import {
  cancelBackup,
  findJob,
  findJobs,
  previewScheme,
  replicateNow,
  requestBackup,
  retryReplica,
} from './jobs.service.js';
import { BackupJobConnectionView, BackupJobView, ReplicaView } from './jobs.types.js';
import type { ResolvedScheme } from '@echelon/domain';

@Resolver(() => BackupJobView)
export class JobsResolver {
  @Authorized('job:read')
  @Query(() => BackupJobView, { nullable: true })
  async backupJob(@Ctx() context: RequestContext, @Arg('id', () => ID) id: string): Promise<BackupJobView | null> {
    const job = await findJob(context, id);
    return job === null ? null : toJobView(requestStorage(context), job);
  }

  @Authorized('job:read')
  @Query(() => BackupJobConnectionView)
  async backupJobs(
    @Ctx() context: RequestContext,
    @Arg('filter', () => BackupJobFilter, { nullable: true }) filter: BackupJobFilter | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ): Promise<BackupJobConnectionView> {
    const page = await findJobs(context, filter, first ?? 50, after);
    const storage = requestStorage(context);
    const edges = page.jobs.map((job) => ({ cursor: encodeJobCursor(job), node: toJobView(storage, job) }));
    return {
      edges,
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
      totalCount: page.totalCount,
    };
  }

  @Authorized('scheme:preview')
  // Reads the assignments, templates and every candidate's capacity, as requestBackup does.
  @Expensive({ cost: 100 })
  @Query(() => BackupSchemeView)
  async previewScheme(
    @Ctx() context: RequestContext,
    @Arg('input', () => PreviewSchemeInput) input: PreviewSchemeInput,
  ): Promise<BackupSchemeView> {
    const { scheme, templateVersion } = await previewScheme(context, input);
    return toSchemeView(context, scheme, templateVersion);
  }

  @Authorized('job:request')
  @Mutation(() => BackupJobView)
  async requestBackup(
    @Ctx() context: RequestContext,
    @Arg('input', () => RequestBackupInput) input: RequestBackupInput,
  ): Promise<BackupJobView> {
    return toJobView(requestStorage(context), await requestBackup(context, input));
  }

  @Authorized('job:cancel')
  @Mutation(() => BackupJobView)
  async cancelBackup(@Ctx() context: RequestContext, @Arg('id', () => ID) id: string): Promise<BackupJobView> {
    return toJobView(requestStorage(context), await cancelBackup(context, id));
  }

  @Authorized('job:expedite')
  @Mutation(() => BackupJobView, { description: 'skip the remaining delays of a job' })
  async replicateNow(@Ctx() context: RequestContext, @Arg('id', () => ID) id: string): Promise<BackupJobView> {
    return toJobView(requestStorage(context), await replicateNow(context, id));
  }

  @Authorized('replica:retry')
  @Mutation(() => ReplicaView, { description: 'a FAILED replica, once the storage is fixed' })
  async retryReplica(@Ctx() context: RequestContext, @Arg('id', () => ID) id: string): Promise<ReplicaView> {
    return toReplicaView(requestStorage(context), await retryReplica(context, id));
  }

  @FieldResolver(() => BackupSchemeView)
  async scheme(@Ctx() context: RequestContext, @Root() job: BackupJobView): Promise<BackupSchemeView> {
    const row: JobWithRelations = job.row;
    return toSchemeView(context, row.scheme as unknown as ResolvedScheme, row.templateVersion);
  }
}
