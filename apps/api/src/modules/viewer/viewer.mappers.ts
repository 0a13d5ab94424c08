import type { Identity, Tenant } from '@echelon/db';
import type { IdentityView, RoleEnum, TenantView } from './viewer.types.js';

export const toIdentityView = (identity: Identity): IdentityView => ({
  id: identity.id,
  externalId: identity.externalId,
  displayName: identity.displayName,
  roles: identity.roles as RoleEnum[],
  groups: identity.groups,
});

export const toTenantView = (tenant: Tenant): TenantView => ({
  id: tenant.id,
  slug: tenant.slug,
  name: tenant.name,
  createdAt: tenant.createdAt,
});
