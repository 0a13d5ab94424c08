import { listDatasets } from '@echelon/db';
import { DomainError } from '@echelon/domain';
import { Authorized, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import { isMemberOnly } from '../../auth.js';
import { type RequestContext, tenantOf } from '../../context.js';
import { toJobView } from '../jobs/jobs.mappers.js';
import { findJob } from '../jobs/jobs.service.js';
import { BackupJobView } from '../jobs/jobs.types.js';
import { toIdentityView } from '../viewer/viewer.mappers.js';
import { DatasetVersionView, DatasetView } from './datasets.types.js';

@Resolver(() => DatasetVersionView)
export class DatasetsResolver {
  @Authorized('dataset:read')
  @Query(() => [DatasetView])
  async datasets(@Ctx() context: RequestContext): Promise<DatasetView[]> {
    const { tenant, identity } = tenantOf(context);
    const rows = await listDatasets(context.db, tenant.id, isMemberOnly(identity.roles) ? identity.id : null);
    return rows.map((dataset) => ({
      key: dataset.key,
      identity: toIdentityView(dataset.identity),
      versions: dataset.versions.flatMap((version) => {
        const job = version.jobs.at(-1);
        return job === undefined
          ? []
          : [
              {
                number: version.number,
                sizeBytes: Number(version.sizeBytes),
                checksum: version.sha256,
                createdAt: version.createdAt,
                jobId: job.id,
              } as DatasetVersionView,
            ];
      }),
    }));
  }

  @FieldResolver(() => BackupJobView)
  async job(@Ctx() context: RequestContext, @Root() version: DatasetVersionView): Promise<BackupJobView> {
    const job = await findJob(context, version.jobId);
    if (job === null) throw new DomainError('NOT_FOUND', `backup job ${version.jobId} does not exist in this tenant`);
    return toJobView(context, job);
  }
}
