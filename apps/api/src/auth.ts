import type { AuthChecker } from 'type-graphql';
import { DomainError } from '@echelon/domain';
import { type RequestContext, type Role, rolesOf } from './context.js';

/** Typed permissions, checked on every root field through `@Authorized(...)`. */
export type Permission =
  | 'viewer:read'
  | 'storage:read'
  | 'policy:read'
  | 'scheme:preview'
  | 'job:read'
  | 'job:request'
  | 'job:cancel'
  | 'job:expedite'
  | 'replica:retry'
  | 'replica:verify'
  | 'tenant:read'
  | 'tenant:create'
  | 'identity:read'
  | 'identity:write'
  | 'apikey:write'
  | 'storage:write'
  | 'policy:write'
  | 'dataset:read'
  | 'audit:verify'
  | 'restore:read'
  | 'restore:request'
  | 'chunk:write';

const TENANT_ROLES: readonly Role[] = ['TENANT_ADMIN', 'OPERATOR', 'AUDITOR', 'MEMBER'];

/** Which roles hold which permission. MEMBER's reads are narrowed to its own identity by the services. */
export const PERMISSIONS: Record<Permission, readonly Role[]> = {
  'viewer:read': ['PLATFORM_ADMIN', ...TENANT_ROLES],
  'storage:read': TENANT_ROLES,
  'policy:read': TENANT_ROLES,
  'scheme:preview': ['TENANT_ADMIN', 'OPERATOR', 'MEMBER'],
  'job:read': TENANT_ROLES,
  'job:request': ['TENANT_ADMIN', 'OPERATOR', 'MEMBER'],
  'job:cancel': ['TENANT_ADMIN', 'OPERATOR', 'MEMBER'],
  'job:expedite': ['TENANT_ADMIN', 'OPERATOR', 'MEMBER'],
  'replica:retry': ['TENANT_ADMIN', 'OPERATOR', 'MEMBER'],
  // Reads a whole copy back from its storage on demand: the people who run the storage, not every member.
  'replica:verify': ['TENANT_ADMIN', 'OPERATOR'],
  'tenant:read': ['PLATFORM_ADMIN'],
  'tenant:create': ['PLATFORM_ADMIN'],
  'identity:read': ['PLATFORM_ADMIN', 'TENANT_ADMIN', 'OPERATOR', 'AUDITOR'],
  'identity:write': ['PLATFORM_ADMIN', 'TENANT_ADMIN'],
  'apikey:write': ['PLATFORM_ADMIN', 'TENANT_ADMIN'],
  'storage:write': ['TENANT_ADMIN'],
  'policy:write': ['TENANT_ADMIN'],
  'dataset:read': TENANT_ROLES,
  'audit:verify': ['TENANT_ADMIN', 'AUDITOR'],
  'restore:read': TENANT_ROLES,
  'restore:request': ['TENANT_ADMIN', 'OPERATOR', 'MEMBER'],
  // Sending data in, as tus uploads do (job:request): asking which chunks are missing and storing them.
  'chunk:write': ['TENANT_ADMIN', 'OPERATOR', 'MEMBER'],
};

export const hasPermission = (roles: readonly Role[], permission: Permission): boolean =>
  roles.some((role) => PERMISSIONS[permission].includes(role));

/** Unauthenticated callers get UNAUTHENTICATED; authenticated ones without the permission get FORBIDDEN. */
export const authChecker: AuthChecker<RequestContext, Permission> = ({ context }, permissions) => {
  const principal = context.principal;
  if (principal === undefined) {
    throw new DomainError(
      'UNAUTHENTICATED',
      'send Authorization: Bearer <API key> (or connectionParams.authorization over WebSocket)',
    );
  }
  const roles = rolesOf(principal);
  const missing = permissions.filter((permission) => !hasPermission(roles, permission));
  if (missing.length > 0) {
    throw new DomainError('FORBIDDEN', `your roles (${roles.join(', ') || 'none'}) do not allow ${missing.join(', ')}`);
  }
  return true;
};

/** MEMBER sees and acts on its own identity's data only. */
export const isMemberOnly = (roles: readonly Role[]): boolean =>
  !roles.some(
    (role) => role === 'TENANT_ADMIN' || role === 'OPERATOR' || role === 'AUDITOR' || role === 'PLATFORM_ADMIN',
  );

/** Whether `identity` may see or act on data that belongs to identity `ownerId`: its own, or any if not a MEMBER. */
export const maySeeOwnedBy = (identity: { id: string; roles: readonly Role[] }, ownerId: string): boolean =>
  !isMemberOnly(identity.roles) || ownerId === identity.id;
