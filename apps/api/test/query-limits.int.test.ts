import { type SeededTenant } from '@echelon/db';
import {
  backUpAndWait,
  gqlOk,
  insertJobRows,
  randomData,
  seedTwoCopyTenant,
  startTestStack,
  type TestStack,
  wsClient,
} from '@echelon/stack';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATTACK } from './budget-probes.js';
import { print } from 'graphql';
import * as UI from '../../web/lib/operations.js';

// The console's typed documents, as the text it sends.
const { JOBS_PAGE_SIZE } = UI;
const BACKUP_JOB_QUERY = print(UI.BACKUP_JOB_QUERY);
const BACKUP_JOBS_QUERY = print(UI.BACKUP_JOBS_QUERY);
const IDENTITIES_QUERY = print(UI.IDENTITIES_QUERY);
const STORAGE_SYSTEMS_QUERY = print(UI.STORAGE_SYSTEMS_QUERY);
const VIEWER_QUERY = print(UI.VIEWER_QUERY);

/**
 * The request budget against the real stack: the probes of issue 10 (a 14 KB query of 50 nested pages of 500
 * jobs, 1000 aliases of verifyAuditChain) refused before any work, the UI's queries answered, expensive fields
 * limited per API key, introspection as configured and no stack trace in any answer.
 */

interface Answer {
  status: number;
  ms: number;
  text: string;
  body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  };
}

