import {
  datasetVersionIdOf,
  findDataset,
  liftLegalHoldAudited,
  listDatasets,
  listLegalHolds,
  placeLegalHoldAudited,
  templateGovernedVersions,
  versionProtection,
} from '@echelon/db';
import {
  DomainError,
  datasetCompliance,
  evaluateRetention,
  isUuid,
  validateDatasetKey,
  validateRetentionRules,
} from '@echelon/domain';
import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { isMemberOnly, maySeeOwnedBy } from '../../auth.js';
import { actorOf, type RequestContext, tenantOf } from '../../context.js';
import { Expensive } from '../../rate-limit.js';
import { requestStorage, toJobView } from '../jobs/jobs.mappers.js';
import { findJob } from '../jobs/jobs.service.js';
import { BackupJobView } from '../jobs/jobs.types.js';
import { toIdentityView } from '../viewer/viewer.mappers.js';
import { RetentionRulesInput } from '../policies/policies.inputs.js';
import {
  DatasetComplianceView,
  DatasetVersionView,
  DatasetView,
  LegalHoldView,
  RetentionPreviewView,
} from './datasets.types.js';

@Resolver(() => DatasetVersionView)
export class DatasetsResolver {
  @Authorized('dataset:read')
  @Query(() => [DatasetView])
  async datasets(@Ctx() context: RequestContext): Promise<DatasetView[]> {
    const { tenant, identity } = tenantOf(context);
    const rows = await listDatasets(context.db, tenant.id, isMemberOnly(identity.roles) ? identity.id : null);
    return rows.map((dataset) => ({
      datasetId: dataset.id,
      tenantId: dataset.tenantId,
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
    })) as DatasetView[];
  }

  @Authorized('dataset:read')
  @Query(() => [LegalHoldView], {
    description: "the tenant's legal holds, newest first (a MEMBER's: its own datasets')",
  })
  async legalHolds(@Ctx() context: RequestContext): Promise<LegalHoldView[]> {
    const { tenant, identity } = tenantOf(context);
    const holds = await listLegalHolds(context.db, tenant.id, isMemberOnly(identity.roles) ? identity.id : null);
    return holds.map((hold) => holdView(hold.version.dataset.key, hold.version.number, hold));
  }

  @Authorized('policy:read', 'dataset:read')
  // It reads every version of every dataset the template governs.
  @Expensive({ cost: 1000 })
  @Query(() => [RetentionPreviewView], {
    description:
      "what `retention` would keep and drop of every dataset the template governs (those whose newest version it backed up), before it is saved; held versions and each dataset's newest are always kept",
  })
  async previewRetention(
    @Ctx() context: RequestContext,
    @Arg('templateId', () => ID) templateId: string,
    @Arg('retention', () => RetentionRulesInput, { nullable: true, description: 'none: keep every version' })
    retention: RetentionRulesInput | null,
  ): Promise<RetentionPreviewView[]> {
    const { tenant, identity } = tenantOf(context);
    const rules = validateRetentionRules(retention);
    const versions = isUuid(templateId)
      ? await templateGovernedVersions(
          context.db,
          tenant.id,
          templateId,
          isMemberOnly(identity.roles) ? identity.id : null,
        )
      : null;
    if (versions === null) throw new DomainError('NOT_FOUND', `policy template ${templateId} does not exist`);
    const byDataset = new Map<string, typeof versions>();
    for (const version of versions) {
      const key = `${version.identityId}/${version.datasetKey}`;
      byDataset.set(key, [...(byDataset.get(key) ?? []), version]);
    }
    const now = new Date();
    return [...byDataset.values()].map((dataset) => {
      const decision = evaluateRetention(dataset, rules, now);
      const reasons = new Map(decision.kept.map((kept) => [kept.version.id, kept.reasons as string[]]));
      const first = dataset[0] as (typeof dataset)[number];
      return {
        datasetKey: first.datasetKey,
        identityId: first.identityId,
        droppedCount: decision.dropped.length,
        versions: dataset.map((version) => ({
          version: version.number,
          createdAt: version.createdAt,
          kept: reasons.has(version.id),
          held: version.isHeld,
          reasons: reasons.get(version.id) ?? [],
        })),
      };
    });
  }

