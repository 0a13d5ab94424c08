import type { JobWithRelations, Replica } from '@echelon/db';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { BytesScalar, DateTimeScalar } from '../../scalars.js';
import { BackupSchemeView } from '../policies/policies.types.js';
import { BackupSpaceView, StorageSystemView } from '../storage/storage.types.js';
import { IdentityView } from '../viewer/viewer.types.js';

export enum ReplicaRoleEnum {
  PRIMARY = 'PRIMARY',
  SECONDARY = 'SECONDARY',
}
registerEnumType(ReplicaRoleEnum, { name: 'ReplicaRole' });

export enum ReplicaStatusEnum {
  PLANNED = 'PLANNED',
  WAITING = 'WAITING',
  COPYING = 'COPYING',
  VERIFYING = 'VERIFYING',
  COMPLETED = 'COMPLETED',
  FAILED = 'FAILED',
  SKIPPED = 'SKIPPED',
  CANCELLED = 'CANCELLED',
  DEGRADED = 'DEGRADED',
}
registerEnumType(ReplicaStatusEnum, {
  name: 'ReplicaStatus',
  valuesConfig: {
    DEGRADED: {
      description:
        'verified once, then found damaged by a scrub or verifyReplica; not a verified copy until repaired, but restores still read its good chunks',
    },
  },
});

export enum BackupJobStatusEnum {
  PENDING = 'PENDING',
  RUNNING = 'RUNNING',
  COMPLETED = 'COMPLETED',
  PARTIAL = 'PARTIAL',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}
registerEnumType(BackupJobStatusEnum, { name: 'BackupJobStatus' });

@ObjectType('Replica')
export class ReplicaView {
  @Field(() => ID) id!: string;
  @Field(() => ReplicaRoleEnum) role!: ReplicaRoleEnum;
  @Field(() => Int, { description: '0 = primary, 1.. = secondaries in write order' }) order!: number;
  /** Promises: read only when selected (see toReplicaView). */
  @Field(() => StorageSystemView) storageSystem!: Promise<StorageSystemView>;
  @Field(() => BackupSpaceView, { nullable: true }) space!: Promise<BackupSpaceView | null>;
  @Field(() => ReplicaStatusEnum) status!: ReplicaStatusEnum;
  @Field(() => DateTimeScalar, { nullable: true }) scheduledAt!: Date | null;
  @Field(() => DateTimeScalar, { nullable: true }) startedAt!: Date | null;
  @Field(() => DateTimeScalar, { nullable: true }) completedAt!: Date | null;
  @Field(() => BytesScalar) bytesTotal!: number;
  @Field(() => BytesScalar) bytesCopied!: number;
  @Field(() => String, { nullable: true, description: 'sha256 of the dataset version, hex, once verified' })
  checksum!: string | null;
  @Field(() => Int) attempts!: number;
  @Field(() => String, { nullable: true }) lastError!: string | null;

  /** The row behind the view, for field resolvers. */
  row!: Replica;
}

@ObjectType('BackupJob')
export class BackupJobView {
  @Field(() => ID) id!: string;
  @Field(() => String) datasetKey!: string;
  @Field(() => Int) version!: number;
  @Field(() => IdentityView) identity!: IdentityView;
  @Field(() => BackupJobStatusEnum) status!: BackupJobStatusEnum;
  @Field(() => String, { nullable: true, description: 'why the job ended FAILED, PARTIAL or CANCELLED, in words' })
  statusReason!: string | null;
  @Field(() => BackupSchemeView) scheme!: BackupSchemeView;
  @Field(() => [ReplicaView]) replicas!: ReplicaView[];
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => DateTimeScalar, { nullable: true }) completedAt!: Date | null;

  row!: JobWithRelations;
}

@ObjectType('ReplicaEvent')
export class ReplicaEventView {
  @Field(() => ID, { description: 'increases monotonically; pass it back as afterEventId to resume' }) id!: string;
  @Field(() => DateTimeScalar) at!: Date;
  @Field(() => ID) jobId!: string;
  @Field(() => ReplicaView) replica!: ReplicaView;
  @Field(() => ReplicaStatusEnum) status!: ReplicaStatusEnum;
  @Field(() => BytesScalar) bytesCopied!: number;
  @Field(() => String, { nullable: true }) message!: string | null;
}

@ObjectType('PageInfo')
export class PageInfoView {
  @Field(() => Boolean) hasNextPage!: boolean;
  @Field(() => String, { nullable: true }) endCursor!: string | null;
}

@ObjectType('BackupJobEdge')
export class BackupJobEdgeView {
  @Field(() => String) cursor!: string;
  @Field(() => BackupJobView) node!: BackupJobView;
}

@ObjectType('BackupJobConnection')
export class BackupJobConnectionView {
  @Field(() => [BackupJobEdgeView]) edges!: BackupJobEdgeView[];
  @Field(() => PageInfoView) pageInfo!: PageInfoView;
  @Field(() => Int) totalCount!: number;
}
