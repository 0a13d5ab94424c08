import path from 'node:path';
import { seedTenant } from '@echelon/db';
import {
  collect,
  freePort,
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
});
