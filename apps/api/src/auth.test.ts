import { getMetadataStorage } from 'type-graphql';
import { describe, expect, it } from 'vitest';
import { hasPermission, isMemberOnly, maySeeOwnedBy, PERMISSIONS, type Permission } from './auth.js';
import { buildEchelonSchema } from './schema.js';

describe('authorization rules', () => {
  it('guard every root field (query, mutation, subscription) with an explicit permission', async () => {
    await buildEchelonSchema();
    const storage = getMetadataStorage();
    const roots = [...storage.queries, ...storage.mutations, ...storage.subscriptions];
    expect(roots.length).toBeGreaterThan(20);
    const unguarded = roots
      .filter((root) => {
        const rule = storage.authorizedFields.find(
          (field) => field.target === root.target && field.fieldName === root.methodName,
        );
        return rule === undefined || rule.roles.length === 0 || !rule.roles.every((role) => role in PERMISSIONS);
      })
      .map((root) => root.schemaName);
    expect(unguarded).toEqual([]);
  });

  it('give platform, tenant-admin, operator, auditor and member roles what the product says', () => {
    const can = (role: Parameters<typeof hasPermission>[0][number], permission: Permission) =>
      hasPermission([role], permission);
    expect(can('PLATFORM_ADMIN', 'tenant:create')).toBe(true);
    expect(can('TENANT_ADMIN', 'tenant:create')).toBe(false);
    expect(can('TENANT_ADMIN', 'policy:write')).toBe(true);
    expect(can('OPERATOR', 'policy:write')).toBe(false);
    expect(can('OPERATOR', 'job:cancel')).toBe(true);
    expect(can('AUDITOR', 'job:read')).toBe(true);
    expect(can('AUDITOR', 'job:request')).toBe(false);
    expect(can('AUDITOR', 'job:cancel')).toBe(false);
    expect(can('MEMBER', 'identity:read')).toBe(false);
    expect(can('OPERATOR', 'replica:verify')).toBe(true);
    expect(can('TENANT_ADMIN', 'replica:verify')).toBe(true);
    expect(can('MEMBER', 'replica:verify')).toBe(false);
    expect(can('AUDITOR', 'replica:verify')).toBe(false);
    expect(isMemberOnly(['MEMBER'])).toBe(true);
    expect(isMemberOnly(['MEMBER', 'OPERATOR'])).toBe(false);
    // A MEMBER sees its own identity's data only; any other tenant role sees everyone's.
    expect(maySeeOwnedBy({ id: 'me', roles: ['MEMBER'] }, 'me')).toBe(true);
    expect(maySeeOwnedBy({ id: 'me', roles: ['MEMBER'] }, 'other')).toBe(false);
    expect(maySeeOwnedBy({ id: 'me', roles: ['MEMBER', 'AUDITOR'] }, 'other')).toBe(true);
  });
});
