import { randomUUID } from 'node:crypto';
import { type LookupAddress, type LookupOptions, lookup } from 'node:dns';
import { lookup as lookupAll } from 'node:dns/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  DomainError,
  isDomainError,
  isS3EndpointAllowed,
  type PrivateEndpointRule,
  parseIpAddress,
  parsePrivateEndpoints,
  S3_ENDPOINT_REFUSAL,
  type S3Config,
  type S3EndpointTarget,
} from '@echelon/domain';
import {
  ChecksumMismatchError,
  type ObjectInfo,
  type StorageAdapter,
  sha256Meter,
  sha256Of,
  type WriteOptions,
  type WriteResult,
} from './adapter.js';
import { safeRelativePath } from './filesystem.js';

/** Marks temporary objects: a write lands under `<key>.echelon-partial-<uuid>` until it is verified. */
export const S3_TEMP_MARKER = '.echelon-partial-';
const MIB = 1024 * 1024;
/** The largest object a single CopyObject may copy; larger ones are copied part by part (UploadPartCopy). */
export const MAX_SINGLE_COPY_BYTES = 5 * 1024 * MIB;
const MAX_PARTS = 10_000;

export interface S3StorageOptions {
  /** Multipart upload part size (at least 5 MiB; raised when an object would need more than 10,000 parts). */
  partSize?: number;
  /** Parts uploaded at once; memory use is about partSize × queueSize per write. */
  queueSize?: number;
  /** Objects above this are committed with a multipart copy (S3 allows at most 5 GiB per CopyObject). */
  multipartCopyThreshold?: number;
  /** Part size of a multipart copy. */
  copyPartSize?: number;
  /** How long `check` waits for each bucket before it calls the system unavailable. */
  checkTimeoutMs?: number;
  /**
   * ECHELON_S3_PRIVATE_ENDPOINTS: the endpoints that may reach loopback, private, link-local or other internal
   * addresses. Default: none. Every connection the client makes is held to it, at the moment it resolves the host.
   */
  privateEndpoints?: readonly string[];
  /** An existing client (tests), used as it is: the address guard applies to the clients made here. */
  client?: S3Client;
}

/** The host and port a client connects to for `endpoint` (`scheme://host[:port]`). */
export function endpointTarget(endpoint: string): S3EndpointTarget {
  const url = new URL(endpoint);
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port };
}

const endpointRefused = (code: 'BAD_USER_INPUT' | 'STORAGE_UNAVAILABLE'): DomainError =>
  code === 'BAD_USER_INPUT'
    ? new DomainError('BAD_USER_INPUT', `config.endpoint is refused: ${S3_ENDPOINT_REFUSAL}`, {
        field: 'config.endpoint',
      })
    : new DomainError('STORAGE_UNAVAILABLE', `the S3 endpoint is refused: ${S3_ENDPOINT_REFUSAL}`);

/** Every address `host` resolves to; none when it does not resolve. */
async function addressesOf(host: string): Promise<string[]> {
  if (parseIpAddress(host) !== undefined) return [host];
  try {
    return (await lookupAll(host, { all: true, verbatim: true })).map((entry) => entry.address);
  } catch {
    return [];
  }
}

/**
 * Refuses an S3 endpoint before anything connects to it (BAD_USER_INPUT): every address its host resolves to, and
 * with virtual-hosted addressing each bucket's host too, must be public or allowed by `privateEndpoints`. A name
 * that does not resolve gets the same answer as one that resolves to an internal address, so the refusal cannot
 * be used to map internal names. Connections are held to the same rule again when they are made (`S3Storage`),
 * so a name that resolves differently later (DNS rebinding) gains nothing.
 */
