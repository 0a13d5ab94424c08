import { Field, ID, InputType, Int } from 'type-graphql';
import { SecondaryOrderingEnum } from './policies.types.js';

@InputType('RetentionRulesInput', {
  description: 'a version is kept when any rule keeps it; held and newest versions are always kept',
})
export class RetentionRulesInput {
  @Field(() => Int, { nullable: true, description: 'keep the newest N versions' }) keepLast?: number | null;
  @Field(() => Int, { nullable: true, description: 'keep versions created within D days' })
  keepWithinDays?: number | null;
  @Field(() => Int, { nullable: true, description: 'keep the newest version of each of the last N UTC days' })
  keepDaily?: number | null;
  @Field(() => Int, { nullable: true, description: 'keep the newest version of each of the last N ISO weeks' })
  keepWeekly?: number | null;
  @Field(() => Int, { nullable: true, description: 'keep the newest version of each of the last N UTC months' })
  keepMonthly?: number | null;
}

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
  @Field(() => RetentionRulesInput, { nullable: true, description: 'absent: keep every version' })
  retention?: RetentionRulesInput | null;
}

@InputType('AssignPolicyInput')
export class AssignPolicyInput {
  @Field(() => ID) templateId!: string;
  @Field(() => ID, { nullable: true }) identityId?: string | null;
  @Field(() => String, { nullable: true }) group?: string | null;
  @Field(() => Boolean, { nullable: true }) tenantDefault?: boolean | null;
  @Field(() => String, { nullable: true }) dataClass?: string | null;
}
