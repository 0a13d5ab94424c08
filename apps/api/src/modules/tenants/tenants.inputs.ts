import { Field, InputType } from 'type-graphql';

@InputType('CreateTenantInput')
export class CreateTenantInput {
  @Field(() => String) slug!: string;
  @Field(() => String) name!: string;
}
