import { Field, ID, Int, ObjectType } from 'type-graphql';
import { BytesScalar, DateTimeScalar } from '../../scalars.js';
import { BackupJobView } from '../jobs/jobs.types.js';
import { IdentityView } from '../viewer/viewer.types.js';

@ObjectType('DatasetVersion')
export class DatasetVersionView {
  @Field(() => Int) number!: number;
  @Field(() => BytesScalar) sizeBytes!: number;
  @Field(() => String) checksum!: string;
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => BackupJobView) job!: BackupJobView;

  /** The job that protects this version (the latest, when it was backed up again). */
  jobId!: string;
}

@ObjectType('DatasetCompliance', { description: "an auditor's view of one dataset's protection" })
export class DatasetComplianceView {
  @Field(() => Int, { nullable: true }) latestVersion!: number | null;
  @Field(() => Int, { description: "copies the latest version's scheme requires" }) copiesRequired!: number;
  @Field(() => Int, { description: 'verified copies of the latest version' }) copiesAchieved!: number;
  @Field(() => DateTimeScalar, { nullable: true }) newestVerifiedCopyAt!: Date | null;
  @Field(() => Int, { nullable: true }) newestVerifiedCopyAgeSeconds!: number | null;
  @Field(() => [Int], { description: 'versions with fewer verified copies than their scheme required' })
  versionsNotFullyProtected!: number[];
  @Field(() => Boolean) isCompliant!: boolean;
}

@ObjectType('Dataset')
export class DatasetView {
  @Field(() => String) key!: string;
  @Field(() => IdentityView) identity!: IdentityView;
  @Field(() => [DatasetVersionView]) versions!: DatasetVersionView[];
  @Field(() => DatasetComplianceView) compliance!: DatasetComplianceView;

  /** For the compliance field resolver. */
  datasetId!: string;
  tenantId!: string;
}

@ObjectType('LegalHold', { description: 'a hold on one dataset version: while it stands, no retention rule drops it' })
export class LegalHoldView {
  @Field(() => String) datasetKey!: string;
  @Field(() => Int) version!: number;
  @Field(() => String) reason!: string;
  @Field(() => String, { description: 'who placed it' }) placedBy!: string;
  @Field(() => DateTimeScalar) placedAt!: Date;
}

@ObjectType('RetentionPreviewVersion')
export class RetentionPreviewVersionView {
  @Field(() => Int) version!: number;
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => Boolean, { description: 'false: the rules would drop it at the next prune' }) kept!: boolean;
  @Field(() => Boolean) held!: boolean;
  @Field(() => [String], {
    description: 'why it is kept: LAST, WITHIN, DAILY, WEEKLY, MONTHLY, NEWEST, HELD, NO_RULES',
  })
  reasons!: string[];
}

@ObjectType('RetentionPreview', { description: "what a template's retention rules would keep of one dataset" })
export class RetentionPreviewView {
  @Field(() => String) datasetKey!: string;
  @Field(() => ID, { description: 'whose dataset' }) identityId!: string;
  @Field(() => [RetentionPreviewVersionView], { description: 'oldest first' }) versions!: RetentionPreviewVersionView[];
  @Field(() => Int) droppedCount!: number;
}
