import { readdir, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { seedTenant, type SeededTenant } from '@echelon/db';
import {
  backUpAndWait,
  gql,
  gqlOk,
  randomData,
  restoreAndWait,
  startTestStack,
  type TestStack,
  uploadBytes,
} from '@echelon/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Staged uploads under attack: the tus verbs of an upload answer only the identity that created it, reading
 * staged bytes back cannot take the API down, forwarded headers do not steer the Location, and uploads nobody
 * backed up are removed after the configured time.
 */

const EXPIRY_SECONDS = 15;
const TUS = { 'tus-resumable': '1.0.0' };

let env: TestStack;
let tenant: SeededTenant;
let memberKey: string;

const auth = (key: string) => ({ authorization: `Bearer ${key}` });

/** A tus creation with `length` bytes announced; returns the upload's id. */
async function createUpload(key: string, length: number, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${env.apiUrl}/uploads`, {
    method: 'POST',
    headers: { ...TUS, ...auth(key), 'upload-length': String(length), ...headers },
  });
}

const idOf = (response: Response) => (response.headers.get('location') ?? '').split('/').pop() ?? '';

async function verb(method: string, key: string | undefined, uploadId: string, body?: Buffer): Promise<Response> {
  const headers: Record<string, string> = { ...TUS, ...(key ? auth(key) : {}) };
  if (method === 'PATCH') {
    headers['upload-offset'] = '0';
    headers['content-type'] = 'application/offset+octet-stream';
  }
  const response = await fetch(`${env.apiUrl}/uploads/${uploadId}`, {
    method,
    headers,
    ...(body ? { body: new Uint8Array(body) } : {}),
  });
  await response.arrayBuffer();
  return response;
}

const apiAnswers = async () => {
  const { data } = await gql<{ viewer: { identity: { id: string } | null } }>(
    env.apiUrl,
    tenant.apiKey,
    '{ viewer { identity { id } } }',
  );
  return data?.viewer.identity?.id;
};

beforeAll(async () => {
  env = await startTestStack({ env: { ECHELON_UPLOAD_EXPIRY_SECONDS: String(EXPIRY_SECONDS) } });
  tenant = await seedTenant(env.db, {
    slug: 'uploads-attack',
    name: 'Uploads attack',
    storageRoot: path.join(env.dataDir, 'storage', 'uploads-attack'),
    copies: 1,
    delaySeconds: 0,
  });
  const { createIdentity } = await gqlOk<{ createIdentity: { id: string } }>(
    env.apiUrl,
    tenant.apiKey,
    'mutation($input: CreateIdentityInput!) { createIdentity(input: $input) { id } }',
    { input: { externalId: 'member', displayName: 'Member', roles: ['MEMBER'] } },
  );
  const { createApiKey } = await gqlOk<{ createApiKey: { secret: string } }>(
    env.apiUrl,
    tenant.apiKey,
    'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }',
    { input: { identityId: createIdentity.id, name: 'member key' } },
  );
  memberKey = createApiKey.secret;
});

afterAll(async () => {
  await env?.stop();
});

describe('staged uploads', () => {
  it('refuse GET without serving or crashing: the owner gets 405, anyone else 404, no key 401', async () => {
    const bytes = randomData(64 * 1024);
    const uploadId = await uploadBytes(env.apiUrl, tenant.apiKey, bytes);
    for (let attempt = 0; attempt < 5; attempt++) {
      const owner = await verb('GET', tenant.apiKey, uploadId);
      expect(owner.status).toBe(405);
      expect(owner.headers.get('allow')).toBe('HEAD, PATCH, DELETE, OPTIONS');
    }
    expect((await verb('GET', memberKey, uploadId)).status).toBe(404);
    expect((await verb('GET', undefined, uploadId)).status).toBe(401);
    expect((await verb('GET', tenant.apiKey, 'no-such-upload')).status).toBe(404);
    // The process that answered all of that is still the one serving: nothing restarted it.
    expect(await apiAnswers()).toBe(tenant.adminIdentityId);
    const api = env.stack.processes.get('api');
    expect(api?.child.exitCode).toBeNull();
  });

  it("answer every verb on another identity's upload with 404 and change nothing", async () => {
    const created = await createUpload(tenant.apiKey, 1024);
    expect(created.status).toBe(201);
    const adminUpload = idOf(created);
    for (const method of ['HEAD', 'PATCH', 'DELETE', 'GET']) {
      const response = await verb(method, memberKey, adminUpload, method === 'PATCH' ? randomData(16) : undefined);
      expect({ method, status: response.status }).toEqual({ method, status: 404 });
    }
    // The admin's upload is untouched: it exists, and no byte arrived.
    const head = await verb('HEAD', tenant.apiKey, adminUpload);
    expect(head.status).toBe(200);
    expect(head.headers.get('upload-offset')).toBe('0');
    expect(await env.db.upload.count({ where: { id: adminUpload } })).toBe(1);

    // The other way round too: the member's upload is not the admin's either.
    const memberUpload = await uploadBytes(env.apiUrl, memberKey, randomData(2048));
    for (const method of ['HEAD', 'PATCH', 'DELETE', 'GET']) {
      const response = await verb(method, tenant.apiKey, memberUpload, method === 'PATCH' ? randomData(16) : undefined);
      expect({ method, status: response.status }).toEqual({ method, status: 404 });
    }
    expect((await verb('HEAD', memberKey, memberUpload)).status).toBe(200);
  });

  it("cannot be backed up by another identity, not even by the tenant's administrator", async () => {
    const memberUpload = await uploadBytes(env.apiUrl, memberKey, randomData(4096));
    const request = 'mutation($input: RequestBackupInput!) { requestBackup(input: $input) { id } }';
    const stolen = await gql(env.apiUrl, tenant.apiKey, request, {
      input: { datasetKey: 'stolen', uploadId: memberUpload },
    });
    expect(stolen.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await env.db.datasetVersion.count({ where: { uploadId: memberUpload } })).toBe(0);
    // Its owner still can.
    const own = await gqlOk<{ requestBackup: { id: string } }>(env.apiUrl, memberKey, request, {
      input: { datasetKey: 'own', uploadId: memberUpload },
    });
    expect(own.requestBackup.id).toMatch(/[0-9a-f-]{36}/);
  });

  it('ignore X-Forwarded-Host and -Proto: the Location stays on the API', async () => {
    const created = await createUpload(tenant.apiKey, 10, {
      'x-forwarded-host': 'evil.example',
      'x-forwarded-proto': 'https',
      forwarded: 'host=evil.example;proto=https',
    });
    expect(created.status).toBe(201);
    const location = created.headers.get('location') ?? '';
    expect(location).not.toContain('evil.example');
    expect(new URL(location).port).toBe(new URL(env.apiUrl).port);
  });

  it('that nobody backed up expire with their rows; stray staging files go too, backed-up versions stay', async () => {
    const stagingDir = env.stack.config.stagingDir;
    // Abandoned half-way: 10 of 100 bytes.
    const abandoned = idOf(await createUpload(tenant.apiKey, 100));
    const patch = await fetch(`${env.apiUrl}/uploads/${abandoned}`, {
      method: 'PATCH',
      headers: {
        ...TUS,
        ...auth(tenant.apiKey),
        'upload-offset': '0',
        'content-type': 'application/offset+octet-stream',
      },
      body: new Uint8Array(randomData(10)),
    });
    expect(patch.status).toBe(204);
    // Complete but never backed up.
    const unused = await uploadBytes(env.apiUrl, tenant.apiKey, randomData(1000));
    // Backed up: its row must stay (the version refers to it).
    const bytes = randomData(2000);
    const keptJob = await backUpAndWait(env.apiUrl, tenant.apiKey, 'kept', bytes);
    const { datasetVersion } = await env.db.backupJob.findUniqueOrThrow({
      where: { id: keptJob },
      include: { datasetVersion: true },
    });
    const usedUpload = datasetVersion.uploadId as string;
    // A file no row claims, as a request cut off mid-creation leaves, aged past the expiry.
    const stray = path.join(stagingDir, 'stray-upload');
    await writeFile(stray, 'left behind');
    const past = new Date(Date.now() - 2 * EXPIRY_SECONDS * 1000);
    await utimes(stray, past, past);
    // Streamed into the intake space, not staged: nothing of them is in the staging directory.
    const staged = await readdir(stagingDir);
    expect(staged.filter((file) => [abandoned, unused].some((id) => file.startsWith(id)))).toEqual([]);
    const unusedChunks = await env.db.uploadChunk.findMany({ where: { uploadId: unused } });
    expect(unusedChunks.length).toBeGreaterThan(0);

    const deadline = Date.now() + (EXPIRY_SECONDS + 30) * 1000;
    const gone = async () => {
      const rows = await env.db.upload.count({ where: { id: { in: [abandoned, unused] } } });
      const files = (await readdir(stagingDir)).filter((file) =>
        [abandoned, unused, 'stray-upload', usedUpload].some((id) => file.startsWith(id)),
      );
      return rows === 0 && files.length === 0;
    };
    while (!(await gone())) {
      expect(Date.now(), 'abandoned uploads were not removed in time').toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(await stat(stray).catch(() => undefined)).toBeUndefined();
    // The chunk list went with the row; the chunks stay in the intake space for the retention prune (another
    // upload or version of the tenant may hold the same chunks).
    expect(await env.db.uploadChunk.count({ where: { uploadId: unused } })).toBe(0);
    for (const chunk of unusedChunks) {
      expect(await env.db.storedChunk.count({ where: { tenantId: tenant.tenant.id, hash: chunk.hash } })).toBe(1);
    }
    expect(await env.db.upload.count({ where: { id: usedUpload } })).toBe(1);
    expect(await env.db.datasetVersion.count({ where: { uploadId: usedUpload } })).toBe(1);
    // Its version still restores from the storage: nothing the backup needs was removed.
    const restoreId = await restoreAndWait(env.apiUrl, tenant.apiKey, 'kept');
    const content = await fetch(`${env.apiUrl}/restores/${restoreId}/content`, {
      headers: auth(tenant.apiKey),
    });
    expect(Buffer.from(await content.arrayBuffer()).equals(bytes)).toBe(true);
  });
});
