import path from 'node:path';
import { seedTenant, type SeededTenant } from '@echelon/db';
import { gql, gqlOk, randomData, startTestStack, type TestStack, uploadBytes } from '@echelon/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Page {
  replicaHistory: {
    edges: {
      cursor: string;
      node: { id: string; jobId: string; status: string; replica: { storageSystem: { id: string } } };
    }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

const HISTORY = `query($filter: ReplicaHistoryFilter, $first: Int, $after: String) {
  replicaHistory(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id jobId status at replica { id storageSystem { id } } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

describe('replica history for auditors (real stack)', () => {
  let env: TestStack;
  let tenant: SeededTenant;
  const jobs: string[] = [];

  async function backup(datasetKey: string): Promise<string> {
    const uploadId = await uploadBytes(env.apiUrl, tenant.apiKey, randomData(32 * 1024));
    const { requestBackup } = await gqlOk<{ requestBackup: { id: string } }>(
      env.apiUrl,
      tenant.apiKey,
      'mutation($input: RequestBackupInput!) { requestBackup(input: $input) { id } }',
      { input: { datasetKey, uploadId } },
    );
    return requestBackup.id;
  }

  async function finished(jobId: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    while ((await env.db.backupJob.findUniqueOrThrow({ where: { id: jobId } })).status !== 'COMPLETED') {
      if (Date.now() > deadline) throw new Error(`job ${jobId} did not complete`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** Every page of a query, following endCursor. */
  async function allPages(filter: Record<string, unknown>, first: number, key = tenant.apiKey) {
    const nodes: Page['replicaHistory']['edges'][number]['node'][] = [];
    let after: string | null = null;
    for (let page = 0; page < 500; page++) {
      const result: Page = await gqlOk<Page>(env.apiUrl, key, HISTORY, { filter, first, after });
      nodes.push(...result.replicaHistory.edges.map((edge) => edge.node));
      if (!result.replicaHistory.pageInfo.hasNextPage) return nodes;
      after = result.replicaHistory.pageInfo.endCursor;
    }
    throw new Error('too many pages');
  }

  beforeAll(async () => {
    env = await startTestStack();
    tenant = await seedTenant(env.db, {
      slug: `history-${Date.now()}`,
      name: 'History',
      storageRoot: path.join(env.dataDir, 'history'),
      delaySeconds: 0,
      copies: 2,
      storage: [
        { name: 'a', spaces: [{ name: 's', capacityBytes: 1024 ** 3 }] },
        { name: 'b', spaces: [{ name: 's', capacityBytes: 1024 ** 3 }] },
      ],
    });
    jobs.push(await backup('ledger'), await backup('payroll'));
    for (const job of jobs) await finished(job);
  }, 240_000);

  afterAll(async () => {
    await env?.stop();
  }, 60_000);

  it('pages through every event once, in order, stable while new events arrive', async () => {
    const expected = await env.db.replicaEvent.findMany({
      where: { tenantId: tenant.tenant.id },
      orderBy: { id: 'asc' },
    });
    const firstPage = await gqlOk<Page>(env.apiUrl, tenant.apiKey, HISTORY, { first: 3 });
    expect(firstPage.replicaHistory.edges).toHaveLength(3);
    // New events while an auditor pages: they append after the pages already read.
    const late = await backup('late');
    await finished(late);
    const rest: string[] = [];
    let after = firstPage.replicaHistory.pageInfo.endCursor;
    for (;;) {
      const page: Page = await gqlOk<Page>(env.apiUrl, tenant.apiKey, HISTORY, { first: 4, after });
      rest.push(...page.replicaHistory.edges.map((edge) => edge.node.id));
      if (!page.replicaHistory.pageInfo.hasNextPage) break;
      after = page.replicaHistory.pageInfo.endCursor;
    }
    const ids = [...firstPage.replicaHistory.edges.map((edge) => edge.node.id), ...rest];
    const all = await env.db.replicaEvent.findMany({ where: { tenantId: tenant.tenant.id }, orderBy: { id: 'asc' } });
    expect(ids).toEqual(all.map((event) => event.id.toString()));
    expect(ids.slice(0, expected.length)).toEqual(expected.map((event) => event.id.toString()));
  });

  it('filters by job, dataset, storage system and time', async () => {
    const byJob = await allPages({ jobId: jobs[0] }, 50);
    expect(byJob.length).toBeGreaterThan(0);
    expect(new Set(byJob.map((node) => node.jobId))).toEqual(new Set([jobs[0]]));
    expect(await allPages({ datasetKey: 'payroll' }, 50)).toEqual(await allPages({ jobId: jobs[1] }, 50));
    const system = tenant.storageSystems[1]?.id;
    const bySystem = await allPages({ storageSystemId: system }, 50);
    expect(bySystem.length).toBeGreaterThan(0);
    expect(bySystem.every((node) => node.replica.storageSystem.id === system)).toBe(true);
    expect(await allPages({ since: new Date(Date.now() + 3_600_000).toISOString() }, 50)).toEqual([]);
    const everything = await allPages({}, 1000);
    expect(
      await allPages({ since: '2000-01-01T00:00:00Z', until: new Date(Date.now() + 60_000).toISOString() }, 1000),
    ).toEqual(everything);
  });

  it('refuses bad arguments with BAD_USER_INPUT and shows another tenant nothing', async () => {
    for (const variables of [
      { after: 'not-a-cursor' },
      { first: 0 },
      { first: 5000 },
      { filter: { jobId: "'; DROP TABLE replica_events;--" } },
      { filter: { since: '2030-01-01T00:00:00Z', until: '2020-01-01T00:00:00Z' } },
    ]) {
      const result = await gql(env.apiUrl, tenant.apiKey, HISTORY, variables);
      expect(result.errors?.[0]?.extensions?.code, JSON.stringify(variables)).toBe('BAD_USER_INPUT');
    }
    const other = await seedTenant(env.db, {
      slug: `history-other-${Date.now()}`,
      name: 'Other',
      storageRoot: path.join(env.dataDir, 'history-other'),
      storage: [{ name: 'x', spaces: [{ name: 's', capacityBytes: 1024 }] }],
    });
    expect(await allPages({}, 100, other.apiKey)).toEqual([]);
    expect(await allPages({ jobId: jobs[0] }, 100, other.apiKey)).toEqual([]);
  });

  it('reports compliance per dataset: copies required vs achieved, newest verified copy, unprotected versions', async () => {
    const { datasetCompliance } = await gqlOk<{
      datasetCompliance: {
        latestVersion: number;
        copiesRequired: number;
        copiesAchieved: number;
        newestVerifiedCopyAgeSeconds: number;
        versionsNotFullyProtected: number[];
        isCompliant: boolean;
      };
    }>(
      env.apiUrl,
      tenant.apiKey,
      '{ datasetCompliance(datasetKey: "ledger") { latestVersion copiesRequired copiesAchieved newestVerifiedCopyAt newestVerifiedCopyAgeSeconds versionsNotFullyProtected isCompliant } }',
    );
    expect(datasetCompliance).toMatchObject({
      latestVersion: 1,
      copiesRequired: 2,
      copiesAchieved: 2,
      versionsNotFullyProtected: [],
      isCompliant: true,
    });
    expect(datasetCompliance.newestVerifiedCopyAgeSeconds).toBeGreaterThanOrEqual(0);
    expect(datasetCompliance.newestVerifiedCopyAgeSeconds).toBeLessThan(600);
    // A version whose secondary is gone is no longer fully protected.
    const ledger = await env.db.backupJob.findUniqueOrThrow({ where: { id: jobs[0] }, include: { replicas: true } });
    const secondary = ledger.replicas.find((replica) => replica.order === 1);
    await env.db.replica.update({ where: { id: secondary?.id }, data: { status: 'FAILED' } });
    const { datasets } = await gqlOk<{
      datasets: {
        key: string;
        compliance: { copiesAchieved: number; versionsNotFullyProtected: number[]; isCompliant: boolean };
      }[];
    }>(
      env.apiUrl,
      tenant.apiKey,
      '{ datasets { key compliance { copiesAchieved versionsNotFullyProtected isCompliant } } }',
    );
    expect(datasets.find((dataset) => dataset.key === 'ledger')?.compliance).toEqual({
      copiesAchieved: 1,
      versionsNotFullyProtected: [1],
      isCompliant: false,
    });
    expect(datasets.find((dataset) => dataset.key === 'payroll')?.compliance.isCompliant).toBe(true);
    const missing = await gqlOk<{ datasetCompliance: null }>(
      env.apiUrl,
      tenant.apiKey,
      '{ datasetCompliance(datasetKey: "nope") { isCompliant } }',
    );
    expect(missing.datasetCompliance).toBeNull();
  });
});