export async function assertS3EndpointAllowed(
  connection: Pick<S3Config, 'endpoint' | 'forcePathStyle'>,
  buckets: readonly string[],
  privateEndpoints: readonly string[],
): Promise<void> {
  const rules = parsePrivateEndpoints(privateEndpoints);
  const target = endpointTarget(connection.endpoint);
  const hosts = [target.host];
  // The SDK puts a bucket into the host name unless told not to, or unless the host is an address.
  if (!connection.forcePathStyle && parseIpAddress(target.host) === undefined) {
    hosts.push(...buckets.map((bucket) => `${bucket}.${target.host}`));
  }
  for (const host of hosts) {
    if (!isS3EndpointAllowed(rules, target, await addressesOf(host))) throw endpointRefused('BAD_USER_INPUT');
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A DNS lookup for the HTTP agents that refuses addresses the endpoint may not reach, so the address that is
 * checked is the address that is connected to.
 */
function guardedLookup(target: S3EndpointTarget, rules: readonly PrivateEndpointRule[]) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const resolved = addresses.map((entry) => entry.address);
      if (!isS3EndpointAllowed(rules, target, resolved)) return callback(endpointRefused('STORAGE_UNAVAILABLE'), []);
      const first = addresses[0];
      if (options.all || first === undefined) return callback(null, addresses);
      callback(null, first.address, first.family);
    });
  };
}

/** S3 error names that mean "this configuration cannot work": retrying will not help until someone fixes it. */
const REFUSALS = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'NoSuchBucket',
  'Forbidden',
  'AuthorizationHeaderMalformed',
  'PermanentRedirect',
  'InvalidBucketName',
  'AllAccessDisabled',
  'AccountProblem',
  'InvalidToken',
  'ExpiredToken',
]);

interface S3ErrorShape {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

const statusOf = (error: unknown): number | undefined => (error as S3ErrorShape | undefined)?.$metadata?.httpStatusCode;
const nameOf = (error: unknown): string => (error as S3ErrorShape | undefined)?.name ?? 'Error';

/** A short description of an S3 or network error: its name or code and its message, nothing else. */
function explain(error: unknown): string {
  const shape = (error ?? {}) as S3ErrorShape;
  // An error without a body (any HEAD request) has no name worth showing: its HTTP status says it all.
  const label = [shape.code, shape.name].find((name) => name !== undefined && !/^Unknown(Error)?$/.test(name)) ?? '';
  const status = statusOf(error);
  const message =
    shape.message && shape.message !== label && !/^Unknown(Error)?$/.test(shape.message) ? shape.message : '';
  return [label, status === undefined ? '' : `HTTP ${status}`, message].filter(Boolean).join(' ') || 'Error';
}

const isRefusal = (error: unknown): boolean => {
  const status = statusOf(error);
  return REFUSALS.has(nameOf(error)) || status === 401 || status === 403 || status === 301;
};

/** The code of an S3 error document; HEAD answers, other HTTP services' answers and network errors have none. */
const s3CodeOf = (error: unknown): string | undefined => {
  const code = (error as { Code?: unknown } | undefined)?.Code;
  return typeof code === 'string' && code !== '' ? code : undefined;
};

const isNotFound = (error: unknown): boolean =>
  statusOf(error) === 404 || nameOf(error) === 'NotFound' || nameOf(error) === 'NoSuchKey';

/**
 * An S3-compatible object store (AWS S3, Ceph RGW, MinIO, ...): one backup space is one bucket, objects keep
 * their key. A write streams into a temporary key, hashing on the fly; the landed bytes are read back and
 * hashed; only then does a server-side copy make the object visible under its key, and the temporary key goes.
 * A failed or aborted write deletes its temporary key, so readers never see a partial or unverified object.
 */
export class S3Storage implements StorageAdapter {
  readonly kind = 'S3' as const;
  /** Where the store is, for messages; the credentials live only inside the client. */
  readonly endpoint: string;
  private readonly client: S3Client;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly multipartCopyThreshold: number;
  private readonly copyPartSize: number;
  private readonly checkTimeoutMs: number;