async function post(env: TestStack, apiKey: string | undefined, query: string, variables = {}): Promise<Answer> {
  const started = performance.now();
  const response = await fetch(`${env.apiUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  return { status: response.status, ms: performance.now() - started, text, body: JSON.parse(text) };
}

/** The median of `runs` measurements: one slow run on a busy two-core machine does not decide. */
async function median(runs: number, measure: () => Promise<number>): Promise<{ median: number; all: number[] }> {
  const all: number[] = [];
  for (let run = 0; run < runs; run++) all.push(await measure());
  const sorted = [...all].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)] as number, all: all.map((ms) => Math.round(ms * 10) / 10) };
}

const limitsOf = (answer: { errors?: { extensions?: Record<string, unknown> }[] }) =>
  (answer.errors ?? []).map((error) => error.extensions?.limit).sort();

const AUDITS = `{ ${Array.from({ length: 1000 }, (_, index) => `c${index}: verifyAuditChain { ok }`).join(' ')} }`;

const INTROSPECT = '{ __schema { queryType { name } types { name } } }';

/** A result or the errors of one operation over graphql-ws. */
function overWs(
  client: Client,
  query: string,
): Promise<{ ms: number; data?: unknown; errors?: { extensions?: Record<string, unknown> }[] }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    let data: unknown;
    client.subscribe<Record<string, unknown>>(
      { query },
      {
        next: (result) => {
          data = result.data;
          if (result.errors) resolve({ ms: performance.now() - started, errors: [...result.errors] });
        },
        error: (error) =>
          Array.isArray(error) ? resolve({ ms: performance.now() - started, errors: error }) : reject(error),
        complete: () => resolve({ ms: performance.now() - started, data }),
      },
    );
  });
}

/** Another identity of the tenant with a key of its own. */
async function secondKey(env: TestStack, tenant: SeededTenant): Promise<string> {
  const { createIdentity } = await gqlOk<{ createIdentity: { id: string } }>(
    env.apiUrl,
    tenant.apiKey,
    'mutation($input: CreateIdentityInput!) { createIdentity(input: $input) { id } }',
    { input: { externalId: 'auditor', displayName: 'Auditor', roles: ['AUDITOR'] } },
  );
  const { createApiKey } = await gqlOk<{ createApiKey: { secret: string } }>(
    env.apiUrl,
    tenant.apiKey,
    'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }',
    { input: { identityId: createIdentity.id, name: 'auditor key' } },
  );
  return createApiKey.secret;
}

const EXPENSIVE_PER_MINUTE = 5;

describe('the request budget (real stack, NODE_ENV=development, introspection for authenticated callers)', () => {
  let env: TestStack;
  let tenant: SeededTenant;
  let auditorKey: string;
  let client: Client;
  let jobId: string;

  beforeAll(async () => {
    env = await startTestStack({
      env: {
        // What Apollo adds stack traces under unless told not to.
        NODE_ENV: 'development',
        ECHELON_INTROSPECTION: 'authenticated',
        ECHELON_EXPENSIVE_PER_MINUTE: String(EXPENSIVE_PER_MINUTE),
      },
    });
    tenant = await seedTwoCopyTenant(env, 'limits');
    // 500 jobs of 3 replicas: what the probe's pages would really read without the budget.
    const storageSystemId = tenant.storageSystems[0]?.id ?? '';
    const ids: string[] = [];
    for (let start = 0; start < 500; start += 4) {
      const batch = await Promise.all(
        [0, 1, 2, 3].map((offset) =>
          insertJobRows(env.db, tenant, {
            datasetKey: `rows-${start + offset}`,
            sizeBytes: 1024,
            jobStatus: 'COMPLETED',
            storageSystemId,
            replicas: { count: 3, firstOrder: 0, role: 'PRIMARY', status: 'COMPLETED' },
          }),
        ),
      );
      ids.push(...batch.map((rows) => rows.jobId));
    }
    expect(ids).toHaveLength(500);
    auditorKey = await secondKey(env, tenant);
    client = wsClient(env.apiUrl, tenant.apiKey);
    // One real job too, for the UI's job page (the inserted rows have no scheme).
    jobId = await backUpAndWait(env.apiUrl, tenant.apiKey, 'real', randomData(4096));
  }, 300_000);

  afterAll(async () => {
    await client?.dispose();
    await env?.stop();
  }, 60_000);

  it('refuses the 14 KB probe over HTTP within 50 ms, naming the cost and the aliases', async () => {
    expect(ATTACK.length).toBeGreaterThan(13_000);
    expect(ATTACK.length).toBeLessThan(15_000);
    const answers: Answer[] = [];
    const timing = await median(7, async () => {
      const answer = await post(env, tenant.apiKey, ATTACK);
      answers.push(answer);
      return answer.ms;
    });
    console.log(`14 KB probe over HTTP: median ${timing.median.toFixed(1)} ms of ${JSON.stringify(timing.all)}`);
    for (const answer of answers) {
      expect(answer.status).toBe(400);
      expect(answer.body.data).toBeUndefined();
      expect(limitsOf(answer.body)).toEqual(['aliases', 'cost']);
      for (const error of answer.body.errors ?? []) expect(error.extensions?.code).toBe('BAD_USER_INPUT');
      expect(answer.body.errors?.find((error) => error.extensions?.limit === 'cost')?.extensions).toMatchObject({
        allowed: 20_000,
        measured: expect.any(Number),
      });
    }
    expect(timing.median).toBeLessThan(50);
  });

  it('refuses the same probe over graphql-ws within 50 ms', async () => {
    expect((await overWs(client, VIEWER_QUERY)).errors).toBeUndefined();
    const answers: Awaited<ReturnType<typeof overWs>>[] = [];
    const timing = await median(7, async () => {
      const answer = await overWs(client, ATTACK);
      answers.push(answer);
      return answer.ms;
    });
    console.log(`14 KB probe over graphql-ws: median ${timing.median.toFixed(1)} ms of ${JSON.stringify(timing.all)}`);
    for (const answer of answers) {
      expect(answer.data).toBeUndefined();
      expect(limitsOf(answer)).toEqual(['aliases', 'cost']);
      for (const error of answer.errors ?? []) expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    }
    expect(timing.median).toBeLessThan(50);
  });

  it('closes a graphql-ws connection that sends a message larger than an HTTP body may be', async () => {
    const big = wsClient(env.apiUrl, tenant.apiKey);
    try {
      expect((await overWs(big, VIEWER_QUERY)).errors).toBeUndefined();
      const closed = await overWs(big, `{ viewer { ${'identity { id } '.repeat(100_000)} } }`).then(
        () => 'answered',
        (error: unknown) => String((error as { code?: number }).code ?? error),
      );
      expect(closed).toBe('1009');
    } finally {
      await big.dispose();
    }
  });

  it('refuses 1000 aliases of verifyAuditChain before running any of them', async () => {
    const answer = await post(env, tenant.apiKey, AUDITS);
    expect(answer.status).toBe(400);
    expect(limitsOf(answer.body)).toEqual(['aliases', 'cost']);
    expect(answer.ms).toBeLessThan(1000);
    // Nothing ran, so nothing was spent: the key still has its whole minute (see the rate limit below).
  });

  it('answers a { viewer } sent beside four probes at once', async () => {
    const probes = [0, 1, 2, 3].map(() => post(env, tenant.apiKey, ATTACK));
    const viewer = await post(env, tenant.apiKey, VIEWER_QUERY);
    console.log(`{ viewer } beside four probes: ${viewer.ms.toFixed(1)} ms`);
    expect(viewer.body.errors).toBeUndefined();
    expect(viewer.body.data?.viewer).toMatchObject({ tenant: { id: tenant.tenant.id } });
    expect(viewer.ms).toBeLessThan(500);
    for (const probe of await Promise.all(probes)) expect(probe.status).toBe(400);
  });

  it('answers the queries the web UI sends, and a full page of 500 jobs', async () => {
    const jobs = await gqlOk<{ backupJobs: { totalCount: number; edges: unknown[] } }>(
      env.apiUrl,
      tenant.apiKey,
      BACKUP_JOBS_QUERY,
      { first: JOBS_PAGE_SIZE },
    );
    expect(jobs.backupJobs.totalCount).toBe(501);
    expect(jobs.backupJobs.edges).toHaveLength(JOBS_PAGE_SIZE);
    for (const query of [VIEWER_QUERY, STORAGE_SYSTEMS_QUERY, IDENTITIES_QUERY]) {
      await gqlOk(env.apiUrl, tenant.apiKey, query);
    }
    const { backupJob } = await gqlOk<{ backupJob: { status: string; replicas: unknown[] } }>(
      env.apiUrl,
      tenant.apiKey,
      BACKUP_JOB_QUERY,
      { id: jobId },
    );
    expect(backupJob).toMatchObject({ status: 'COMPLETED', replicas: [{}, {}] });
    const page = await gqlOk<{ backupJobs: { edges: unknown[] } }>(
      env.apiUrl,
      tenant.apiKey,
      '{ backupJobs(first: 500) { totalCount edges { node { id datasetKey identity { id } replicas { id storageSystem { id } } } } } }',
    );
    expect(page.backupJobs.edges).toHaveLength(500);
  });

  it('refuses an over-budget GET request too', async () => {
    const pages = `{ ${Array.from({ length: 20 }, (_, index) => `p${index}: backupJobs(first: 500) { edges { node { id } } }`).join(' ')} }`;
    const response = await fetch(`${env.apiUrl}/graphql?query=${encodeURIComponent(pages)}`, {
      headers: { authorization: `Bearer ${tenant.apiKey}`, 'apollo-require-preflight': 'true' },
    });
    expect(response.status).toBe(400);
    expect(limitsOf((await response.json()) as Answer['body'])).toEqual(['cost']);
  });

  it('lets one API key call verifyAuditChain its allowance a minute, and no more; another key is not held back', async () => {
    const audit = '{ verifyAuditChain { ok } }';
    for (let call = 0; call < EXPENSIVE_PER_MINUTE; call++) {
      const answer = await post(env, tenant.apiKey, audit);
      expect(answer.body.errors, `call ${call + 1}`).toBeUndefined();
      expect(answer.body.data?.verifyAuditChain).toEqual({ ok: true });
    }
    const refused = await post(env, tenant.apiKey, audit);
    expect(refused.body.data).toBeNull();
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      limit: 'rate',
      field: 'verifyAuditChain',
      allowed: EXPENSIVE_PER_MINUTE,
      per: 'minute',
    });
    expect(refused.body.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
    expect(refused.body.errors?.[0]?.message).toMatch(/try again in \d+ s/);
    // The same key over graphql-ws shares the bucket.
    expect(limitsOf(await overWs(client, audit))).toEqual(['rate']);

    const other = await post(env, auditorKey, audit);
    expect(other.body.errors).toBeUndefined();
    expect(other.body.data?.verifyAuditChain).toEqual({ ok: true });
  });

  it('introspects for a caller with a key, and refuses one without', async () => {
    const anonymous = await post(env, undefined, INTROSPECT);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.data).toBeUndefined();
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(anonymous.body.errors?.[0]?.message).toMatch(/introspection needs a credential/);
    // Named types are not introspection.
    expect((await post(env, undefined, '{ __typename }')).body.data).toEqual({ __typename: 'Query' });

    const withKey = await post(env, tenant.apiKey, INTROSPECT);
    expect(withKey.body.errors).toBeUndefined();
    expect(withKey.body.data?.__schema).toMatchObject({ queryType: { name: 'Query' } });
    expect((await overWs(client, INTROSPECT)).errors).toBeUndefined();
  });

  it('sends no stack trace and no server path with any error', async () => {
    const answers = [
      await post(env, tenant.apiKey, '{ viewer { noSuchField } }'),
      await post(env, tenant.apiKey, '{ viewer { '),
      await post(env, tenant.apiKey, 'query($id: ID!) { backupJob(id: $id) { id } }', { id: { not: 'an id' } }),
      await post(env, tenant.apiKey, '{ backupJobs(first: 0) { totalCount } }'),
      await post(env, undefined, '{ verifyAuditChain { ok } }'),
      await post(env, tenant.apiKey, ATTACK),
      await post(env, undefined, INTROSPECT),
    ];
    for (const answer of answers) {
      expect(answer.body.errors?.length, answer.text).toBeGreaterThan(0);
      expect(answer.text).not.toMatch(/stacktrace|node_modules|\/work\/|\.ts:\d+|at [A-Za-z.]+ \(/);
    }
  });
});

describe('introspection off (real stack, ECHELON_INTROSPECTION=off)', () => {
  let env: TestStack;
  let tenant: SeededTenant;
  let client: Client;

  beforeAll(async () => {
    env = await startTestStack({ env: { ECHELON_INTROSPECTION: 'off' } });
    tenant = await seedTwoCopyTenant(env, 'no-introspection');
    client = wsClient(env.apiUrl, tenant.apiKey);
  }, 300_000);

  afterAll(async () => {
    await client?.dispose();
    await env?.stop();
  }, 60_000);

  it('refuses introspection over HTTP and graphql-ws, even with a key, and still answers __typename', async () => {
    const http = await post(env, tenant.apiKey, INTROSPECT);
    expect(http.status).toBe(400);
    expect(http.body.data).toBeUndefined();
    // Refused in the API's words (one error per introspection field): nothing about how the server is configured.
    expect(http.body.errors?.length).toBeGreaterThan(0);
    for (const error of http.body.errors ?? []) expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(http.body)).not.toMatch(/Apollo|ApolloServer/);
    const typeQuery = await post(env, tenant.apiKey, '{ __type(name: "Query") { name } }');
    expect(typeQuery.status).toBe(400);

    const ws = await overWs(client, INTROSPECT);
    expect(ws.data).toBeUndefined();
    expect(ws.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    expect((await post(env, tenant.apiKey, '{ viewer { __typename } }')).body.data).toEqual({
      viewer: { __typename: 'Viewer' },
    });
  });
});
