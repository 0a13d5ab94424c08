import {
  type ApiKeyWithIdentity,
  createApiKeyAudited,
  createIdentityAudited,
  findTenant,
  listIdentities,
  revokeApiKeyAudited,
  tenantIdOfIdentity,
  tenantIdOfApiKey,
} from '@echelon/db';
import { DomainError, requireKnownIdShape, validateExternalId, validateGroups, validateName } from '@echelon/domain';
import { actorOf, isPlatformAdmin, type RequestContext, type Role } from '../../context.js';
import { toIdentityView } from '../viewer/viewer.mappers.js';
import type { ApiKeyView } from './identities.types.js';
import type { CreateApiKeyInput, CreateIdentityInput } from './identities.inputs.js';

/**
 * The tenant an administrative call acts in: the caller's own, or — for a platform administrator only — the
 * one named by `tenantId`. A tenant that does not exist is NOT_FOUND.
 */
export async function targetTenantId(context: RequestContext, tenantId: string | null | undefined): Promise<string> {
  const principal = context.principal;
  if (principal === undefined) throw new DomainError('UNAUTHENTICATED', 'send Authorization: Bearer <API key>');
  if (tenantId !== null && tenantId !== undefined) {
    if (!isPlatformAdmin(context)) {
      if (principal.kind === 'identity' && principal.tenant.id === tenantId) return tenantId;
      throw new DomainError('FORBIDDEN', 'only a platform administrator names another tenant');
    }
    const tenant = await findTenant(context.db, tenantId).catch(() => null);
    if (tenant === null) throw new DomainError('NOT_FOUND', `tenant ${tenantId} does not exist`);
    return tenant.id;
  }
  if (principal.kind !== 'identity') {
    throw new DomainError('BAD_USER_INPUT', 'a platform credential has no tenant of its own: pass tenantId', {
      field: 'tenantId',
    });
  }
  return principal.tenant.id;
}

export async function createIdentity(
  context: RequestContext,
  input: CreateIdentityInput,
  tenantId: string | null | undefined,
) {
  const tenant = await targetTenantId(context, tenantId);
  if (input.roles.length === 0)
    throw new DomainError('BAD_USER_INPUT', 'an identity needs at least one role', { field: 'roles' });
  const roles = [...new Set(input.roles)] as Role[];
  if (roles.includes('PLATFORM_ADMIN') && !isPlatformAdmin(context)) {
    throw new DomainError('FORBIDDEN', 'only a platform administrator grants PLATFORM_ADMIN');
  }
  const identity = await createIdentityAudited(context.dbAs(tenant), actorOf(context), tenant, {
    externalId: validateExternalId(input.externalId),
    displayName: validateName(input.displayName, 'displayName'),
    roles,
    groups: validateGroups(input.groups ?? []),
  });
  return toIdentityView(identity);
}

export async function identities(context: RequestContext) {
  const tenant = await targetTenantId(context, undefined);
  return (await listIdentities(context.dbAs(tenant), tenant)).map(toIdentityView);
}

export const toApiKeyView = (key: ApiKeyWithIdentity): ApiKeyView => ({
  id: key.id,
  name: key.name,
  prefix: key.prefix,
  identity: toIdentityView(key.identity),
  createdAt: key.createdAt,
  revokedAt: key.revokedAt,
});

/** The tenant of an identity, for platform administrators acting without one of their own. */
async function tenantOfIdentity(context: RequestContext, identityId: string): Promise<string> {
  const principal = context.principal;
  if (principal?.kind === 'identity') return principal.tenant.id;
  const tenantId = await tenantIdOfIdentity(context.db, identityId).catch(() => null);
  if (tenantId === null) throw new DomainError('NOT_FOUND', `identity ${identityId} does not exist`);
  return tenantId;
}

export async function createApiKey(context: RequestContext, input: CreateApiKeyInput) {
  requireKnownIdShape(input.identityId, 'identity');
  const tenant = await tenantOfIdentity(context, input.identityId);
  const { apiKey, secret } = await createApiKeyAudited(context.dbAs(tenant), actorOf(context), tenant, {
    identityId: input.identityId,
    name: validateName(input.name, 'name'),
  });
  return { apiKey: toApiKeyView(apiKey), secret };
}

export async function revokeApiKey(context: RequestContext, id: string) {
  requireKnownIdShape(id, 'API key');
  const principal = context.principal;
  let tenant: string;
  if (principal?.kind === 'identity') tenant = principal.tenant.id;
  else {
    const keyTenant = await tenantIdOfApiKey(context.db, id).catch(() => null);
    if (keyTenant === null) throw new DomainError('NOT_FOUND', `API key ${id} does not exist`);
    tenant = keyTenant;
  }
  return toApiKeyView(await revokeApiKeyAudited(context.dbAs(tenant), actorOf(context), tenant, id));
}
