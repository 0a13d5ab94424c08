import { gql, gqlOk, startTestStack, type TestStack } from '@echelon/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BOOTSTRAP = `bootstrap-${Date.now()}-identities`;

type GqlResult = { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
const codeOf = (result: GqlResult) => result.errors?.[0]?.extensions?.code;
const messageOf = (result: GqlResult) => result.errors?.[0]?.message ?? '';

const CREATE_IDENTITY =
  'mutation($input: CreateIdentityInput!, $tenantId: ID) { createIdentity(input: $input, tenantId: $tenantId) { id } }';
const CREATE_KEY =
  'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id name prefix } } }';
const API_KEYS =
  'query($identityId: ID) { apiKeys(identityId: $identityId) { id name prefix createdAt revokedAt identity { id externalId } } }';
const UPDATE_IDENTITY =
  'mutation($id: ID!, $input: UpdateIdentityInput!) { updateIdentity(id: $id, input: $input) { id displayName roles groups } }';
const DISABLE_IDENTITY = 'mutation($id: ID!) { disableIdentity(id: $id) { id externalId } }';
const IDENTITY_OF = '{ identities { id displayName roles groups } }';

interface ListedKey {
  id: string;
  name: string;
  prefix: string;
  revokedAt: string | null;
  identity: { id: string; externalId: string };
}

describe('identities and API keys administration (real stack)', () => {
  let env: TestStack;
  beforeAll(async () => {
    env = await startTestStack({ env: { ECHELON_BOOTSTRAP_TOKEN: BOOTSTRAP } });
  }, 240_000);
  afterAll(async () => {
    await env?.stop();
  }, 60_000);

  /** A tenant of its own with a TENANT_ADMIN and its key, set up with the bootstrap token. */
  async function newTenant(label: string) {
    const slug = `${label}-${Date.now()}`;
    const { createTenant } = await gqlOk<{ createTenant: { id: string } }>(
      env.apiUrl,
      BOOTSTRAP,
      'mutation($input: CreateTenantInput!) { createTenant(input: $input) { id } }',
      { input: { slug, name: `Tenant ${slug}` } },
    );
    const admin = await identity(BOOTSTRAP, 'root', ['TENANT_ADMIN'], createTenant.id);
    return { tenantId: createTenant.id, adminId: admin.id, adminKey: admin.secret };
  }

  /** An identity with `roles` and one key for it, created with `key`. */
  async function identity(key: string, externalId: string, roles: string[], tenantId?: string) {
    const { createIdentity } = await gqlOk<{ createIdentity: { id: string } }>(env.apiUrl, key, CREATE_IDENTITY, {
      input: { externalId, displayName: `${externalId} person`, roles },
      tenantId,
    });
    const { createApiKey } = await gqlOk<{ createApiKey: { secret: string; apiKey: { id: string } } }>(
      env.apiUrl,
      key,
      CREATE_KEY,
      { input: { identityId: createIdentity.id, name: `${externalId} laptop` } },
    );
    return { id: createIdentity.id, secret: createApiKey.secret, keyId: createApiKey.apiKey.id };
  }

  const keysOf = async (key: string, identityId?: string) =>
    (await gqlOk<{ apiKeys: ListedKey[] }>(env.apiUrl, key, API_KEYS, { identityId })).apiKeys;

  const auditActions = async (tenantId: string, objectId: string) =>
    (
      await env.db.auditEntry.findMany({
        where: { tenantId, objectId },
        orderBy: [{ at: 'asc' }, { id: 'asc' }],
        select: { action: true },
      })
    ).map((entry) => entry.action);

  it('lists the tenant’s keys, newest first, revoked ones with revokedAt, and never the secret', async () => {
    const a = await newTenant('keys');
    const worker = await identity(a.adminKey, 'worker-1', ['MEMBER']);
    const second = await gqlOk<{ createApiKey: { apiKey: { id: string } } }>(env.apiUrl, a.adminKey, CREATE_KEY, {
      input: { identityId: worker.id, name: 'spare' },
    });
    await gqlOk(env.apiUrl, a.adminKey, 'mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: worker.keyId });

    const all = await keysOf(a.adminKey);
    expect(all.map((key) => key.name)).toEqual(['spare', 'worker-1 laptop', 'root laptop']);
    expect(all.find((key) => key.id === worker.keyId)?.revokedAt).toEqual(expect.any(String));
    expect(all.find((key) => key.id === second.createApiKey.apiKey.id)?.revokedAt).toBeNull();
    expect(JSON.stringify(all)).not.toContain(worker.secret);

    const workers = await keysOf(a.adminKey, worker.id);
    expect(workers.map((key) => key.identity.externalId)).toEqual(['worker-1', 'worker-1']);

    // An auditor reads them; a MEMBER may not; another tenant's identity is NOT_FOUND there.
    const auditor = await identity(a.adminKey, 'auditor-1', ['AUDITOR']);
    expect((await keysOf(auditor.secret)).length).toBe(4);
    // The revoked key itself no longer signs in.
    expect(codeOf(await gql(env.apiUrl, worker.secret, API_KEYS, {}))).toBe('UNAUTHENTICATED');
    const member = await identity(a.adminKey, 'member-1', ['MEMBER']);
    expect(codeOf(await gql(env.apiUrl, member.secret, API_KEYS, {}))).toBe('FORBIDDEN');
    const b = await newTenant('keys-other');
    expect(codeOf(await gql(env.apiUrl, a.adminKey, API_KEYS, { identityId: b.adminId }))).toBe('NOT_FOUND');
    expect(codeOf(await gql(env.apiUrl, a.adminKey, API_KEYS, { identityId: 'not-an-id' }))).toBe('BAD_USER_INPUT');
    expect((await keysOf(b.adminKey)).map((key) => key.name)).toEqual(['root laptop']);
    // A platform administrator names the identity, and so the tenant.
    expect((await keysOf(BOOTSTRAP, b.adminId)).map((key) => key.name)).toEqual(['root laptop']);
  });

  it('updateIdentity changes roles, groups and name, audited; the new roles apply to the next request', async () => {
    const a = await newTenant('update');
    const person = await identity(a.adminKey, 'pat', ['MEMBER']);
    expect(codeOf(await gql(env.apiUrl, person.secret, IDENTITY_OF))).toBe('FORBIDDEN');

    const { updateIdentity } = await gqlOk<{ updateIdentity: { roles: string[]; groups: string[] } }>(
      env.apiUrl,
      a.adminKey,
      UPDATE_IDENTITY,
      {
        id: person.id,
        input: { roles: ['OPERATOR', 'OPERATOR'], groups: ['finance', 'laptops'], displayName: 'Pat O' },
      },
    );
    expect(updateIdentity).toMatchObject({ roles: ['OPERATOR'], groups: ['finance', 'laptops'], displayName: 'Pat O' });
    // Promoted: the same key now reads the identities.
    const seen = await gqlOk<{ identities: { id: string; roles: string[] }[] }>(env.apiUrl, person.secret, IDENTITY_OF);
    expect(seen.identities.find((entry) => entry.id === person.id)?.roles).toEqual(['OPERATOR']);
    // A field left out stays as it is.
    await gqlOk(env.apiUrl, a.adminKey, UPDATE_IDENTITY, { id: person.id, input: { groups: [] } });
    const after = await env.db.identity.findUniqueOrThrow({ where: { id: person.id } });
    expect(after).toMatchObject({ displayName: 'Pat O', roles: ['OPERATOR'], groups: [] });
    expect(await auditActions(a.tenantId, person.id)).toEqual([
      'identity.create',
      'identity.update',
      'identity.update',
    ]);
  });

  it('updateIdentity refuses bad input, foreign identities and self-lockout with a typed error, and changes nothing', async () => {
    const a = await newTenant('update-bad');
    const person = await identity(a.adminKey, 'sam', ['MEMBER']);
    const b = await newTenant('update-other');
    const refusals: [string, string, Record<string, unknown>, string, RegExp][] = [
      [a.adminKey, person.id, { roles: [] }, 'BAD_USER_INPUT', /at least one role/],
      [a.adminKey, person.id, {}, 'BAD_USER_INPUT', /nothing to change/],
      [a.adminKey, person.id, { displayName: '   ' }, 'BAD_USER_INPUT', /displayName/],
      [a.adminKey, person.id, { groups: ['has space'] }, 'BAD_USER_INPUT', /group/],
      [a.adminKey, person.id, { roles: ['PLATFORM_ADMIN'] }, 'FORBIDDEN', /platform administrator/],
      [a.adminKey, a.adminId, { roles: ['OPERATOR'] }, 'BAD_USER_INPUT', /TENANT_ADMIN role from yourself/],
      [a.adminKey, b.adminId, { displayName: 'taken over' }, 'NOT_FOUND', /does not exist/],
      [a.adminKey, 'nope', { displayName: 'x' }, 'NOT_FOUND', /identity nope does not exist/],
      [person.secret, person.id, { roles: ['TENANT_ADMIN'] }, 'FORBIDDEN', /identity:write/],
    ];
    const before = await env.db.identity.findMany({ where: { tenantId: { in: [a.tenantId, b.tenantId] } } });
    for (const [key, id, input, code, message] of refusals) {
      const result = await gql(env.apiUrl, key, UPDATE_IDENTITY, { id, input });
      expect(codeOf(result), JSON.stringify(input)).toBe(code);
      expect(messageOf(result)).toMatch(message);
    }
    const unchanged = await env.db.identity.findMany({ where: { tenantId: { in: [a.tenantId, b.tenantId] } } });
    expect(unchanged).toEqual(before);
    expect(await auditActions(a.tenantId, person.id)).toEqual(['identity.create']);
  });

  it('disableIdentity revokes every key of the identity at once; a new key lets it sign in again', async () => {
    const a = await newTenant('disable');
    const person = await identity(a.adminKey, 'leaver', ['OPERATOR']);
    const spare = await gqlOk<{ createApiKey: { secret: string } }>(env.apiUrl, a.adminKey, CREATE_KEY, {
      input: { identityId: person.id, name: 'spare' },
    });
    const other = await identity(a.adminKey, 'stayer', ['OPERATOR']);
    await gqlOk(env.apiUrl, person.secret, IDENTITY_OF);

    await gqlOk(env.apiUrl, a.adminKey, DISABLE_IDENTITY, { id: person.id });
    for (const secret of [person.secret, spare.createApiKey.secret]) {
      expect(codeOf(await gql(env.apiUrl, secret, IDENTITY_OF))).toBe('UNAUTHENTICATED');
    }
    expect((await keysOf(a.adminKey, person.id)).every((key) => key.revokedAt !== null)).toBe(true);
    // Nobody else loses access.
    await gqlOk(env.apiUrl, other.secret, IDENTITY_OF);
    expect(await auditActions(a.tenantId, person.id)).toEqual(['identity.create', 'identity.disable']);

    // Twice is a CONFLICT; oneself, another tenant's identity or a non-admin are refused; nothing changes.
    const b = await newTenant('disable-other');
    const refusals: [string, string, string, RegExp][] = [
      [a.adminKey, person.id, 'CONFLICT', /no active API key/],
      [a.adminKey, a.adminId, 'BAD_USER_INPUT', /signed in as/],
      [a.adminKey, b.adminId, 'NOT_FOUND', /does not exist/],
      [other.secret, a.adminId, 'FORBIDDEN', /identity:write/],
    ];
    for (const [key, id, code, message] of refusals) {
      const result = await gql(env.apiUrl, key, DISABLE_IDENTITY, { id });
      expect(codeOf(result), id).toBe(code);
      expect(messageOf(result)).toMatch(message);
    }
    await gqlOk(env.apiUrl, a.adminKey, IDENTITY_OF);
    await gqlOk(env.apiUrl, b.adminKey, IDENTITY_OF);

    const again = await gqlOk<{ createApiKey: { secret: string } }>(env.apiUrl, a.adminKey, CREATE_KEY, {
      input: { identityId: person.id, name: 'returned' },
    });
    await gqlOk(env.apiUrl, again.createApiKey.secret, IDENTITY_OF);
  });
});
