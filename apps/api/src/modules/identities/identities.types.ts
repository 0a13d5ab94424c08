import { Field, ID, ObjectType } from 'type-graphql';
import { DateTimeScalar } from '../../scalars.js';
import { IdentityView } from '../viewer/viewer.types.js';

@ObjectType('ApiKey')
export class ApiKeyView {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => String) prefix!: string;
  @Field(() => IdentityView) identity!: IdentityView;
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => DateTimeScalar, { nullable: true }) revokedAt!: Date | null;
}

@ObjectType('CreatedApiKey', { description: 'the secret is shown once, stored only as a hash' })
export class CreatedApiKeyView {
  @Field(() => ApiKeyView) apiKey!: ApiKeyView;
  @Field(() => String) secret!: string;
}
