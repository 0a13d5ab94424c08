import type { Readable } from 'node:stream';

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
