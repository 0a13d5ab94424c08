import { createTenantAudited, listTenants } from '@echelon/db';
import { validateName, validateSlug } from '@echelon/domain';
import { Arg, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { actorOf, type RequestContext } from '../../context.js';
import { toTenantView } from '../viewer/viewer.mappers.js';
import { TenantView } from '../viewer/viewer.types.js';
import { CreateTenantInput } from './tenants.inputs.js';

@Resolver(() => TenantView)
export class TenantsResolver {
  @Authorized('tenant:read')
  @Query(() => [TenantView])
  async tenants(@Ctx() context: RequestContext): Promise<TenantView[]> {
    return (await listTenants(context.db)).map(toTenantView);
  }

  @Authorized('tenant:create')
  @Mutation(() => TenantView)
  async createTenant(
    @Ctx() context: RequestContext,
    @Arg('input', () => CreateTenantInput) input: CreateTenantInput,
  ): Promise<TenantView> {
    const tenant = await createTenantAudited(context.db, actorOf(context), {
      slug: validateSlug(input.slug),
      name: validateName(input.name, 'name'),
    });
    return toTenantView(tenant);
  }
}
