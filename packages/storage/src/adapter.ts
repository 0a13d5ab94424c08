import { createHash } from 'node:crypto';
import { type Readable, Transform } from 'node:stream';

export interface WriteOptions {
  /** sha256 (hex) the bytes must have; the write fails and leaves nothing behind otherwise. */
  expectedSha256: string;
  expectedBytes: number;
  /** Called as bytes arrive (the caller throttles). */
  onProgress?: (bytesWritten: number) => void;
  /** Called once all bytes are down and the verification read starts. */
  onVerifying?: () => void | Promise<void>;
  signal?: AbortSignal;
}

export interface WriteResult {
  sha256: string;
  bytes: number;
}

export interface ObjectInfo {
  sha256: string;
  bytes: number;
}

/** A place replicas are written to. Every write is atomic: readers see all of an object or none of it. */
export interface StorageAdapter {
  readonly kind: 'FILESYSTEM' | 'S3';
  /**
   * Streams `source` into `space/key`, hashing on the fly, then re-reads what landed and compares it with
   * the expected checksum before the object becomes visible under its key.
   */
  write(space: string, key: string, source: Readable, options: WriteOptions): Promise<WriteResult>;
  read(space: string, key: string): Promise<Readable>;
  /** Hash of a committed object, or undefined when there is none. */
  stat(space: string, key: string): Promise<ObjectInfo | undefined>;
  remove(space: string, key: string): Promise<void>;
  /** Throws STORAGE_UNAVAILABLE when the system cannot be used. */
  check(spaces: readonly string[]): Promise<void>;
}

export class ChecksumMismatchError extends Error {
  override readonly name = 'ChecksumMismatchError';
  constructor(
    readonly expected: string,
    readonly actual: string,
    readonly where: string,
  ) {
    super(`checksum mismatch at ${where}: expected sha256 ${expected}, found ${actual}`);
  }
}

/** A pass-through stream that hashes and counts what flows through it. */
export interface Sha256Meter extends Transform {
  /** What has passed so far: its sha256 (hex; call once the stream has ended) and its length. */
  result(): ObjectInfo;
}

/** sha256 and length of a whole stream (a file, an object's body), read once; stops when `signal` aborts. */
export async function sha256Of(source: AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<ObjectInfo> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const piece of source) {
    signal?.throwIfAborted();
    hash.update(piece);
    bytes += piece.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/**
 * Hashes bytes on their way through (copies, downloads). `onProgress` hears the running byte count. With
 * `expectSha256`, the last chunk is held back until the whole stream is hashed: when the bytes do not match, the
 * stream fails before that chunk, so a reader (a download with a Content-Length) never receives all of a corrupt
 * stream and cannot take it for a whole one.
 */
export function sha256Meter(
  options: { onProgress?: (bytes: number) => void; expectSha256?: string } = {},
): Sha256Meter {
  const hash = createHash('sha256');
  const expected = options.expectSha256;
  let bytes = 0;
  let digest: string | undefined;
  let held: Buffer | undefined;
  const finish = () => {
    digest ??= hash.digest('hex');
    return digest;
  };
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      options.onProgress?.(bytes);
      if (expected === undefined) return callback(null, chunk);
      const previous = held;
      held = chunk;
      callback(null, previous);
    },
    flush(callback) {
      const actual = finish();
      if (expected !== undefined && actual !== expected) {
        callback(new ChecksumMismatchError(expected, `${actual} (${bytes} bytes)`, 'the stream'));
        return;
      }
      callback(null, held);
    },
  }) as Sha256Meter;
  meter.result = () => ({ sha256: finish(), bytes });
  return meter;
}
