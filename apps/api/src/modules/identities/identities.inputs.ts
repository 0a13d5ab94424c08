import { Field, ID, InputType } from 'type-graphql';
import { RoleEnum } from '../viewer/viewer.types.js';

@InputType('CreateIdentityInput')
export class CreateIdentityInput {
  @Field(() => String) externalId!: string;
  @Field(() => String) displayName!: string;
  @Field(() => [RoleEnum]) roles!: RoleEnum[];
  @Field(() => [String], { nullable: true }) groups?: string[] | null;
}

@InputType('CreateApiKeyInput')
export class CreateApiKeyInput {
  @Field(() => ID) identityId!: string;
  @Field(() => String) name!: string;
}