  constructor(connection: S3Config, options: S3StorageOptions = {}) {
    this.endpoint = connection.endpoint;
    const target = endpointTarget(connection.endpoint);
    const rules = parsePrivateEndpoints(options.privateEndpoints ?? []);
    // An address in the endpoint is connected to without a lookup, so it is judged here.
    if (options.client === undefined && parseIpAddress(target.host) !== undefined) {
      if (!isS3EndpointAllowed(rules, target, [target.host])) throw endpointRefused('STORAGE_UNAVAILABLE');
    }
    const lookupGuard = guardedLookup(target, rules);
    this.client =
      options.client ??
      new S3Client({
        endpoint: connection.endpoint,
        region: connection.region,
        forcePathStyle: connection.forcePathStyle,
        credentials: { accessKeyId: connection.accessKeyId, secretAccessKey: connection.secretAccessKey },
        // Our own sha256 covers integrity end to end; the SDK's newer default checksum headers are not understood
        // by every S3-compatible store.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        maxAttempts: 3,
        // Idle sockets fail a request instead of hanging it; a whole transfer may take as long as it takes.
        requestHandler: {
          connectionTimeout: 10_000,
          socketTimeout: 120_000,
          httpAgent: { lookup: lookupGuard },
          httpsAgent: { lookup: lookupGuard },
        },
      });
    this.partSize = Math.max(5 * MIB, options.partSize ?? 16 * MIB);
    this.queueSize = Math.max(1, options.queueSize ?? 4);
    this.multipartCopyThreshold = Math.min(
      options.multipartCopyThreshold ?? MAX_SINGLE_COPY_BYTES,
      MAX_SINGLE_COPY_BYTES,
    );
    this.copyPartSize = options.copyPartSize ?? 512 * MIB;
    this.checkTimeoutMs = options.checkTimeoutMs ?? 10_000;
  }

  /** Auth and configuration refusals become STORAGE_UNAVAILABLE (not retried); anything else is returned as is. */
  private refusal(error: unknown, where: string): unknown {
    if (error instanceof DomainError || error instanceof ChecksumMismatchError) return error;
    if (isRefusal(error)) {
      return new DomainError(
        'STORAGE_UNAVAILABLE',
        `S3 at ${this.endpoint} refused ${where}: ${explain(error)}; check the bucket, accessKeyId and secretAccessKey`,
        { s3Error: nameOf(error) },
      );
    }
    return error;
  }

  async write(space: string, key: string, source: Readable, options: WriteOptions): Promise<WriteResult> {
    safeRelativePath(key);
    const where = `${space}/${key}`;
    const temp = `${key}${S3_TEMP_MARKER}${randomUUID()}`;
    const signal = options.signal;
    const meter = sha256Meter(options.onProgress ? { onProgress: options.onProgress } : {});
    // Piped at once, so that the source's errors always have a listener. An abort destroys the source side, so
    // the upload fails once its in-flight requests have settled: nothing can land after the clean-up below.
    const feeding = pipeline(source, meter, signal ? { signal } : {}).then(
      () => undefined,
      (error: unknown) => error ?? new Error('the source failed'),
    );
    let upload: Upload | undefined;
    try {
      // A writer killed mid-copy (kill -9, a lost worker) left its temporary object: this attempt replaces it.
      await this.removeTemporariesOf(space, key);
      upload = new Upload({
        client: this.client,
        params: { Bucket: space, Key: temp, Body: meter, Metadata: { sha256: options.expectedSha256 } },
        // S3 allows 10,000 parts: large objects get larger parts.
        partSize: Math.max(this.partSize, Math.ceil(options.expectedBytes / (MAX_PARTS - 1))),
        queueSize: this.queueSize,
        leavePartsOnError: false,
      });
      let uploadError: unknown;
      try {
        await upload.done();
      } catch (error) {
        uploadError = error;
        meter.destroy();
        source.destroy();
      }
      const feedError = await feeding;
      // The source's own failure (or the abort) is the cause; the upload's failure follows from it.
      if (feedError !== undefined) throw feedError;
      if (uploadError !== undefined) throw uploadError;
      const { sha256: streamed, bytes } = meter.result();
      if (streamed !== options.expectedSha256 || bytes !== options.expectedBytes) {
        throw new ChecksumMismatchError(options.expectedSha256, `${streamed} (${bytes} bytes)`, `${where} (stream)`);
      }
      await options.onVerifying?.();
      const landed = await this.hashObject(space, temp, signal);
      if (landed.sha256 !== options.expectedSha256 || landed.bytes !== options.expectedBytes) {
        throw new ChecksumMismatchError(options.expectedSha256, `${landed.sha256} (${landed.bytes} bytes)`, where);
      }
      signal?.throwIfAborted();
      await this.commit(space, temp, key, landed.bytes, options.expectedSha256);
      await this.deleteQuietly(space, temp);
      return landed;
    } catch (error) {
      // Whatever failed, the source is released (a file stays open otherwise) and nothing temporary stays.
      meter.destroy();
      source.destroy();
      if (upload?.uploadId !== undefined) {
        await this.client
          .send(new AbortMultipartUploadCommand({ Bucket: space, Key: temp, UploadId: upload.uploadId }))
          .catch(() => undefined);
      }
      await this.deleteQuietly(space, temp);
      throw this.refusal(error, `the write of ${where}`);
    }
  }

