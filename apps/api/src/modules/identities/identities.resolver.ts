import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../../context.js';
import { IdentityView } from '../viewer/viewer.types.js';
import { CreateApiKeyInput, CreateIdentityInput, UpdateIdentityInput } from './identities.inputs.js';
import {
  apiKeys,
  createApiKey,
  createIdentity,
  disableIdentity,
  identities,
  revokeApiKey,
  updateIdentity,
} from './identities.service.js';
import { ApiKeyView, CreatedApiKeyView } from './identities.types.js';

@Resolver(() => IdentityView)
export class IdentitiesResolver {
  @Authorized('identity:read')
  @Query(() => [IdentityView])
  identities(@Ctx() context: RequestContext): Promise<IdentityView[]> {
    return identities(context);
  }

  @Authorized('identity:read')
  @Query(() => [ApiKeyView], {
    description: "the tenant's API keys, revoked ones too (with revokedAt), newest first; one identity's if named",
  })
  apiKeys(
    @Ctx() context: RequestContext,
    @Arg('identityId', () => ID, { nullable: true }) identityId: string | null,
  ): Promise<ApiKeyView[]> {
    return apiKeys(context, identityId);
  }

  @Authorized('identity:write')
  @Mutation(() => IdentityView, { description: "changes an identity's display name, roles or groups" })
  updateIdentity(
    @Ctx() context: RequestContext,
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateIdentityInput) input: UpdateIdentityInput,
  ): Promise<IdentityView> {
    return updateIdentity(context, id, input);
  }

  @Authorized('identity:write', 'apikey:write')
  @Mutation(() => IdentityView, {
    description:
      "disables an identity's sign-in: revokes every API key it holds (and so its sessions); a new key re-enables it",
  })
  disableIdentity(@Ctx() context: RequestContext, @Arg('id', () => ID) id: string): Promise<IdentityView> {
    return disableIdentity(context, id);
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
