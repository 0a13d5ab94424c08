import { BytesScalar } from '../../scalars.js';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { StorageSystemView } from '../storage/storage.types.js';
import { IdentityView } from '../viewer/viewer.types.js';

export enum SecondaryOrderingEnum {
  CAPACITY = 'CAPACITY',
  FIXED = 'FIXED',
}
registerEnumType(SecondaryOrderingEnum, { name: 'SecondaryOrdering' });

@ObjectType('RetentionRules')
export class RetentionRulesView {
  @Field(() => Int, { nullable: true }) keepLast!: number | null;
  @Field(() => Int, { nullable: true }) keepWithinDays!: number | null;
  @Field(() => Int, { nullable: true }) keepDaily!: number | null;
  @Field(() => Int, { nullable: true }) keepWeekly!: number | null;
  @Field(() => Int, { nullable: true }) keepMonthly!: number | null;
}

/** One published version of a template; resolvers fill the storage systems from the tenant's cache. */
@ObjectType('PolicyTemplate')
export class PolicyTemplateView {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => Int) version!: number;
  @Field(() => Int, { description: 'total copies, primary included' }) copies!: number;
  @Field(() => Int, { description: 'a job with fewer verified copies than this fails' }) minCopies!: number;
  @Field(() => StorageSystemView) primary!: StorageSystemView;
  @Field(() => [StorageSystemView]) candidates!: StorageSystemView[];
  @Field(() => Int) delaySeconds!: number;
  @Field(() => SecondaryOrderingEnum) ordering!: SecondaryOrderingEnum;
  @Field(() => String, { nullable: true }) dataClass!: string | null;
  @Field(() => [Int], { description: 'every published version, oldest first' }) versions!: number[];
  @Field(() => RetentionRulesView, { nullable: true, description: 'null: every version is kept' })
  retention!: RetentionRulesView | null;
}

@ObjectType('PolicyAssignment')
export class PolicyAssignmentView {
  @Field(() => ID) id!: string;
  @Field(() => PolicyTemplateView) template!: PolicyTemplateView;
  @Field(() => IdentityView, { nullable: true, description: 'exactly one of identity, group, tenantDefault' })
  identity!: IdentityView | null;
  @Field(() => String, { nullable: true }) group!: string | null;
  @Field(() => Boolean) tenantDefault!: boolean;
  @Field(() => String, { nullable: true }) dataClass!: string | null;
}

@ObjectType('SkippedStorage')
export class SkippedStorageView {
  @Field(() => StorageSystemView) storageSystem!: StorageSystemView;
  @Field(() => String) reason!: string;
}

@ObjectType('BackupScheme')
export class BackupSchemeView {
  @Field(() => PolicyTemplateView) template!: PolicyTemplateView;
  @Field(() => Int) templateVersion!: number;
  @Field(() => String, { description: 'which assignment matched and why, in words' }) matchedBy!: string;
  @Field(() => Int) copies!: number;
  @Field(() => StorageSystemView) primary!: StorageSystemView;
  @Field(() => [StorageSystemView], { description: 'in the order they will be written' })
  secondaries!: StorageSystemView[];
  @Field(() => [SkippedStorageView]) skipped!: SkippedStorageView[];
  @Field(() => Int) delaySeconds!: number;
  @Field(() => [Int], { description: 'estimated start of each copy relative to T1, primary first' })
  plannedOffsetsSeconds!: number[];
  @Field(() => [BytesScalar], {
    nullable: 'items',
    description:
      'bytes each copy writes, primary first: a system that already holds chunks of the data (earlier versions) writes only what it lacks; null for schemes recorded before this was known',
  })
  bytesToWrite!: (number | null)[];
}
