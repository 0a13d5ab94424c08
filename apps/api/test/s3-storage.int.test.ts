import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { seedTenant, type SeededTenant } from '@echelon/db';
import {
  collect,
  freePort,
  gql,
  gqlOk,
  httpOk,
  randomData,
  restoreAndWait,
  type S3TestServer,
  sha256,
  startS3Server,
  startTestStack,
  startTsProcess,
  type TestStack,
  uploadBytes,
  waitFor,
  wsClient,
} from '@echelon/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MIB = 1024 * 1024;
const BUCKET = 'echelon-backups';
const SECRET_KEY = randomBytes(32).toString('base64');

const codeOf = (result: { errors?: { extensions?: { code?: string } }[] }) => result.errors?.[0]?.extensions?.code;

const CREATE =
  'mutation($input: CreateStorageSystemInput!) { createStorageSystem(input: $input) { id name kind healthy capacityBytes remainingBytes spaces { id name capacityBytes } } }';
const CHECK = 'mutation($id: ID!) { checkStorageSystem(id: $id) { id healthy } }';

interface SystemResult {
  id: string;
  name: string;
  kind: string;
  healthy: boolean;
  capacityBytes: number;
  spaces: { id: string; name: string; capacityBytes: number }[];
}

/** Every file under a directory, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

describe('S3 storage systems (real stack, rclone serve s3)', () => {
  let s3: S3TestServer;
  let env: TestStack;
  let tenant: SeededTenant;
  let s3SystemId: string;

  beforeAll(async () => {
    s3 = await startS3Server({ buckets: [BUCKET, 'echelon-spare'] });
    env = await startTestStack({ env: { ECHELON_SECRET_KEY: SECRET_KEY } });
    tenant = await seedTenant(env.db, {
      slug: `s3-${Date.now()}`,
      name: 'S3 test',
      storageRoot: path.join(env.dataDir, 'storage'),
      storage: [{ name: 'primary-ssd', spaces: [{ name: 'fast', capacityBytes: 512 * MIB }] }],
      copies: 1,
      delaySeconds: 0,
    });
  }, 240_000);

  afterAll(async () => {
    await env?.stop();
    await s3?.close();
  }, 60_000);

  /** Every row of the tenant's storage systems and audit entries, as text: where a leaked secret would show. */
  async function storedText(): Promise<string> {
    const systems = await env.db.$queryRaw<unknown[]>`
      SELECT * FROM storage_systems WHERE tenant_id = ${tenant.tenant.id}::uuid`;
    const audit = await env.db.$queryRaw<unknown[]>`
      SELECT * FROM audit_entries WHERE tenant_id = ${tenant.tenant.id}::uuid`;
    return JSON.stringify([systems, audit], (_key, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : value,
    );
  }

  it('registers an S3 system after checking its buckets; the secret is stored only encrypted and never returned', async () => {
    const result = await gql<{ createStorageSystem: SystemResult }>(env.apiUrl, tenant.apiKey, CREATE, {
      input: {
        name: 'ceph-rgw',
        kind: 'S3',
        config: s3.config(),
        spaces: [
          { name: BUCKET, capacityBytes: 1024 * MIB },
          { name: 'echelon-spare', capacityBytes: 10 * MIB },
        ],
      },
    });
    expect(result.errors).toBeUndefined();
    const created = result.data?.createStorageSystem as SystemResult;
    expect(created).toMatchObject({ name: 'ceph-rgw', kind: 'S3', healthy: true, capacityBytes: 1034 * MIB });
    expect(created.spaces.map((space) => space.name)).toEqual([BUCKET, 'echelon-spare']);
    s3SystemId = created.id;
    expect(JSON.stringify(result)).not.toContain(s3.secretAccessKey);

    const listed = await gql(
      env.apiUrl,
      tenant.apiKey,
      '{ storageSystems { id name kind healthy capacityBytes remainingBytes spaces { id name capacityBytes usedBytes remainingBytes } } }',
    );
    expect(listed.errors).toBeUndefined();
    expect(JSON.stringify(listed)).toContain('ceph-rgw');
    expect(JSON.stringify(listed)).not.toContain(s3.secretAccessKey);

    // The row keeps the settings in the clear and the secret only as AES-256-GCM ciphertext.
    const row = await env.db.storageSystem.findUniqueOrThrow({ where: { id: s3SystemId } });
    expect(row.config).toEqual({
      endpoint: s3.endpoint,
      region: s3.region,
      accessKeyId: s3.accessKeyId,
      forcePathStyle: true,
    });
    expect(row.secretConfig).toMatch(/^v1:[^:]+:[^:]+:[^:]+$/);
    const stored = await storedText();
    expect(stored).toContain(s3.accessKeyId);
    expect(stored).not.toContain(s3.secretAccessKey);
    expect(stored).not.toContain(Buffer.from(s3.secretAccessKey).toString('base64'));
    // The audit entry records the registration without the secret, and without its ciphertext either.
    const audit = await env.db.auditEntry.findFirstOrThrow({
      where: { tenantId: tenant.tenant.id, action: 'storageSystem.create', objectId: s3SystemId },
    });
    expect(JSON.stringify(audit.after)).not.toContain(row.secretConfig as string);
    expect(audit.after).toMatchObject({ name: 'ceph-rgw', kind: 'S3', config: row.config });
    // The check left no probe object in the buckets.
    expect(await filesUnder(path.join(s3.dir, BUCKET))).toEqual([]);
  });

  it('refuses a wrong secret, a missing bucket or a bad config with typed errors and writes nothing', async () => {
    const systemsBefore = await env.db.storageSystem.count({ where: { tenantId: tenant.tenant.id } });
    const auditBefore = await env.db.auditEntry.count({ where: { tenantId: tenant.tenant.id } });
    const space = [{ name: BUCKET, capacityBytes: MIB }];
    const wrongSecret = 'this-is-not-the-secret-key';
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [
        { config: { ...s3.config(), secretAccessKey: wrongSecret } },
        'STORAGE_UNAVAILABLE',
        /refused .*check accessKeyId, secretAccessKey/,
      ],
      [
        { spaces: [{ name: 'no-such-bucket', capacityBytes: MIB }] },
        'STORAGE_UNAVAILABLE',
        /bucket "no-such-bucket" does not exist/,
      ],
      [{ config: { ...s3.config(), endpoint: 'http://127.0.0.1:1' } }, 'STORAGE_UNAVAILABLE', /no S3 answer came/],
      [{ spaces: [{ name: 'Not_A_Bucket', capacityBytes: MIB }] }, 'BAD_USER_INPUT', /bucket name "Not_A_Bucket"/],
      [{ config: { ...s3.config(), bucket: BUCKET } }, 'BAD_USER_INPUT', /unknown S3 config keys: bucket/],
      [{ config: { ...s3.config(), endpoint: 'ftp://x' } }, 'BAD_USER_INPUT', /config.endpoint/],
      [{ config: { ...s3.config(), secretAccessKey: undefined } }, 'BAD_USER_INPUT', /config.secretAccessKey/],
    ];
    for (const [change, code, message] of cases) {
      const result = await gql(env.apiUrl, tenant.apiKey, CREATE, {
        input: {
          name: `refused-${Object.keys(change).join('-')}`,
          kind: 'S3',
          config: s3.config(),
          spaces: space,
          ...change,
        },
      });
      expect(codeOf(result), JSON.stringify(change)).toBe(code);
      expect(result.errors?.[0]?.message).toMatch(message);
      expect(JSON.stringify(result)).not.toContain(wrongSecret);
      expect(JSON.stringify(result)).not.toContain(s3.secretAccessKey);
    }
    expect(await env.db.storageSystem.count({ where: { tenantId: tenant.tenant.id } })).toBe(systemsBefore);
    expect(await env.db.auditEntry.count({ where: { tenantId: tenant.tenant.id } })).toBe(auditBefore);
  });

  it('checkStorageSystem re-runs the check on demand and flips healthy when the store goes away and comes back', async () => {
    const healthy = await gqlOk<{ checkStorageSystem: { healthy: boolean } }>(env.apiUrl, tenant.apiKey, CHECK, {
      id: s3SystemId,
    });
    expect(healthy.checkStorageSystem.healthy).toBe(true);

    await s3.stop();
    try {
      const down = await gqlOk<{ checkStorageSystem: { healthy: boolean } }>(env.apiUrl, tenant.apiKey, CHECK, {
        id: s3SystemId,
      });
      expect(down.checkStorageSystem.healthy).toBe(false);
      const listed = await gqlOk<{ storageSystems: { id: string; healthy: boolean }[] }>(
        env.apiUrl,
        tenant.apiKey,
        '{ storageSystems { id healthy } }',
      );
      expect(listed.storageSystems.find((system) => system.id === s3SystemId)?.healthy).toBe(false);
      // The change of health is an audited admin change, with the reason.
      const entry = await env.db.auditEntry.findFirstOrThrow({
        where: { tenantId: tenant.tenant.id, action: 'storageSystem.check', objectId: s3SystemId },
        orderBy: { at: 'desc' },
      });
      expect(entry.before).toEqual({ healthy: true });
      expect(entry.after).toMatchObject({ healthy: false, reason: expect.stringMatching(/no S3 answer came/) });
    } finally {
      await s3.start();
    }
    const back = await gqlOk<{ checkStorageSystem: { healthy: boolean } }>(env.apiUrl, tenant.apiKey, CHECK, {
      id: s3SystemId,
    });
    expect(back.checkStorageSystem.healthy).toBe(true);

    // Another tenant cannot check (or learn about) this system.
    const other = await seedTenant(env.db, {
      slug: `s3-other-${Date.now()}`,
      name: 'Other',
      storageRoot: path.join(env.dataDir, 'other-storage'),
      storage: [{ name: 'disk', spaces: [{ name: 'main', capacityBytes: MIB }] }],
    });
    expect(codeOf(await gql(env.apiUrl, other.apiKey, CHECK, { id: s3SystemId }))).toBe('NOT_FOUND');
    expect(codeOf(await gql(env.apiUrl, undefined, CHECK, { id: s3SystemId }))).toBe('UNAUTHENTICATED');
  });

  it('backs up to a FILESYSTEM primary and an S3 secondary; the bucket holds verified packs and the manifest, and restores bit-exact', async () => {
    const { createPolicyTemplate: template } = await gqlOk<{ createPolicyTemplate: { id: string } }>(
      env.apiUrl,
      tenant.apiKey,
      'mutation($input: CreatePolicyTemplateInput!) { createPolicyTemplate(input: $input) { id } }',
      {
        input: {
          name: 'disk then object store',
          copies: 2,
          primaryStorageSystemId: tenant.storageSystems[0]?.id,
          candidateStorageSystemIds: [s3SystemId],
          delaySeconds: 0,
        },
      },
    );
    await gqlOk(
      env.apiUrl,
      tenant.apiKey,
      'mutation($input: AssignPolicyInput!) { assignPolicy(input: $input) { id } }',
      { input: { templateId: template.id, identityId: tenant.adminIdentityId } },
    );

    const data = randomData(7 * MIB + 77);
    const checksum = sha256(data);
    const uploadId = await uploadBytes(env.apiUrl, tenant.apiKey, data);
    const { requestBackup: job } = await gqlOk<{
      requestBackup: { id: string; replicas: { id: string; order: number; storageSystem: { id: string } }[] };
    }>(
      env.apiUrl,
      tenant.apiKey,
      'mutation($input: RequestBackupInput!) { requestBackup(input: $input) { id replicas { id order storageSystem { id } } } }',
      { input: { datasetKey: 'archive/s3', uploadId } },
    );
    expect(job.replicas.map((replica) => replica.storageSystem.id).sort()).toEqual(
      [tenant.storageSystems[0]?.id, s3SystemId].sort(),
    );

    const client = wsClient(env.apiUrl, tenant.apiKey);
    const replicaIds = job.replicas.map((replica) => replica.id);
    const events = await collect<{ status: string; message: string | null; replica: { id: string } }>(
      client,
      'subscription($jobId: ID!) { replicaProgress(jobId: $jobId) { id status message replica { id } } }',
      { jobId: job.id },
      (items) =>
        replicaIds.every((id) => items.some((event) => event.replica.id === id && event.status === 'COMPLETED')) ||
        items.some((event) => event.status === 'FAILED'),
      150_000,
    );
    await client.dispose();
    expect(events.filter((event) => event.status === 'FAILED')).toEqual([]);

    const { backupJob } = await gqlOk<{
      backupJob: {
        status: string;
        replicas: {
          order: number;
          status: string;
          checksum: string;
          storageSystem: { id: string; kind: string };
          space: { name: string; usedBytes: number } | null;
        }[];
      };
    }>(
      env.apiUrl,
      tenant.apiKey,
      'query($id: ID!) { backupJob(id: $id) { status replicas { order status checksum storageSystem { id kind } space { name usedBytes } } } }',
      { id: job.id },
    );
    const secondary = backupJob.replicas.find((replica) => replica.storageSystem.id === s3SystemId);
    expect(secondary).toMatchObject({
      order: 1,
      status: 'COMPLETED',
      checksum,
      storageSystem: { kind: 'S3' },
      // The bucket with the most room.
      space: { name: BUCKET, usedBytes: data.length },
    });

    // The bytes as the object store holds them (docs/data-layout.md, S3): packs named by their sha256, each a run
    // of chunks with a trailing index, and the committed manifest; nothing temporary, no tombstone beside them.
    const replicas = await env.db.replica.findMany({ where: { jobId: job.id }, orderBy: { order: 'asc' } });
    const s3Replica = replicas.find((replica) => replica.storageSystemId === s3SystemId);
    expect(s3Replica?.objectKey).toBeNull();
    expect(s3Replica?.manifestId).toMatch(/^[0-9a-f]{64}$/);
    const bucket = path.join(s3.dir, BUCKET);
    const prefix = `tenants/${tenant.tenant.id}`;
    const manifestKey = `${prefix}/manifests/${encodeURIComponent('archive/s3')}/1.json`;
    const objects = await filesUnder(bucket);
    const packKeys = objects.filter((key) => key.startsWith(`${prefix}/packs/`));
    expect(packKeys.length).toBeGreaterThan(0);
    expect(objects).toEqual([...packKeys, manifestKey].sort());
    const manifestText = await readFile(path.join(bucket, manifestKey));
    expect(sha256(manifestText)).toBe(s3Replica?.manifestId);
    const manifest = JSON.parse(manifestText.toString('utf8')) as {
      sha256: string;
      entries: { sha256: string; size: number; chunks: [string, number][] }[];
    };
    expect(manifest.sha256).toBe(checksum);
    expect(manifest.entries).toHaveLength(1);
    // Where each chunk lies, by the packs' own indexes (each checked against its trailer).
    const where = new Map<string, { pack: Buffer; packId: string; offset: number; length: number }>();
    for (const key of packKeys) {
      const pack = await readFile(path.join(bucket, key));
      const packId = path.basename(key);
      expect(sha256(pack), key).toBe(packId);
      expect(key).toBe(`${prefix}/packs/${packId.slice(0, 2)}/${packId}`);
      const trailer = /^echelon\.pack\/1 (\d{12}) ([0-9a-f]{64})\n$/.exec(pack.subarray(-93).toString('latin1'));
      expect(trailer, `trailer of ${key}`).not.toBeNull();
      const indexLength = Number(trailer?.[1]);
      const index = pack.subarray(pack.length - 93 - indexLength, pack.length - 93);
      expect(sha256(index)).toBe(trailer?.[2]);
      for (const line of index
        .toString('latin1')
        .split('\n')
        .filter((text) => text !== '')) {
        const [hash, offset, length] = line.split(' ');
        where.set(hash as string, { pack, packId, offset: Number(offset), length: Number(length) });
      }
    }
    const pieces: Buffer[] = [];
    for (const [hash, length] of manifest.entries[0]?.chunks ?? []) {
      const place = where.get(hash);
      expect(place, `chunk ${hash} in a pack`).toBeDefined();
      const bytes = (place?.pack ?? Buffer.alloc(0)).subarray(place?.offset, (place?.offset ?? 0) + length);
      expect(place?.length).toBe(length);
      expect(sha256(bytes), `chunk ${hash}`).toBe(hash);
      // The index records the same place.
      const indexed = await env.db.storedChunk.findUniqueOrThrow({
        where: { spaceId_hash: { spaceId: s3Replica?.spaceId as string, hash } },
      });
      expect(indexed.location).toBe(`${place?.packId}@${place?.offset}`);
      pieces.push(bytes);
    }
    expect(sha256(Buffer.concat(pieces))).toBe(checksum);

    // A restore served by the S3 copy (the newest verified) alone is bit-exact: the primary's chunks are damaged
    // first, so the download cannot have read them there.
    const primaryDir = path.join(env.dataDir, 'storage', 'primary-ssd', 'fast', prefix);
    for (const [hash] of manifest.entries[0]?.chunks ?? []) {
      const file = path.join(primaryDir, 'chunks', hash.slice(0, 2), hash);
      const bytes = await readFile(file);
      await writeFile(
        file,
        bytes.map((byte) => byte ^ 0xff),
      );
    }
    const restoreId = await restoreAndWait(env.apiUrl, tenant.apiKey, 'archive/s3');
    const restore = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
    expect(restore.fromReplicaId).toBe(s3Replica?.id);
    const content = await fetch(`${env.apiUrl}/restores/${restoreId}/content`, {
      headers: { authorization: `Bearer ${tenant.apiKey}` },
    });
    expect(content.status).toBe(200);
    const restored = Buffer.from(await content.arrayBuffer());
    expect(restored.length).toBe(data.length);
    expect(sha256(restored)).toBe(checksum);
    expect(await storedText()).not.toContain(s3.secretAccessKey);
  }, 200_000);

  it('without ECHELON_SECRET_KEY an API process refuses to register S3 storage, saying what to set', async () => {
    const port = await freePort();
    const api = startTsProcess('api-without-key', 'apps/api/src/main.ts', {
      env: { ...env.stack.childEnv, ECHELON_SECRET_KEY: '', ECHELON_API_PORT: String(port) },
      log: () => undefined,
    });
    try {
      await waitFor('the API without a secret key', httpOk(`http://127.0.0.1:${port}/health`), {
        timeoutMs: 90_000,
        exited: api.exited,
      });
      const before = await env.db.storageSystem.count({ where: { tenantId: tenant.tenant.id } });
      const refused = await gql(`http://127.0.0.1:${port}`, tenant.apiKey, CREATE, {
        input: { name: 'no-key', kind: 'S3', config: s3.config(), spaces: [{ name: BUCKET, capacityBytes: MIB }] },
      });
      expect(codeOf(refused)).toBe('STORAGE_UNAVAILABLE');
      expect(refused.errors?.[0]?.message).toMatch(/needs ECHELON_SECRET_KEY/);
      expect(await env.db.storageSystem.count({ where: { tenantId: tenant.tenant.id } })).toBe(before);
      // FILESYSTEM storage needs no key.
      const disk = await gql(`http://127.0.0.1:${port}`, tenant.apiKey, CREATE, {
        input: {
          name: 'disk-without-key',
          kind: 'FILESYSTEM',
          config: { root: path.join(env.dataDir, 'storage', 'no-key-disk') },
          spaces: [{ name: 'main', capacityBytes: MIB }],
        },
      });
      expect(disk.errors).toBeUndefined();
    } finally {
      await api.stop();
    }
  }, 120_000);
});
