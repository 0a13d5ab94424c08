import { Authorized, Ctx, Query, Resolver } from 'type-graphql';
import { hasPermission, PERMISSIONS, type Permission } from '../../auth.js';
import { type RequestContext, rolesOf } from '../../context.js';
import { DomainError } from '../../errors.js';
import { toIdentityView, toTenantView } from './viewer.mappers.js';
import { RoleEnum, ViewerView } from './viewer.types.js';

@Resolver()
export class ViewerResolver {
  @Authorized('viewer:read')
  @Query(() => ViewerView)
  viewer(@Ctx() context: RequestContext): ViewerView {
    const principal = context.principal;
    if (principal === undefined) throw new DomainError('UNAUTHENTICATED', 'send Authorization: Bearer <API key>');
    const roles = rolesOf(principal);
    const permissions = (Object.keys(PERMISSIONS) as Permission[]).filter((permission) =>
      hasPermission(roles, permission),
    );
    if (principal.kind === 'bootstrap') {
      return {
        identity: {
          id: 'bootstrap',
          externalId: 'bootstrap',
          displayName: 'Bootstrap token',
          roles: [RoleEnum.PLATFORM_ADMIN],
          groups: [],
        },
        tenant: null,
        permissions,
      };
    }
    return { identity: toIdentityView(principal.identity), tenant: toTenantView(principal.tenant), permissions };
  }
}
