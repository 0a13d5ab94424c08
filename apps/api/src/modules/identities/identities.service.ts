import {
  type ApiKeyWithIdentity,
  createApiKeyAudited,
  createIdentityAudited,
  disableIdentityAudited,
  findIdentity,
  findTenant,
  type IdentityChanges,
  listApiKeys,
  listIdentities,
  revokeApiKeyAudited,
  updateIdentityAudited,
  tenantIdOfIdentity,
  tenantIdOfApiKey,
} from '@echelon/db';
import {
  DomainError,
  requireIdFilter,
  requireKnownIdShape,
  validateExternalId,
  validateGroups,
  validateName,
} from '@echelon/domain';
import { actorOf, isPlatformAdmin, type RequestContext, type Role } from '../../context.js';
import { toIdentityView } from '../viewer/viewer.mappers.js';
import type { ApiKeyView } from './identities.types.js';
import type { CreateApiKeyInput, CreateIdentityInput, UpdateIdentityInput } from './identities.inputs.js';

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

/** The roles as given, each once: at least one, and PLATFORM_ADMIN only from a platform administrator. */
function grantableRoles(context: RequestContext, requested: readonly string[]): Role[] {
  if (requested.length === 0)
    throw new DomainError('BAD_USER_INPUT', 'an identity needs at least one role', { field: 'roles' });
  const roles = [...new Set(requested)] as Role[];
  if (roles.includes('PLATFORM_ADMIN') && !isPlatformAdmin(context)) {
    throw new DomainError('FORBIDDEN', 'only a platform administrator grants PLATFORM_ADMIN');
  }
  return roles;
}

export async function createIdentity(
  context: RequestContext,
  input: CreateIdentityInput,
  tenantId: string | null | undefined,
) {
  const tenant = await targetTenantId(context, tenantId);
  const roles = grantableRoles(context, input.roles);
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

export async function apiKeys(context: RequestContext, identityId: string | null) {
  let tenant: string;
  if (identityId === null) tenant = await targetTenantId(context, undefined);
  else {
    requireIdFilter(identityId, 'identityId');
    tenant = await tenantOfIdentity(context, identityId);
    if ((await findIdentity(context.dbAs(tenant), tenant, identityId)) === null) {
      throw new DomainError('NOT_FOUND', `identity ${identityId} does not exist in this tenant`);
    }
  }
  return (await listApiKeys(context.dbAs(tenant), tenant, identityId ?? undefined)).map(toApiKeyView);
}

/** The caller's own identity, when it is the one being changed (a platform credential has none). */
const isOwnIdentity = (context: RequestContext, identityId: string): boolean =>
  context.principal?.kind === 'identity' && context.principal.identity.id === identityId;

export async function updateIdentity(context: RequestContext, id: string, input: UpdateIdentityInput) {
  requireKnownIdShape(id, 'identity');
  const changes: IdentityChanges = {};
  if (input.displayName !== null && input.displayName !== undefined) {
    changes.displayName = validateName(input.displayName, 'displayName');
  }
  if (input.roles !== null && input.roles !== undefined) changes.roles = grantableRoles(context, input.roles);
  if (input.groups !== null && input.groups !== undefined) changes.groups = validateGroups(input.groups);
  if (Object.keys(changes).length === 0) {
    throw new DomainError('BAD_USER_INPUT', 'nothing to change: give displayName, roles or groups', {
      field: 'input',
    });
  }
  const tenant = await tenantOfIdentity(context, id);
  const current = await findIdentity(context.dbAs(tenant), tenant, id);
  if (current === null) throw new DomainError('NOT_FOUND', `identity ${id} does not exist in this tenant`);
  if (changes.roles !== undefined && !isPlatformAdmin(context)) {
    if (current.roles.includes('PLATFORM_ADMIN') && !changes.roles.includes('PLATFORM_ADMIN')) {
      throw new DomainError('FORBIDDEN', 'only a platform administrator takes PLATFORM_ADMIN away');
    }
    // An administrator who takes away its own TENANT_ADMIN role could not give it back.
    if (isOwnIdentity(context, id) && !changes.roles.includes('TENANT_ADMIN')) {
      throw new DomainError(
        'BAD_USER_INPUT',
        'you cannot take the TENANT_ADMIN role from yourself; another tenant administrator can',
        { field: 'roles' },
      );
    }
  }
  return toIdentityView(await updateIdentityAudited(context.dbAs(tenant), actorOf(context), tenant, id, changes));
}

export async function disableIdentity(context: RequestContext, id: string) {
  requireKnownIdShape(id, 'identity');
  if (isOwnIdentity(context, id)) {
    throw new DomainError(
      'BAD_USER_INPUT',
      'you cannot disable the identity you are signed in as; another tenant administrator can',
    );
  }
  const tenant = await tenantOfIdentity(context, id);
  const { identity } = await disableIdentityAudited(context.dbAs(tenant), actorOf(context), tenant, id);
  return toIdentityView(identity);
}

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
