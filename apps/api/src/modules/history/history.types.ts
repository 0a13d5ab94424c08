import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { DateTimeScalar } from '../../scalars.js';
import { PageInfoView, ReplicaEventView } from '../jobs/jobs.types.js';

@ObjectType('ReplicaEventEdge')
export class ReplicaEventEdgeView {
  @Field(() => String) cursor!: string;
  @Field(() => ReplicaEventView) node!: ReplicaEventView;
}

@ObjectType('ReplicaEventConnection')
export class ReplicaEventConnectionView {
  @Field(() => [ReplicaEventEdgeView]) edges!: ReplicaEventEdgeView[];
  @Field(() => PageInfoView) pageInfo!: PageInfoView;
}

@InputType('ReplicaHistoryFilter')
export class ReplicaHistoryFilter {
  @Field(() => String, { nullable: true }) datasetKey?: string | null;
  @Field(() => ID, { nullable: true }) identityId?: string | null;
  @Field(() => ID, { nullable: true }) storageSystemId?: string | null;
  @Field(() => ID, { nullable: true }) jobId?: string | null;
  @Field(() => DateTimeScalar, { nullable: true }) since?: Date | null;
  @Field(() => DateTimeScalar, { nullable: true }) until?: Date | null;
}