  /**
   * Server-side copy of the verified temporary object to its key, then a size check of what is there. A copy
   * request that fails may still have landed; what landed is then a whole copy of verified bytes, which a retry's
   * `stat` re-hashes before accepting it.
   */
  private async commit(space: string, from: string, to: string, size: number, sha256: string): Promise<void> {
    const copySource = `${encodeURIComponent(space)}/${from.split('/').map(encodeURIComponent).join('/')}`;
    if (size > this.multipartCopyThreshold) {
      await this.multipartCopy(space, copySource, to, size, sha256);
    } else {
      await this.client.send(new CopyObjectCommand({ Bucket: space, Key: to, CopySource: copySource }));
    }
    const head = await this.client.send(new HeadObjectCommand({ Bucket: space, Key: to }));
    if (head.ContentLength !== size) {
      await this.deleteQuietly(space, to);
      throw new ChecksumMismatchError(
        sha256,
        `an object of ${head.ContentLength} bytes, not ${size}`,
        `${space}/${to}`,
      );
    }
  }

  /** UploadPartCopy in ranges, a few at a time; the object appears only when the upload completes. */
  private async multipartCopy(space: string, copySource: string, to: string, size: number, sha256: string) {
    const partSize = Math.max(this.copyPartSize, Math.ceil(size / MAX_PARTS));
    const { UploadId } = await this.client.send(
      new CreateMultipartUploadCommand({ Bucket: space, Key: to, Metadata: { sha256 } }),
    );
    if (UploadId === undefined) throw new Error(`S3 at ${this.endpoint} started a multipart copy without an id`);
    try {
      const count = Math.ceil(size / partSize);
      const parts: { PartNumber: number; ETag: string }[] = [];
      let next = 0;
      const copyParts = async () => {
        while (next < count) {
          const index = next++;
          const start = index * partSize;
          const end = Math.min(size, start + partSize) - 1;
          const result = await this.client.send(
            new UploadPartCopyCommand({
              Bucket: space,
              Key: to,
              UploadId,
              PartNumber: index + 1,
              CopySource: copySource,
              CopySourceRange: `bytes=${start}-${end}`,
            }),
          );
          const etag = result.CopyPartResult?.ETag;
          if (etag === undefined) throw new Error(`S3 at ${this.endpoint} copied part ${index + 1} without an ETag`);
          parts.push({ PartNumber: index + 1, ETag: etag });
        }
      };
      await Promise.all(Array.from({ length: Math.min(4, count) }, copyParts));
      parts.sort((a, b) => a.PartNumber - b.PartNumber);
      await this.client.send(
        new CompleteMultipartUploadCommand({ Bucket: space, Key: to, UploadId, MultipartUpload: { Parts: parts } }),
      );
    } catch (error) {
      await this.client
        .send(new AbortMultipartUploadCommand({ Bucket: space, Key: to, UploadId }))
        .catch(() => undefined);
      throw error;
    }
  }

