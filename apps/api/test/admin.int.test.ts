import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { collect, gql, gqlOk, startTestStack, type TestStack, wsClient } from '@echelon/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BOOTSTRAP = `bootstrap-${Date.now()}-secret`;
const MIB = 1024 * 1024;

const codeOf = (result: { errors?: { extensions?: { code?: string } }[] }) => result.errors?.[0]?.extensions?.code;

describe('administration through the contract (real stack)', () => {
  let env: TestStack;
  beforeAll(async () => {
    env = await startTestStack({ env: { ECHELON_BOOTSTRAP_TOKEN: BOOTSTRAP } });
  }, 240_000);
  afterAll(async () => {
    await env?.stop();
  }, 60_000);

  /** A tenant with a TENANT_ADMIN key, made the way an operator sets one up: with the bootstrap token. */
  async function newTenant(slug: string) {
    const { createTenant } = await gqlOk<{ createTenant: { id: string; slug: string } }>(
      env.apiUrl,
      BOOTSTRAP,
      'mutation($input: CreateTenantInput!) { createTenant(input: $input) { id slug name } }',
      { input: { slug, name: `Tenant ${slug}` } },
    );
    const { createIdentity } = await gqlOk<{ createIdentity: { id: string } }>(
      env.apiUrl,
      BOOTSTRAP,
      'mutation($input: CreateIdentityInput!, $tenantId: ID) { createIdentity(input: $input, tenantId: $tenantId) { id roles } }',
      { input: { externalId: 'root', displayName: 'Root admin', roles: ['TENANT_ADMIN'] }, tenantId: createTenant.id },
    );
    const { createApiKey } = await gqlOk<{ createApiKey: { secret: string; apiKey: { prefix: string } } }>(
      env.apiUrl,
      BOOTSTRAP,
      'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id prefix identity { externalId } } } }',
      { input: { identityId: createIdentity.id, name: 'setup' } },
    );
    expect(createApiKey.secret).toContain(createApiKey.apiKey.prefix);
    return { tenantId: createTenant.id, adminId: createIdentity.id, key: createApiKey.secret };
  }

  async function storage(key: string, name: string, capacityBytes: number) {
    const root = path.join(env.dataDir, 'storage', 'admin', `${name}-${Date.now()}`);
    const { createStorageSystem } = await gqlOk<{
      createStorageSystem: { id: string; healthy: boolean; capacityBytes: number };
    }>(
      env.apiUrl,
      key,
      'mutation($input: CreateStorageSystemInput!) { createStorageSystem(input: $input) { id name kind healthy capacityBytes remainingBytes spaces { name } } }',
      { input: { name, kind: 'FILESYSTEM', config: { root }, spaces: [{ name: 'main', capacityBytes }] } },
    );
    expect(createStorageSystem.healthy).toBe(true);
    expect(createStorageSystem.capacityBytes).toBe(capacityBytes);
    return createStorageSystem.id;
  }

  it('sets up a tenant end to end: identities, keys, storage, versioned templates, assignments, preview', async () => {
    const { tenantId, key } = await newTenant(`acme-${Date.now()}`);
    const tenants = await gqlOk<{ tenants: { id: string }[] }>(env.apiUrl, BOOTSTRAP, '{ tenants { id slug } }');
    expect(tenants.tenants.map((tenant) => tenant.id)).toContain(tenantId);
    expect(codeOf(await gql(env.apiUrl, key, '{ tenants { id } }'))).toBe('FORBIDDEN');

    const primary = await storage(key, 'ssd', 100 * MIB);
    const nas = await storage(key, 'nas', 500 * MIB);
    const ceph = await storage(key, 'ceph', 2000 * MIB);

    const createTemplate =
      'mutation($input: CreatePolicyTemplateInput!) { createPolicyTemplate(input: $input) { id version versions copies minCopies delaySeconds ordering primary { id } candidates { id } } }';
    const valid = {
      name: 'gold',
      copies: 3,
      primaryStorageSystemId: primary,
      candidateStorageSystemIds: [nas, ceph],
      delaySeconds: 60,
    };
    const refusals: [Record<string, unknown>, string, RegExp][] = [
      [{ copies: 0 }, 'BAD_USER_INPUT', /copies must be between 1 and 3/],
      [{ copies: 4 }, 'BAD_USER_INPUT', /copies must be between 1 and 3/],
      [
        { candidateStorageSystemIds: [primary, nas] },
        'BAD_USER_INPUT',
        /primary storage system cannot also be a candidate/,
      ],
      [{ delaySeconds: 31 * 24 * 3600 }, 'BAD_USER_INPUT', /delaySeconds must be between 0 and 2592000/],
      [{ delaySeconds: -1 }, 'BAD_USER_INPUT', /delaySeconds/],
      [{ candidateStorageSystemIds: ['9b0c7e4e-0000-4000-8000-000000000000'] }, 'NOT_FOUND', /does not exist/],
      [{ minCopies: 4 }, 'BAD_USER_INPUT', /minCopies must be between 1 and copies/],
      [{ name: '' }, 'BAD_USER_INPUT', /name must be 1–200 characters/],
    ];
    for (const [change, code, message] of refusals) {
      const result = await gql(env.apiUrl, key, createTemplate, { input: { ...valid, ...change } });
      expect(codeOf(result), JSON.stringify(change)).toBe(code);
      expect(result.errors?.[0]?.message).toMatch(message);
    }
    expect(await env.db.policyTemplate.count({ where: { tenantId } })).toBe(0);

    const { createPolicyTemplate: gold } = await gqlOk<{
      createPolicyTemplate: { id: string; version: number; versions: number[] };
    }>(env.apiUrl, key, createTemplate, { input: valid });
    expect(gold.version).toBe(1);
    const { updatePolicyTemplate } = await gqlOk<{
      updatePolicyTemplate: { version: number; versions: number[]; delaySeconds: number };
    }>(
      env.apiUrl,
      key,
      'mutation($id: ID!, $input: CreatePolicyTemplateInput!) { updatePolicyTemplate(id: $id, input: $input) { version versions delaySeconds } }',
      { id: gold.id, input: { ...valid, delaySeconds: 120 } },
    );
    expect(updatePolicyTemplate).toEqual({ version: 2, versions: [1, 2], delaySeconds: 120 });
    const first = await gqlOk<{ policyTemplate: { version: number; delaySeconds: number } }>(
      env.apiUrl,
      key,
      'query($id: ID!) { policyTemplate(id: $id, version: 1) { version delaySeconds } }',
      { id: gold.id },
    );
    expect(first.policyTemplate).toEqual({ version: 1, delaySeconds: 60 });

    // Assignments: exactly one target; identity > group > tenant default.
    const assign =
      'mutation($input: AssignPolicyInput!) { assignPolicy(input: $input) { id tenantDefault group identity { id } template { id } } }';
    expect(codeOf(await gql(env.apiUrl, key, assign, { input: { templateId: gold.id } }))).toBe('BAD_USER_INPUT');
    expect(
      codeOf(await gql(env.apiUrl, key, assign, { input: { templateId: gold.id, group: 'x', tenantDefault: true } })),
    ).toBe('BAD_USER_INPUT');
    await gqlOk(env.apiUrl, key, assign, { input: { templateId: gold.id, tenantDefault: true } });
    expect(codeOf(await gql(env.apiUrl, key, assign, { input: { templateId: gold.id, tenantDefault: true } }))).toBe(
      'CONFLICT',
    );
    const { createIdentity: member } = await gqlOk<{ createIdentity: { id: string } }>(
      env.apiUrl,
      key,
      'mutation($input: CreateIdentityInput!) { createIdentity(input: $input) { id } }',
      { input: { externalId: 'emp-42', displayName: 'Employee 42', roles: ['MEMBER'], groups: ['finance'] } },
    );
    const { createPolicyTemplate: silver } = await gqlOk<{ createPolicyTemplate: { id: string } }>(
      env.apiUrl,
      key,
      createTemplate,
      {
        input: { ...valid, name: 'silver', copies: 2, delaySeconds: 5, ordering: 'FIXED' },
      },
    );
    await gqlOk(env.apiUrl, key, assign, { input: { templateId: silver.id, group: 'finance' } });
    const preview = await gqlOk<{
      previewScheme: {
        matchedBy: string;
        template: { id: string };
        secondaries: { id: string }[];
        plannedOffsetsSeconds: number[];
      };
    }>(
      env.apiUrl,
      key,
      'query($input: PreviewSchemeInput!) { previewScheme(input: $input) { matchedBy template { id } secondaries { id } plannedOffsetsSeconds } }',
      { input: { identityId: member.id, sizeBytes: 10 * MIB } },
    );
    expect(preview.previewScheme.template.id).toBe(silver.id);
    expect(preview.previewScheme.matchedBy).toContain('group "finance"');
    expect(preview.previewScheme.secondaries.map((system) => system.id)).toEqual([nas]);
    expect(preview.previewScheme.plannedOffsetsSeconds).toEqual([0, 6]);
    const tooBig = await gql(
      env.apiUrl,
      key,
      'query($input: PreviewSchemeInput!) { previewScheme(input: $input) { copies } }',
      {
        input: { identityId: member.id, sizeBytes: 200 * MIB },
      },
    );
    expect(codeOf(tooBig)).toBe('INSUFFICIENT_CAPACITY');

    const assignments = await gqlOk<{ policyAssignments: { id: string }[] }>(
      env.apiUrl,
      key,
      '{ policyAssignments { id group tenantDefault } }',
    );
    expect(assignments.policyAssignments).toHaveLength(2);

    // Every change above left an audit entry, secrets excluded.
    const audit = await env.db.auditEntry.findMany({ where: { tenantId }, orderBy: { id: 'asc' } });
    expect(audit.map((entry) => entry.action)).toEqual([
      'tenant.create',
      'identity.create',
      'apiKey.create',
      'storageSystem.create',
      'storageSystem.create',
      'storageSystem.create',
      'policyTemplate.create',
      'policyTemplate.update',
      'policy.assign',
      'identity.create',
      'policyTemplate.create',
      'policy.assign',
    ]);
    expect(JSON.stringify(audit.map((entry) => [entry.before, entry.after]))).not.toMatch(/secret|scrypt\$/);
  });

  it('refuses bad storage and foreign or forbidden operations, changing nothing', async () => {
    const a = await newTenant(`alpha-${Date.now()}`);
    const b = await newTenant(`beta-${Date.now()}`);
    const createStorage = 'mutation($input: CreateStorageSystemInput!) { createStorageSystem(input: $input) { id } }';
    const spaces = [{ name: 'main', capacityBytes: MIB }];
    expect(
      codeOf(
        await gql(env.apiUrl, a.key, createStorage, {
          input: { name: 'rel', kind: 'FILESYSTEM', config: { root: 'relative/path' }, spaces },
        }),
      ),
    ).toBe('BAD_USER_INPUT');
    expect(
      codeOf(await gql(env.apiUrl, a.key, createStorage, { input: { name: 's3', kind: 'S3', config: {}, spaces } })),
    ).toBe('BAD_USER_INPUT');
    expect(
      codeOf(
        await gql(env.apiUrl, a.key, createStorage, {
          input: {
            name: 'neg',
            kind: 'FILESYSTEM',
            config: { root: '/tmp/x' },
            spaces: [{ name: 'main', capacityBytes: -5 }],
          },
        }),
      ),
    ).toBe('BAD_USER_INPUT');
    expect(
      codeOf(
        await gql(env.apiUrl, a.key, createStorage, {
          input: { name: 'none', kind: 'FILESYSTEM', config: { root: '/tmp/x' }, spaces: [] },
        }),
      ),
    ).toBe('BAD_USER_INPUT');
    // A root that cannot hold directories: the connection check fails and nothing is registered.
    const file = path.join(env.dataDir, 'storage', `not-a-dir-${Date.now()}`);
    await mkdir(path.dirname(file), { recursive: true });
    await import('node:fs/promises').then((fs) => fs.writeFile(file, 'x'));
    expect(
      codeOf(
        await gql(env.apiUrl, a.key, createStorage, {
          input: { name: 'broken', kind: 'FILESYSTEM', config: { root: file }, spaces },
        }),
      ),
    ).toBe('STORAGE_UNAVAILABLE');
    await storage(a.key, 'dup', MIB);
    const duplicate = await gql(env.apiUrl, a.key, createStorage, {
      input: {
        name: 'dup',
        kind: 'FILESYSTEM',
        config: { root: path.join(env.dataDir, 'storage', 'admin', 'dup-again') },
        spaces,
      },
    });
    expect(codeOf(duplicate)).toBe('CONFLICT');
    expect(await env.db.storageSystem.count({ where: { tenantId: a.tenantId } })).toBe(1);

    // B's objects are NOT_FOUND for A, and nothing of B changes.
    const bKey = await env.db.apiKey.findFirstOrThrow({ where: { tenantId: b.tenantId } });
    expect(
      codeOf(await gql(env.apiUrl, a.key, 'mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: bKey.id })),
    ).toBe('NOT_FOUND');
    expect(
      codeOf(
        await gql(
          env.apiUrl,
          a.key,
          'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }',
          { input: { identityId: b.adminId, name: 'steal' } },
        ),
      ),
    ).toBe('NOT_FOUND');
    expect(
      codeOf(
        await gql(
          env.apiUrl,
          a.key,
          'mutation($input: CreateIdentityInput!, $t: ID) { createIdentity(input: $input, tenantId: $t) { id } }',
          { input: { externalId: 'x', displayName: 'x', roles: ['MEMBER'] }, t: b.tenantId },
        ),
      ),
    ).toBe('FORBIDDEN');
    expect(
      codeOf(
        await gql(
          env.apiUrl,
          a.key,
          'mutation($input: CreateIdentityInput!) { createIdentity(input: $input) { id } }',
          { input: { externalId: 'boss', displayName: 'x', roles: ['PLATFORM_ADMIN'] } },
        ),
      ),
    ).toBe('FORBIDDEN');
    expect(await env.db.apiKey.findUniqueOrThrow({ where: { id: bKey.id } })).toMatchObject({ revokedAt: null });
    expect(await env.db.identity.count({ where: { tenantId: b.tenantId } })).toBe(1);

    // A MEMBER cannot administer.
    const { createIdentity: member } = await gqlOk<{ createIdentity: { id: string } }>(
      env.apiUrl,
      a.key,
      'mutation($input: CreateIdentityInput!) { createIdentity(input: $input) { id } }',
      {
        input: { externalId: 'member', displayName: 'Member', roles: ['MEMBER'] },
      },
    );
    const { createApiKey: memberKey } = await gqlOk<{ createApiKey: { secret: string; apiKey: { id: string } } }>(
      env.apiUrl,
      a.key,
      'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id } } }',
      {
        input: { identityId: member.id, name: 'member key' },
      },
    );
    expect(
      codeOf(
        await gql(env.apiUrl, memberKey.secret, createStorage, {
          input: { name: 'm', kind: 'FILESYSTEM', config: { root: '/tmp/m' }, spaces },
        }),
      ),
    ).toBe('FORBIDDEN');
    expect(codeOf(await gql(env.apiUrl, memberKey.secret, '{ identities { id } }'))).toBe('FORBIDDEN');

    // Revocation takes effect on the next request.
    const viewer = '{ viewer { identity { externalId } } }';
    expect(
      (await gqlOk<{ viewer: { identity: { externalId: string } } }>(env.apiUrl, memberKey.secret, viewer)).viewer
        .identity.externalId,
    ).toBe('member');
    await gqlOk(env.apiUrl, a.key, 'mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }', {
      id: memberKey.apiKey.id,
    });
    expect(codeOf(await gql(env.apiUrl, memberKey.secret, viewer))).toBe('UNAUTHENTICATED');
    expect(
      codeOf(
        await gql(env.apiUrl, a.key, 'mutation($id: ID!) { revokeApiKey(id: $id) { id } }', {
          id: memberKey.apiKey.id,
        }),
      ),
    ).toBe('CONFLICT');
  });

  it('closes the open graphql-ws connections of a revoked key at once', async () => {
    const a = await newTenant(`gamma-${Date.now()}`);
    const { createApiKey } = await gqlOk<{ createApiKey: { secret: string; apiKey: { id: string } } }>(
      env.apiUrl,
      a.key,
      'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id } } }',
      { input: { identityId: a.adminId, name: 'watcher' } },
    );
    const client = wsClient(env.apiUrl, createApiKey.secret);
    const closed = new Promise<{ code: number; reason: string }>((resolve) => {
      client.on('closed', (event) => resolve(event as { code: number; reason: string }));
    });
    const connected = new Promise<void>((resolve) => client.on('connected', () => resolve()));
    const subscription = collect(client, 'subscription { backupJobUpdated { id } }', {}, () => false, 60_000).catch(
      (error: unknown) => error,
    );
    await connected;
    await gqlOk(env.apiUrl, a.key, 'mutation($id: ID!) { revokeApiKey(id: $id) { id } }', {
      id: createApiKey.apiKey.id,
    });
    const event = await closed;
    expect(event.code).toBe(4403);
    expect(event.reason).toMatch(/revoked/);
    expect(await subscription).toBeDefined();
    await client.dispose();
  });
});
