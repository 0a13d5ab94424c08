import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../../context.js';
import { IdentityView } from '../viewer/viewer.types.js';
import { CreateApiKeyInput, CreateIdentityInput } from './identities.inputs.js';
import { createApiKey, createIdentity, identities, revokeApiKey } from './identities.service.js';
import { ApiKeyView, CreatedApiKeyView } from './identities.types.js';

@Resolver(() => IdentityView)
export class IdentitiesResolver {
  @Authorized('identity:read')
  @Query(() => [IdentityView])
  identities(@Ctx() context: RequestContext): Promise<IdentityView[]> {
    return identities(context);
  }

  @Authorized('identity:write')
  @Mutation(() => IdentityView)
  createIdentity(
    @Ctx() context: RequestContext,
    @Arg('input', () => CreateIdentityInput) input: CreateIdentityInput,
    @Arg('tenantId', () => ID, { nullable: true, description: 'PLATFORM_ADMIN only' }) tenantId: string | null,
  ): Promise<IdentityView> {
    return createIdentity(context, input, tenantId);
  }

  @Authorized('apikey:write')
  @Mutation(() => CreatedApiKeyView)
  createApiKey(
    @Ctx() context: RequestContext,
    @Arg('input', () => CreateApiKeyInput) input: CreateApiKeyInput,
  ): Promise<CreatedApiKeyView> {
    return createApiKey(context, input);
  }

  @Authorized('apikey:write')
  @Mutation(() => ApiKeyView)
  revokeApiKey(@Ctx() context: RequestContext, @Arg('id', () => ID) id: string): Promise<ApiKeyView> {
    return revokeApiKey(context, id);
  }
}