  private async deleteQuietly(space: string, key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: space, Key: key })).catch(() => undefined);
  }

  /** Streams an object and hashes it. */
  private async hashObject(space: string, key: string, signal?: AbortSignal): Promise<ObjectInfo> {
    const object = await this.client.send(
      new GetObjectCommand({ Bucket: space, Key: key }),
      signal ? { abortSignal: signal } : {},
    );
    return sha256Of(object.Body as Readable, signal);
  }

  async read(space: string, key: string): Promise<Readable> {
    safeRelativePath(key);
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: space, Key: key }));
      return object.Body as Readable;
    } catch (error) {
      if (nameOf(error) === 'NoSuchKey' || statusOf(error) === 404) {
        throw new DomainError('NOT_FOUND', `object ${space}/${key} does not exist at ${this.endpoint}`);
      }
      throw this.refusal(error, `the read of ${space}/${key}`);
    }
  }

  /** Hash of the committed object, read back in full (a checksum that was only stored is not a verification). */
  async stat(space: string, key: string): Promise<ObjectInfo | undefined> {
    safeRelativePath(key);
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: space, Key: key }));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw this.refusal(error, `the lookup of ${space}/${key}`);
    }
    try {
      return await this.hashObject(space, key);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw this.refusal(error, `the read of ${space}/${key}`);
    }
  }

  async remove(space: string, key: string): Promise<void> {
    safeRelativePath(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: space, Key: key }));
    } catch (error) {
      throw this.refusal(error, `the removal of ${space}/${key}`);
    }
  }

  /** Removes earlier attempts' temporary objects of `key` (never the committed object itself). */
  private async removeTemporariesOf(space: string, key: string): Promise<void> {
    const listed = await this.client.send(
      new ListObjectsV2Command({ Bucket: space, Prefix: `${key}${S3_TEMP_MARKER}`, MaxKeys: 100 }),
    );
    for (const object of listed.Contents ?? []) {
      if (object.Key !== undefined) await this.deleteQuietly(space, object.Key);
    }
  }

  /** Deletes temporary objects a crashed writer left under `space/prefix/`; returns how many. */
  async removeOrphanedTemporaries(space: string, prefix: string): Promise<number> {
    safeRelativePath(prefix);
    let removed = 0;
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: space, Prefix: `${prefix}/`, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        const name = object.Key?.split('/').pop() ?? '';
        if (object.Key !== undefined && name.includes(S3_TEMP_MARKER)) {
          await this.client.send(new DeleteObjectCommand({ Bucket: space, Key: object.Key }));
          removed++;
        }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return removed;
  }

  /**
   * Each bucket must exist and accept our writes: a listing, then a tiny probe object written and deleted. A
   * refusal that comes as an S3 error document (no such bucket, credentials refused) is STORAGE_UNAVAILABLE with
   * that reason. Anything else (nothing listening, no answer in time, an answer that is not S3's) is
   * STORAGE_UNAVAILABLE with one and the same message, so that the check cannot tell a caller what listens at an
   * address; the detailed reason is the error's `cause`, for the server log.
   */
  async check(spaces: readonly string[]): Promise<void> {
    for (const space of spaces) {
      const options = { abortSignal: AbortSignal.timeout(this.checkTimeoutMs) };
      // A listing rather than HeadBucket: HEAD answers carry no error document, so any HTTP service's 404 or 403
      // would pass for S3's.
      let step = 'a listing';
      try {
        await this.client.send(new ListObjectsV2Command({ Bucket: space, MaxKeys: 1 }), options);
        const probe = `${S3_TEMP_MARKER}check-${randomUUID()}`;
        step = 'a probe write';
        await this.client.send(
          new PutObjectCommand({ Bucket: space, Key: probe, Body: '', ContentLength: 0 }),
          options,
        );
        step = 'a probe delete';
        await this.client.send(new DeleteObjectCommand({ Bucket: space, Key: probe }), options);
      } catch (error) {
        throw this.unavailable(error, space, step);
      }
    }
  }

  private unavailable(error: unknown, space: string, step: string): DomainError {
    // The address guard's own refusal says nothing about what listens.
    if (isDomainError(error)) return error;
    const code = s3CodeOf(error);
    if (code === undefined) {
      const refusal = new DomainError(
        'STORAGE_UNAVAILABLE',
        `S3 storage: bucket "${space}" cannot be used: no S3 answer came from the endpoint (it cannot be reached, did not answer in time, or did not answer as an S3 store does); check the endpoint and that the store runs and is reachable from the platform (the platform operator finds the reason in the server log)`,
        { space },
      );
      const name = nameOf(error);
      const timedOut = name === 'TimeoutError' || name === 'AbortError';
      refusal.cause = `${step} of bucket "${space}" at ${this.endpoint}: ${timedOut ? `no answer within ${this.checkTimeoutMs} ms` : explain(error)}`;
      return refusal;
    }
    let reason: string;
    if (code === 'NoSuchBucket') {
      reason = `bucket "${space}" does not exist; create it first`;
    } else if (REFUSALS.has(code)) {
      reason = `access to bucket "${space}" was refused (${explain(error)}) on ${step}; check accessKeyId, secretAccessKey and the bucket's permissions`;
    } else {
      reason = `bucket "${space}" failed ${step}: ${explain(error)}`;
    }
    return new DomainError('STORAGE_UNAVAILABLE', `S3 storage: ${reason}`, { space, s3Error: code });
  }
}
