import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
  type UploadPartCopyCommandOutput,
} from '@aws-sdk/client-s3';
import { freePort, type S3TestServer, startS3Server } from '@echelon/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChecksumMismatchError } from './adapter.js';
import { adapterFor } from './index.js';
import { assertS3EndpointAllowed, S3_TEMP_MARKER, S3Storage } from './s3.js';

const MIB = 1024 * 1024;
const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
/** rclone serves on loopback, which S3 endpoints may reach only when the platform allows it. */
const LOOPBACK = { privateEndpoints: ['127.0.0.1'] };

/** Everything under a bucket's directory: what the server really holds, temporary objects included. */
async function filesIn(server: S3TestServer, bucket: string): Promise<string[]> {
  const entries = await readdir(path.join(server.dir, bucket), { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(path.join(server.dir, bucket), path.join(entry.parentPath, entry.name)))
    .sort();
}

/** A source that yields `chunks` chunks of `size` bytes, pausing between them, and never ends on its own. */
function slowSource(size: number): Readable {
  return new Readable({
    read() {
      setTimeout(() => this.push(randomBytes(size)), 20);
    },
  });
}

describe('S3Storage against a real S3 API (rclone serve s3)', { timeout: 60_000 }, () => {
  let server: S3TestServer;
  let storage: S3Storage;

  beforeAll(async () => {
    server = await startS3Server({ buckets: ['backups', 'other'] });
    storage = new S3Storage(server.config(), { ...LOOPBACK, partSize: 5 * MIB, queueSize: 2 });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  }, 30_000);

  it('streams a multipart write, verifies it by reading it back and only then commits it under its key', async () => {
    const bytes = randomBytes(12 * MIB + 321);
    const progress: number[] = [];
    const seenBeforeVerify: string[][] = [];
    const result = await storage.write(
      'backups',
      'tenants/t/datasets/d/v1/data',
      Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]),
      {
        expectedSha256: sha(bytes),
        expectedBytes: bytes.length,
        onProgress: (written) => progress.push(written),
        onVerifying: async () => {
          seenBeforeVerify.push(await filesIn(server, 'backups'));
        },
      },
    );
    expect(result).toEqual({ sha256: sha(bytes), bytes: bytes.length });
    expect(progress.at(-1)).toBe(bytes.length);
    // While verifying, the bytes sit under a temporary key only: nothing is visible under the final key yet.
    expect(seenBeforeVerify).toHaveLength(1);
    expect(seenBeforeVerify[0]).toHaveLength(1);
    expect(seenBeforeVerify[0]?.[0]).toContain(`data${S3_TEMP_MARKER}`);
    expect(await filesIn(server, 'backups')).toEqual(['tenants/t/datasets/d/v1/data']);
    // Compared by hash: a deep equality over megabytes of bytes is far too slow.
    expect(sha(await readFile(path.join(server.dir, 'backups', 'tenants/t/datasets/d/v1/data')))).toBe(sha(bytes));
    expect(await storage.stat('backups', 'tenants/t/datasets/d/v1/data')).toEqual({
      sha256: sha(bytes),
      bytes: bytes.length,
    });
  });

  it('writes a small object with a single PUT and reads it back; a missing one is NOT_FOUND or undefined', async () => {
    const bytes = Buffer.from('hello, object store');
    await storage.write('backups', 'small/data', Readable.from([bytes]), {
      expectedSha256: sha(bytes),
      expectedBytes: bytes.length,
    });
    const chunks: Buffer[] = [];
    for await (const chunk of await storage.read('backups', 'small/data')) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks)).toEqual(bytes);
    await expect(storage.read('backups', 'small/missing')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await storage.stat('backups', 'small/missing')).toBeUndefined();
    await storage.remove('backups', 'small/data');
    expect(await storage.stat('backups', 'small/data')).toBeUndefined();
  });

  it('leaves nothing behind, not even a temporary key, when the bytes do not match the checksum', async () => {
    const bytes = randomBytes(7 * MIB);
    await expect(
      storage.write('backups', 'mismatch/data', Readable.from([bytes]), {
        expectedSha256: sha(Buffer.from('something else')),
        expectedBytes: bytes.length,
      }),
    ).rejects.toBeInstanceOf(ChecksumMismatchError);
    expect((await filesIn(server, 'backups')).filter((file) => file.startsWith('mismatch/'))).toEqual([]);
    expect(await storage.stat('backups', 'mismatch/data')).toBeUndefined();
  });

  it('leaves nothing behind when the write is aborted half-way', async () => {
    const controller = new AbortController();
    let aborted = false;
    const write = storage.write('backups', 'aborted/data', slowSource(256 * 1024), {
      expectedSha256: 'f'.repeat(64),
      expectedBytes: 100 * MIB,
      signal: controller.signal,
      onProgress: (written) => {
        // Past the first part, so a multipart upload is under way when the abort comes.
        if (written > 6 * MIB && !aborted) {
          aborted = true;
          controller.abort(new Error('job cancelled'));
        }
      },
    });
    await expect(write).rejects.toThrow();
    expect(aborted).toBe(true);
    expect((await filesIn(server, 'backups')).filter((file) => file.startsWith('aborted/'))).toEqual([]);
  });

  it('leaves nothing behind when the source fails half-way, and reports the source error', async () => {
    let sent = 0;
    const failing = new Readable({
      read() {
        if (sent >= 6 * MIB) {
          this.destroy(new Error('source went away'));
          return;
        }
        sent += MIB;
        this.push(randomBytes(MIB));
      },
    });
    await expect(
      storage.write('backups', 'failing/data', failing, { expectedSha256: 'x', expectedBytes: 10 * MIB }),
    ).rejects.toThrow('source went away');
    expect((await filesIn(server, 'backups')).filter((file) => file.startsWith('failing/'))).toEqual([]);
  });

  it('commits objects above the copy threshold with a multipart copy (UploadPartCopy in ranges)', async () => {
    // rclone has no UploadPartCopy: this client performs each ranged part copy as a ranged read plus UploadPart,
    // so the adapter's multipart-copy path runs against the real server end to end.
    const client = new S3Client({
      endpoint: server.endpoint,
      region: server.region,
      forcePathStyle: true,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    const send = client.send.bind(client) as (command: unknown) => Promise<unknown>;
    const ranges: string[] = [];
    (client as unknown as { send: (command: unknown) => Promise<unknown> }).send = async (command) => {
      if (!(command instanceof UploadPartCopyCommand)) return send(command);
      const { CopySource = '', CopySourceRange = '', Bucket, Key, UploadId, PartNumber } = command.input;
      ranges.push(CopySourceRange);
      const [bucket, ...key] = CopySource.split('/').map(decodeURIComponent);
      const part = (await send(
        new GetObjectCommand({ Bucket: bucket, Key: key.join('/'), Range: CopySourceRange }),
      )) as { Body: { transformToByteArray(): Promise<Uint8Array> } };
      const uploaded = (await send(
        new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: await part.Body.transformToByteArray() }),
      )) as { ETag?: string };
      return { CopyPartResult: { ETag: uploaded.ETag }, $metadata: {} } satisfies UploadPartCopyCommandOutput;
    };
    const large = new S3Storage(server.config(), { client, multipartCopyThreshold: 4 * MIB, copyPartSize: 5 * MIB });
    const bytes = randomBytes(11 * MIB + 5);
    await large.write('other', 'large/data', Readable.from([bytes]), {
      expectedSha256: sha(bytes),
      expectedBytes: bytes.length,
    });
    expect(ranges.sort()).toEqual(['bytes=0-5242879', 'bytes=10485760-11534340', 'bytes=5242880-10485759']);
    expect(await filesIn(server, 'other')).toEqual(['large/data']);
    expect(sha(await readFile(path.join(server.dir, 'other', 'large', 'data')))).toBe(sha(bytes));
  });

  it('replaces the temporary object an earlier, killed attempt at the same key left behind', async () => {
    const client = new S3Client({
      endpoint: server.endpoint,
      region: server.region,
      forcePathStyle: true,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    });
    await client.send(
      new PutObjectCommand({ Bucket: 'other', Key: `retried/v1/data${S3_TEMP_MARKER}dead-writer`, Body: 'partial' }),
    );
    const bytes = Buffer.from('the whole thing');
    await storage.write('other', 'retried/v1/data', Readable.from([bytes]), {
      expectedSha256: sha(bytes),
      expectedBytes: bytes.length,
    });
    expect((await filesIn(server, 'other')).filter((file) => file.startsWith('retried/'))).toEqual(['retried/v1/data']);
  });

  it('removes temporary objects a crashed writer left behind', async () => {
    const client = new S3Client({
      endpoint: server.endpoint,
      region: server.region,
      forcePathStyle: true,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    });
    await client.send(
      new PutObjectCommand({ Bucket: 'other', Key: `crashed/v1/data${S3_TEMP_MARKER}1234`, Body: 'partial' }),
    );
    await client.send(new PutObjectCommand({ Bucket: 'other', Key: 'crashed/v1/data', Body: 'complete' }));
    expect(await storage.removeOrphanedTemporaries('other', 'crashed')).toBe(1);
    expect((await filesIn(server, 'other')).filter((file) => file.startsWith('crashed/'))).toEqual(['crashed/v1/data']);
  });

  it('checks buckets: a missing bucket, a wrong secret or an unreachable endpoint is STORAGE_UNAVAILABLE', async () => {
    await storage.check(['backups', 'other']);
    await expect(storage.check(['backups', 'no-such-bucket'])).rejects.toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
      message: expect.stringMatching(/bucket "no-such-bucket" does not exist/),
    });
    const wrongSecret = new S3Storage({ ...server.config(), secretAccessKey: 'not-the-secret-at-all' }, LOOPBACK);
    const refused = await wrongSecret.check(['backups']).catch((error: unknown) => error as Error & { code: string });
    expect(refused).toMatchObject({ code: 'STORAGE_UNAVAILABLE', message: expect.stringMatching(/refused/) });
    expect(refused?.message).not.toContain('not-the-secret-at-all');
    expect(refused?.message).toMatch(/HTTP 403/);
    expect(refused?.message).not.toMatch(/Unknown/);
    const wrongKey = new S3Storage({ ...server.config(), accessKeyId: 'nobody-we-know' }, LOOPBACK);
    await expect(wrongKey.check(['backups'])).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    const unreachable = new S3Storage(
      { ...server.config(), endpoint: 'http://127.0.0.1:1' },
      { ...LOOPBACK, checkTimeoutMs: 3000 },
    );
    await expect(unreachable.check(['backups'])).rejects.toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
      message: expect.stringMatching(/no S3 answer came from the endpoint/),
    });
    // The check leaves no probe behind.
    expect((await filesIn(server, 'backups')).filter((file) => file.includes('check-'))).toEqual([]);
  });

  it('refuses writes with bad credentials or to a missing bucket as STORAGE_UNAVAILABLE, which no retry fixes', async () => {
    const bytes = Buffer.from('data');
    const options = { expectedSha256: sha(bytes), expectedBytes: bytes.length };
    const wrongSecret = new S3Storage({ ...server.config(), secretAccessKey: 'not-the-secret-at-all' }, LOOPBACK);
    await expect(wrongSecret.write('backups', 'refused/data', Readable.from([bytes]), options)).rejects.toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
    });
    const source = Readable.from([bytes]);
    await expect(storage.write('no-such-bucket', 'x/data', source, options)).rejects.toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
    });
    // A refused write still releases its source (a file would stay open otherwise).
    expect(source.destroyed).toBe(true);
    // A network failure stays a plain, retryable error.
    const unreachable = new S3Storage({ ...server.config(), endpoint: 'http://127.0.0.1:1' }, LOOPBACK);
    const error = await unreachable.write('backups', 'x/data', Readable.from([bytes]), options).catch((e) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as { code?: string }).code).not.toBe('STORAGE_UNAVAILABLE');
  });

  it('is what adapterFor builds for an S3 system; an unusable config is STORAGE_UNAVAILABLE', async () => {
    const adapter = adapterFor({ id: 's3-1', kind: 'S3', config: server.config() }, { s3: LOOPBACK });
    expect(adapter).toBeInstanceOf(S3Storage);
    await adapter.check(['backups']);
    expect(() => adapterFor({ id: 's3-2', kind: 'S3', config: { endpoint: 'http://x' } })).toThrow(
      expect.objectContaining({
        code: 'STORAGE_UNAVAILABLE',
        message: expect.stringMatching(/s3-2 has an unusable S3 config/),
      }),
    );
    // Nothing about the adapter prints the secret.
    const fields = Object.entries(adapter as unknown as Record<string, unknown>).filter(([name]) => name !== 'client');
    expect(JSON.stringify(fields)).not.toContain(server.secretAccessKey);
    expect(String(adapter)).not.toContain(server.secretAccessKey);
  });

  it('answers HTTP services that are not S3 and a closed port with one message; the reason is the cause', async () => {
    // What a web server, an admin console or a metadata service might answer: status codes without an S3 error.
    const services = [403, 404, 405].map((status) =>
      createServer((_request, response) => {
        response.statusCode = status;
        response.end('<html>not here</html>');
      }),
    );
    for (const service of services) await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    try {
      const endpoints = [
        ...services.map((service) => `http://127.0.0.1:${(service.address() as AddressInfo).port}`),
        `http://127.0.0.1:${await freePort()}`,
      ];
      const failures = await Promise.all(
        endpoints.map((endpoint) =>
          new S3Storage({ ...server.config(), endpoint }, LOOPBACK).check(['backups']).then(
            () => undefined,
            (error: unknown) => error as Error & { code: string; details: object },
          ),
        ),
      );
      const [first] = failures;
      expect(first?.code).toBe('STORAGE_UNAVAILABLE');
      for (const failure of failures) {
        expect(failure?.message).toBe(first?.message);
        expect(failure?.details).toEqual(first?.details);
      }
      expect(first?.message).not.toMatch(/40[345]|ECONNREFUSED|127\.0\.0\.1|does not exist|refused/);
      expect(failures.map((failure) => String(failure?.cause))).toEqual([
        expect.stringMatching(/HTTP 403/),
        expect.stringMatching(/NotFound HTTP 404/),
        expect.stringMatching(/HTTP 405/),
        expect.stringMatching(/ECONNREFUSED/),
      ]);
    } finally {
      for (const service of services) service.close();
    }
  });

  it('refuses internal addresses unless allowed: in the endpoint, and where a name resolves when it connects', async () => {
    const port = new URL(server.endpoint).port;
    // An address in the endpoint is judged when the adapter is made.
    expect(() => new S3Storage(server.config())).toThrow(
      expect.objectContaining({ code: 'STORAGE_UNAVAILABLE', message: expect.stringMatching(/endpoint is refused/) }),
    );
    expect(() => new S3Storage({ ...server.config(), endpoint: 'http://[::1]:9000' }, LOOPBACK)).toThrow(
      /endpoint is refused/,
    );
    // A name is judged by what it resolves to at each connection, so a later DNS answer cannot redirect it.
    const byName = { ...server.config(), endpoint: `http://localhost:${port}` };
    await expect(new S3Storage(byName).check(['backups'])).rejects.toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
      message: expect.stringMatching(/endpoint is refused/),
    });
    await new S3Storage(byName, { privateEndpoints: [`localhost:${port}`] }).check(['backups']);
    await new S3Storage(byName, { privateEndpoints: ['127.0.0.0/8', '::1'] }).check(['backups']);
  });

  it('checks an endpoint before connecting: internal and unresolvable hosts get one refusal, BAD_USER_INPUT', async () => {
    const refused = (endpoint: string, allowed: string[] = [], forcePathStyle = true) =>
      assertS3EndpointAllowed({ endpoint, forcePathStyle }, ['backups'], allowed).then(
        () => undefined,
        (error: unknown) => error as Error & { code: string },
      );
    const answers = await Promise.all(
      [
        'http://127.0.0.1:9000',
        'http://169.254.169.254',
        'http://[::1]:9000',
        'http://[::ffff:127.0.0.1]',
        'http://[fd00:ec2::254]',
        'http://10.0.0.1',
        'http://localhost:9000',
        'http://0.0.0.0:9000',
        'http://no-such-host.invalid',
      ].map((endpoint) => refused(endpoint)),
    );
    for (const answer of answers) {
      expect(answer).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'config.endpoint' } });
      expect(answer?.message).toBe(answers[0]?.message);
    }
    expect(answers[0]?.message).toMatch(/ECHELON_S3_PRIVATE_ENDPOINTS/);
    // Public addresses pass without a connection; allowed internal ones pass too.
    expect(await refused('https://8.8.8.8')).toBeUndefined();
    expect(await refused(server.endpoint, ['127.0.0.1'])).toBeUndefined();
    expect(await refused('http://localhost:9000', ['localhost:9000'])).toBeUndefined();
    expect(await refused('http://localhost:9001', ['localhost:9000'])).toMatchObject({ code: 'BAD_USER_INPUT' });
    // Virtual-hosted buckets are hosts of their own: each must resolve to allowed addresses.
    expect(await refused('http://localhost:9000', ['localhost'], false)).toMatchObject({ code: 'BAD_USER_INPUT' });
  });
});
