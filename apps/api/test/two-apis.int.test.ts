import path from 'node:path';
import { generateApiSecret, legacyScryptHash, seedTenant } from '@echelon/db';
import {
  collect,
  freePort,
  gql,
  gqlOk,
  httpOk,
  randomData,
  startTestStack,
  startTsProcess,
  type TestStack,
  uploadBytes,
  waitFor,
  wsClient,
} from '@echelon/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Event {
  id: string;
  status: string;
  replica: { id: string };
}

describe('two API processes side by side (real stack)', () => {
  let env: TestStack;
  let secondUrl: string;
  let stopSecond: () => Promise<void>;

  beforeAll(async () => {
    env = await startTestStack();
    const port = await freePort();
    const second = startTsProcess('api-2', 'apps/api/src/main.ts', {
      env: { ...env.stack.childEnv, ECHELON_API_PORT: String(port) },
      log: () => undefined,
    });
    stopSecond = () => second.stop();
    secondUrl = `http://127.0.0.1:${port}`;
    await waitFor('the second API', httpOk(`${secondUrl}/health`), { timeoutMs: 120_000, exited: second.exited });
  }, 300_000);

  afterAll(async () => {
    await stopSecond?.();
    await env?.stop();
  }, 60_000);

  it('both deliver every event the worker produces, live, to their own subscribers', async () => {
    const tenant = await seedTenant(env.db, {
      slug: `two-apis-${Date.now()}`,
      name: 'Two APIs',
      storageRoot: path.join(env.dataDir, 'two-apis'),
      delaySeconds: 1,
      copies: 2,
      storage: [
        { name: 'a', spaces: [{ name: 's', capacityBytes: 1024 ** 3 }] },
        { name: 'b', spaces: [{ name: 's', capacityBytes: 1024 ** 3 }] },
      ],
    });
    // The job is requested through the second API; subscribers listen on both.
    const uploadId = await uploadBytes(secondUrl, tenant.apiKey, randomData(256 * 1024));
    const { requestBackup } = await gqlOk<{ requestBackup: { id: string; replicas: { id: string }[] } }>(
      secondUrl,
      tenant.apiKey,
      'mutation($input: RequestBackupInput!) { requestBackup(input: $input) { id replicas { id } } }',
      { input: { datasetKey: 'two/apis', uploadId } },
    );
    const done = (events: Event[]) =>
      requestBackup.replicas.every((replica) =>
        events.some((event) => event.replica.id === replica.id && event.status === 'COMPLETED'),
      );
    const subscribe = (url: string) => {
      const client = wsClient(url, tenant.apiKey);
      return collect<Event>(
        client,
        'subscription($jobId: ID!) { replicaProgress(jobId: $jobId) { id status replica { id } } }',
        { jobId: requestBackup.id },
        done,
        90_000,
      ).finally(() => client.dispose());
    };
    const [first, second] = await Promise.all([subscribe(env.apiUrl), subscribe(secondUrl)]);
    const stored = await env.db.replicaEvent.findMany({ where: { jobId: requestBackup.id }, orderBy: { id: 'asc' } });
    const expected = stored.map((event) => event.id.toString());
    expect(first.map((event) => event.id)).toEqual(expected.slice(0, first.length));
    expect(second.map((event) => event.id)).toEqual(expected.slice(0, second.length));
    expect(first.length).toBe(second.length);
  });

  it('refuses a revoked key at once on the other API too, though both keep signed-in keys', async () => {
    const tenant = await seedTenant(env.db, {
      slug: `two-apis-revoke-${Date.now()}`,
      name: 'Two APIs revoke',
      storageRoot: path.join(env.dataDir, 'two-apis-revoke'),
    });
    const { createApiKey } = await gqlOk<{ createApiKey: { secret: string; apiKey: { id: string } } }>(
      env.apiUrl,
      tenant.apiKey,
      'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id } } }',
      { input: { identityId: tenant.adminIdentityId, name: 'short-lived' } },
    );
    const viewer = '{ viewer { identity { id } } }';
    // Both processes have signed the key in, and keep it.
    for (const url of [env.apiUrl, secondUrl]) await gqlOk(url, createApiKey.secret, viewer);
    await gqlOk(env.apiUrl, tenant.apiKey, 'mutation($id: ID!) { revokeApiKey(id: $id) { id } }', {
      id: createApiKey.apiKey.id,
    });
    // The revoking process refuses it with its next request; the other as soon as the NOTIFY reaches it, far
    // sooner than the seconds it keeps a key.
    expect((await gql(env.apiUrl, createApiKey.secret, viewer)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const revokedAt = Date.now();
    for (;;) {
      const code = (await gql(secondUrl, createApiKey.secret, viewer)).errors?.[0]?.extensions?.code;
      if (code === 'UNAUTHENTICATED') break;
      expect(Date.now() - revokedAt, 'the second API still accepts a revoked key').toBeLessThan(2_000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });

  it('signs in keys stored as scrypt hashes and rewrites them as sha256 digests', async () => {
    const tenant = await seedTenant(env.db, {
      slug: `two-apis-legacy-${Date.now()}`,
      name: 'Two APIs legacy',
      storageRoot: path.join(env.dataDir, 'two-apis-legacy'),
    });
    const { secret, prefix } = generateApiSecret();
    const key = await env.db.apiKey.create({
      data: {
        tenantId: tenant.tenant.id,
        identityId: tenant.adminIdentityId,
        name: 'issued long ago',
        prefix,
        secretHash: await legacyScryptHash(secret),
      },
    });
    const { viewer } = await gqlOk<{ viewer: { identity: { id: string } } }>(
      secondUrl,
      secret,
      '{ viewer { identity { id } } }',
    );
    expect(viewer.identity.id).toBe(tenant.adminIdentityId);
    const stored = await env.db.apiKey.findUniqueOrThrow({ where: { id: key.id } });
    expect(stored.secretHash).toMatch(/^sha256\$[0-9a-f]{64}$/);
    // And it still signs in, now against the new form, on the other process too.
    await gqlOk(env.apiUrl, secret, '{ viewer { identity { id } } }');
  });
});
