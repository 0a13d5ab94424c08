import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SeededTenant } from '@echelon/db';
import {
  backUpAndWait,
  gql,
  gqlOk,
  gqlUntil,
  randomData,
  seedTwoCopyTenant,
  sha256,
  startTestStack,
  type TestStack,
} from '@echelon/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Restores against the real stack: a version comes back from the healthiest copy that still verifies, through
 * the restore workflow on the real worker and `/restores/:id/content`; a corrupt copy is passed over, and with
 * every copy corrupt the restore fails saying why. Tenants, roles and bad input as the contract says.
 */

const BOOTSTRAP = `bootstrap-${randomUUID()}`;

interface Restore {
  id: string;
  datasetKey: string;
  version: number;
  status: string;
  downloadUrl: string | null;
  lastError: string | null;
  fromReplica: { id: string; role: string } | null;
}
const RESTORE = 'id datasetKey version status downloadUrl lastError fromReplica { id role }';

describe('restores (real stack)', () => {
  let env: TestStack;
  let a: SeededTenant;
  let b: SeededTenant;
  const versions: Buffer[] = [];

  const requestRestore = (key: string, input: Record<string, unknown>) =>
    gql<{ requestRestore: Restore }>(
      env.apiUrl,
      key,
      `mutation($input: RequestRestoreInput!) { requestRestore(input: $input) { ${RESTORE} } }`,
      { input },
    );

  const finished = async (key: string, id: string): Promise<Restore> =>
    (
      await gqlUntil<{ restoreJob: Restore }>(
        env.apiUrl,
        key,
        `query($id: ID!) { restoreJob(id: $id) { ${RESTORE} } }`,
        { id },
        ({ restoreJob }) => restoreJob.status === 'COMPLETED' || restoreJob.status === 'FAILED',
        { what: `restore ${id} finishing`, timeoutMs: 60_000 },
      )
    ).restoreJob;

  const restore = async (key: string, input: Record<string, unknown>) => {
    const { data, errors } = await requestRestore(key, input);
    if (errors?.length || data === undefined) throw new Error(JSON.stringify(errors));
    expect(data.requestRestore.downloadUrl).toBeNull();
    return finished(key, data.requestRestore.id);
  };

  const download = (url: string, key: string) =>
    fetch(url.startsWith('http') ? url : `${env.apiUrl}${url}`, { headers: { authorization: `Bearer ${key}` } });

  /**
   * Rots a chunked replica on disk: its manifest and every chunk it names are overwritten with other bytes of the
   * same length, so neither the manifest (checked by a restore) nor any chunk (checked as a download reads it)
   * verifies any longer.
   */
  const corrupt = async (replicaId: string) => {
    const replica = await env.db.replica.findUniqueOrThrow({
      where: { id: replicaId },
      include: {
        storageSystem: true,
        space: true,
        job: { include: { datasetVersion: { include: { dataset: true } } } },
      },
    });
    expect(replica.manifestId).not.toBeNull();
    const root = (replica.storageSystem.config as { root: string }).root;
    const tenantDir = path.join(root, replica.space?.name ?? '', 'tenants', replica.tenantId);
    const { dataset, number } = replica.job.datasetVersion;
    const manifestFile = path.join(tenantDir, 'manifests', encodeURIComponent(dataset.key), `${number}.json`);
    const manifest = await readFile(manifestFile);
    const { entries } = JSON.parse(manifest.toString('utf8')) as { entries: { chunks: [string, number][] }[] };
    await writeFile(manifestFile, randomData(manifest.length));
    for (const [hash, length] of entries.flatMap((entry) => entry.chunks)) {
      await writeFile(path.join(tenantDir, 'chunks', hash.slice(0, 2), hash), randomData(length));
    }
  };

  beforeAll(async () => {
    env = await startTestStack({ env: { ECHELON_BOOTSTRAP_TOKEN: BOOTSTRAP } });
    a = await seedTwoCopyTenant(env, 'restore-a');
    b = await seedTwoCopyTenant(env, 'restore-b');
    versions.push(randomData(300 * 1024 + 7), randomData(200 * 1024 + 3));
    for (const bytes of versions) await backUpAndWait(env.apiUrl, a.apiKey, 'docs/report', bytes);
    await backUpAndWait(env.apiUrl, a.apiKey, 'docs/ruined', randomData(64 * 1024));
  }, 240_000);

  afterAll(async () => {
    await env?.stop();
  });

  it('restores the newest version by default and serves exactly its bytes, verified', async () => {
    const done = await restore(a.apiKey, { datasetKey: 'docs/report' });
    expect(done).toMatchObject({ datasetKey: 'docs/report', version: 2, status: 'COMPLETED', lastError: null });
    expect(done.fromReplica).not.toBeNull();
    expect(done.downloadUrl).toMatch(new RegExp(`/restores/${done.id}/content$`));
    const response = await download(done.downloadUrl ?? '', a.apiKey);
    expect(response.status).toBe(200);
    const body = Buffer.from(await response.arrayBuffer());
    expect(body.equals(versions[1] as Buffer)).toBe(true);
    expect(response.headers.get('content-length')).toBe(String(versions[1]?.length));
    expect(response.headers.get('repr-digest')).toBe(
      `sha-256=:${Buffer.from(sha256(versions[1] as Buffer), 'hex').toString('base64')}:`,
    );
  });

  it('restores a named version', async () => {
    const done = await restore(a.apiKey, { datasetKey: 'docs/report', version: 1 });
    expect(done).toMatchObject({ version: 1, status: 'COMPLETED' });
    const body = Buffer.from(await (await download(done.downloadUrl ?? '', a.apiKey)).arrayBuffer());
    expect(sha256(body)).toBe(sha256(versions[0] as Buffer));
  });

  it('passes over a copy that no longer verifies and serves another, saying which failed', async () => {
    const first = await restore(a.apiKey, { datasetKey: 'docs/report', version: 1 });
    const used = first.fromReplica?.id ?? '';
    await corrupt(used);
    const again = await restore(a.apiKey, { datasetKey: 'docs/report', version: 1 });
    expect(again.status).toBe('COMPLETED');
    expect(again.fromReplica?.id).not.toBe(used);
    expect(again.lastError).toMatch(/does not verify/);
    // Why, in the copy's terms: no path on the worker's host.
    expect(again.lastError).not.toContain(env.dataDir);
    const body = Buffer.from(await (await download(again.downloadUrl ?? '', a.apiKey)).arrayBuffer());
    expect(sha256(body)).toBe(sha256(versions[0] as Buffer));
    // The earlier restore served the copy that has rotted since: its download finds each chunk bad there, reads it
    // from the other copy (verified) and serves exactly the version's bytes, never the rotted ones; the rotted copy's
    // history says so.
    const stale = await download(first.downloadUrl ?? '', a.apiKey);
    expect(stale.status).toBe(200);
    expect(sha256(Buffer.from(await stale.arrayBuffer()))).toBe(sha256(versions[0] as Buffer));
    const events = await env.db.replicaEvent.findMany({ where: { replicaId: used } });
    expect(events.some((event) => /a restore found chunk [0-9a-f]{64} bad here/.test(event.message ?? ''))).toBe(true);
  });

  it('fails, naming every copy and why, when no copy verifies', async () => {
    const replicas = await env.db.replica.findMany({
      where: { tenantId: a.tenant.id, job: { datasetVersion: { dataset: { key: 'docs/ruined' } } } },
    });
    expect(replicas).toHaveLength(2);
    for (const replica of replicas) await corrupt(replica.id);
    const done = await restore(a.apiKey, { datasetKey: 'docs/ruined' });
    expect(done).toMatchObject({ status: 'FAILED', downloadUrl: null, fromReplica: null });
    expect(done.lastError).toMatch(/^no copy verified: /);
    expect(done.lastError).toMatch(/the primary copy on primary does not verify/);
    expect(done.lastError).toMatch(/the secondary copy on second does not verify/);
    expect(done.lastError).not.toContain(env.dataDir);
    const response = await download(`/restores/${done.id}/content`, a.apiKey);
    expect(response.status).toBe(409);
  });

  it("keeps restores to their tenant and a MEMBER's to its own data; an AUDITOR only reads", async () => {
    const done = await restore(a.apiKey, { datasetKey: 'docs/report' });
    // B sees nothing of A's restore, through GraphQL or the content URL.
    const foreign = await gqlOk<{ restoreJob: Restore | null }>(
      env.apiUrl,
      b.apiKey,
      `query($id: ID!) { restoreJob(id: $id) { ${RESTORE} } }`,
      { id: done.id },
    );
    expect(foreign.restoreJob).toBeNull();
    expect((await download(`/restores/${done.id}/content`, b.apiKey)).status).toBe(404);
    expect((await download(`/restores/${done.id}/content`, 'not-a-key')).status).toBe(401);
    const { errors } = await requestRestore(b.apiKey, { datasetKey: 'docs/report' });
    expect(errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    // A MEMBER and an AUDITOR of A.
    const keyFor = async (externalId: string, roles: string[]) => {
      const { createIdentity } = await gqlOk<{ createIdentity: { id: string } }>(
        env.apiUrl,
        a.apiKey,
        'mutation($input: CreateIdentityInput!) { createIdentity(input: $input) { id } }',
        { input: { externalId, displayName: externalId, roles } },
      );
      const { createApiKey } = await gqlOk<{ createApiKey: { secret: string } }>(
        env.apiUrl,
        a.apiKey,
        'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }',
        { input: { identityId: createIdentity.id, name: 'key' } },
      );
      return { id: createIdentity.id, key: createApiKey.secret };
    };
    const member = await keyFor(`member-${Date.now()}`, ['MEMBER']);
    const auditor = await keyFor(`auditor-${Date.now()}`, ['AUDITOR']);
    const asMember = await requestRestore(member.key, { datasetKey: 'docs/report', identityId: a.adminIdentityId });
    expect(asMember.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const own = await requestRestore(member.key, { datasetKey: 'docs/report' });
    expect(own.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const memberView = await gqlOk<{ restoreJob: Restore | null }>(
      env.apiUrl,
      member.key,
      'query($id: ID!) { restoreJob(id: $id) { id } }',
      { id: done.id },
    );
    expect(memberView.restoreJob).toBeNull();
    const asAuditor = await requestRestore(auditor.key, { datasetKey: 'docs/report', identityId: a.adminIdentityId });
    expect(asAuditor.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const auditorView = await gqlOk<{ restoreJob: Restore | null }>(
      env.apiUrl,
      auditor.key,
      'query($id: ID!) { restoreJob(id: $id) { id status } }',
      { id: done.id },
    );
    expect(auditorView.restoreJob).toMatchObject({ id: done.id, status: 'COMPLETED' });
  });

  it('refuses bad input with typed errors and writes nothing', async () => {
    const before = await env.db.restoreJob.count();
    const cases: [Record<string, unknown>, string][] = [
      [{ datasetKey: 'no/such/dataset' }, 'NOT_FOUND'],
      [{ datasetKey: 'docs/report', version: 99 }, 'NOT_FOUND'],
      [{ datasetKey: 'docs/report', version: 0 }, 'BAD_USER_INPUT'],
      [{ datasetKey: 'docs/report', version: -3 }, 'BAD_USER_INPUT'],
      [{ datasetKey: 'docs/report', identityId: randomUUID() }, 'NOT_FOUND'],
      [{ datasetKey: 'docs/report', identityId: b.adminIdentityId }, 'NOT_FOUND'],
      [{ datasetKey: 'docs/report', identityId: "1' OR '1'='1" }, 'NOT_FOUND'],
      [{ datasetKey: 'x'.repeat(100_000) }, 'BAD_USER_INPUT'],
    ];
    for (const [input, code] of cases) {
      const { errors } = await requestRestore(a.apiKey, input);
      expect({ input: JSON.stringify(input).slice(0, 80), code: errors?.[0]?.extensions?.code }).toEqual({
        input: JSON.stringify(input).slice(0, 80),
        code,
      });
    }
    const platform = await requestRestore(BOOTSTRAP, { datasetKey: 'docs/report' });
    expect(platform.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await env.db.restoreJob.count()).toBe(before);
  });
});
