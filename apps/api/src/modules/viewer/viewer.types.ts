import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar } from '../../scalars.js';

export enum RoleEnum {
  PLATFORM_ADMIN = 'PLATFORM_ADMIN',
  TENANT_ADMIN = 'TENANT_ADMIN',
  OPERATOR = 'OPERATOR',
  AUDITOR = 'AUDITOR',
  MEMBER = 'MEMBER',
}
registerEnumType(RoleEnum, { name: 'Role' });

@ObjectType('Tenant')
export class TenantView {
  @Field(() => ID) id!: string;
  @Field(() => String) slug!: string;
  @Field(() => String) name!: string;
  @Field(() => DateTimeScalar) createdAt!: Date;
}

@ObjectType('Identity')
export class IdentityView {
  @Field(() => ID) id!: string;
  @Field(() => String, { description: 'the identity identifier a terminal sends' }) externalId!: string;
  @Field(() => String) displayName!: string;
  @Field(() => [RoleEnum]) roles!: RoleEnum[];
  @Field(() => [String]) groups!: string[];
}

@ObjectType('Viewer')
export class ViewerView {
  @Field(() => IdentityView) identity!: IdentityView;
  @Field(() => TenantView, { nullable: true }) tenant!: TenantView | null;
  @Field(() => [String], {
    description: "the permissions the viewer's roles hold (e.g. policy:write): what a console may offer",
  })
  permissions!: string[];
}
