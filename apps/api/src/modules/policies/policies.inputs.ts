import { Field, ID, InputType, Int } from 'type-graphql';
import { SecondaryOrderingEnum } from './policies.types.js';

@InputType('CreatePolicyTemplateInput')
export class CreatePolicyTemplateInput {
  @Field(() => String) name!: string;
  @Field(() => Int) copies!: number;
  @Field(() => ID) primaryStorageSystemId!: string;
  @Field(() => [ID]) candidateStorageSystemIds!: string[];
  @Field(() => Int) delaySeconds!: number;
  @Field(() => SecondaryOrderingEnum, { nullable: true, defaultValue: SecondaryOrderingEnum.CAPACITY })
  ordering!: SecondaryOrderingEnum | null;
  @Field(() => String, { nullable: true }) dataClass?: string | null;
  @Field(() => Int, { nullable: true, defaultValue: 1, description: 'a job with fewer verified copies fails' })
  minCopies?: number | null;
}

@InputType('AssignPolicyInput')
export class AssignPolicyInput {
  @Field(() => ID) templateId!: string;
  @Field(() => ID, { nullable: true }) identityId?: string | null;
  @Field(() => String, { nullable: true }) group?: string | null;
  @Field(() => Boolean, { nullable: true }) tenantDefault?: boolean | null;
  @Field(() => String, { nullable: true }) dataClass?: string | null;
}
