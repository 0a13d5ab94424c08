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

@InputType('UpdateIdentityInput', { description: 'the fields to change; those left out stay as they are' })
export class UpdateIdentityInput {
  @Field(() => String, { nullable: true }) displayName?: string | null;
  @Field(() => [RoleEnum], { nullable: true, description: 'replaces the roles; at least one' })
  roles?: RoleEnum[] | null;
  @Field(() => [String], { nullable: true, description: 'replaces the groups; [] for none' })
  groups?: string[] | null;
}