  @Authorized('policy:write')
  @Mutation(() => LegalHoldView, {
    description: 'holds one dataset version: no retention rule drops it until the hold is lifted (audited)',
  })
  async placeLegalHold(
    @Ctx() context: RequestContext,
    @Arg('datasetKey', () => String) datasetKey: string,
    @Arg('version', () => Int) version: number,
    @Arg('reason', () => String) reason: string,
    @Arg('identityId', () => ID, { nullable: true, description: "whose dataset; defaults to the caller's" })
    identityId: string | null,
  ): Promise<LegalHoldView> {
    const { tenant } = tenantOf(context);
    const versionId = await heldVersionOf(context, datasetKey, version, identityId);
    const hold = await placeLegalHoldAudited(context.dbAs(tenant.id), actorOf(context), tenant.id, {
      versionId,
      reason,
    });
    return holdView(datasetKey, version, hold);
  }

  @Authorized('policy:write')
  @Mutation(() => LegalHoldView, { description: "lifts a version's legal hold (audited); answers the hold lifted" })
  async liftLegalHold(
    @Ctx() context: RequestContext,
    @Arg('datasetKey', () => String) datasetKey: string,
    @Arg('version', () => Int) version: number,
    @Arg('identityId', () => ID, { nullable: true, description: "whose dataset; defaults to the caller's" })
    identityId: string | null,
  ): Promise<LegalHoldView> {
    const { tenant } = tenantOf(context);
    const versionId = await heldVersionOf(context, datasetKey, version, identityId);
    const hold = await liftLegalHoldAudited(context.dbAs(tenant.id), actorOf(context), tenant.id, versionId);
    return holdView(datasetKey, version, hold);
  }

  @Authorized('dataset:read')
  @Query(() => DatasetComplianceView, {
    nullable: true,
    description: "one dataset's copies required vs achieved, newest verified copy and unprotected versions",
  })
  async datasetCompliance(
    @Ctx() context: RequestContext,
    @Arg('datasetKey', () => String) datasetKey: string,
    @Arg('identityId', () => ID, { nullable: true, description: "whose dataset; defaults to the caller's" })
    identityId: string | null,
  ): Promise<DatasetComplianceView | null> {
    const { tenant, identity } = tenantOf(context);
    validateDatasetKey(datasetKey);
    const owner = identityId ?? identity.id;
    if (!maySeeOwnedBy(identity, owner)) return null;
    if (!isUuid(owner)) return null;
    const dataset = await findDataset(context.db, { tenantId: tenant.id, identityId: owner }, datasetKey);
    if (dataset === null) return null;
    return datasetCompliance(await versionProtection(context.db, tenant.id, dataset.id), new Date());
  }

  @FieldResolver(() => BackupJobView)
  async job(@Ctx() context: RequestContext, @Root() version: DatasetVersionView): Promise<BackupJobView> {
    const job = await findJob(context, version.jobId);
    if (job === null) throw new DomainError('NOT_FOUND', `backup job ${version.jobId} does not exist in this tenant`);
    return toJobView(requestStorage(context), job);
  }
}

@Resolver(() => DatasetView)
export class DatasetComplianceResolver {
  @FieldResolver(() => DatasetComplianceView)
  async compliance(@Ctx() context: RequestContext, @Root() dataset: DatasetView): Promise<DatasetComplianceView> {
    return datasetCompliance(await versionProtection(context.db, dataset.tenantId, dataset.datasetId), new Date());
  }
}

const holdView = (
  datasetKey: string,
  version: number,
  hold: { reason: string; placedBy: string; placedAt: Date },
): LegalHoldView => ({ datasetKey, version, reason: hold.reason, placedBy: hold.placedBy, placedAt: hold.placedAt });

/** The id of a version of the caller's (or `identityId`'s) dataset: NOT_FOUND for anything not in the tenant. */
async function heldVersionOf(
  context: RequestContext,
  datasetKey: string,
  version: number,
  identityId: string | null,
): Promise<string> {
  const { tenant, identity } = tenantOf(context);
  validateDatasetKey(datasetKey);
  const owner = identityId ?? identity.id;
  const notFound = () =>
    new DomainError('NOT_FOUND', `version ${version} of dataset "${datasetKey}" does not exist in this tenant`);
  if (!isUuid(owner) || !Number.isSafeInteger(version) || version < 1) throw notFound();
  const dataset = await findDataset(context.db, { tenantId: tenant.id, identityId: owner }, datasetKey);
  const versionId = dataset === null ? null : await datasetVersionIdOf(context.db, tenant.id, dataset.id, version);
  if (versionId === null) throw notFound();
  return versionId;
}
