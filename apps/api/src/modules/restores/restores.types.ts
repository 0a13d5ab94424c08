import { Field, ID, Int, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { ReplicaView } from '../jobs/jobs.types.js';

export enum RestoreJobStatusEnum {
  PENDING = 'PENDING',
  RUNNING = 'RUNNING',
  COMPLETED = 'COMPLETED',
  FAILED = 'FAILED',
}
registerEnumType(RestoreJobStatusEnum, { name: 'RestoreJobStatus' });

@ObjectType('RestoreJob')
export class RestoreJobView {
  @Field(() => ID) id!: string;
  @Field(() => String) datasetKey!: string;
  @Field(() => Int) version!: number;
  @Field(() => RestoreJobStatusEnum) status!: RestoreJobStatusEnum;
  @Field(() => ReplicaView, { nullable: true, description: 'the copy whose bytes verified and are served' })
  fromReplica!: ReplicaView | null;
  @Field(() => String, {
    nullable: true,
    description: 'once COMPLETED: GET it with the same Authorization header for the restored bytes',
  })
  downloadUrl!: string | null;
  @Field(() => String, { nullable: true }) lastError!: string | null;
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date, { nullable: true }) completedAt!: Date | null;
}

@InputType('RequestRestoreInput')
export class RequestRestoreInput {
  @Field(() => String) datasetKey!: string;
  @Field(() => Int, { nullable: true, description: 'the newest version with a verified copy unless one is named' })
  version?: number | null;
  @Field(() => ID, { nullable: true, description: "whose data; defaults to the caller's identity" })
  identityId?: string | null;
}
