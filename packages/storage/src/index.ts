import { DomainError, isDomainError, validateS3Config } from '@echelon/domain';
import type { StorageAdapter } from './adapter.js';
import { type ChunkRepository, FilesystemChunkRepository } from './chunks/repository.js';
import { S3ChunkRepository } from './chunks/s3-repository.js';
import { FilesystemStorage } from './filesystem.js';
import { S3Storage, type S3StorageOptions } from './s3.js';

export * from './adapter.js';
export * from './chunks/index.js';
export * from './chunks/s3-pack.js';
export * from './chunks/s3-repository.js';
export * from './filesystem.js';
export * from './s3.js';

/**
 * A storage system as an adapter needs it. For S3 the config holds the decrypted credentials
 * (`secretAccessKey`): build it just before use (`storageConnectionOf` in @echelon/db) and never log it.
 */
export interface StorageSystemRef {
  id: string;
  kind: 'FILESYSTEM' | 'S3';
  config: unknown;
}

/** The adapter for a registered storage system. */
export function adapterFor(system: StorageSystemRef, options: { s3?: S3StorageOptions } = {}): StorageAdapter {
  switch (system.kind) {
    case 'FILESYSTEM': {
      const root = (system.config as { root?: unknown } | null)?.root;
      if (typeof root !== 'string' || !root.startsWith('/')) {
        throw new DomainError(
          'STORAGE_UNAVAILABLE',
          `storage system ${system.id} has no absolute "root" in its config`,
        );
      }
      return new FilesystemStorage(root);
    }
    case 'S3': {
      try {
        return new S3Storage(validateS3Config(system.config), options.s3);
      } catch (error) {
        if (!isDomainError(error)) throw error;
        throw new DomainError(
          'STORAGE_UNAVAILABLE',
          `storage system ${system.id} has an unusable S3 config: ${error.message}`,
        );
      }
    }
  }
}

/** Where a dataset version's bytes live inside a backup space; the same key on every system. */
export const objectKeyFor = (input: { tenantId: string; datasetId: string; version: number }): string =>
  `tenants/${input.tenantId}/datasets/${input.datasetId}/v${input.version}/data`;

/** A tenant's chunks and manifests in one backup space of a registered storage system. */
export function chunkRepositoryFor(
  system: StorageSystemRef,
  spaceName: string,
  tenantId: string,
  options: { s3?: S3StorageOptions } = {},
): ChunkRepository {
  switch (system.kind) {
    case 'FILESYSTEM': {
      const root = (system.config as { root?: unknown } | null)?.root;
      if (typeof root !== 'string' || !root.startsWith('/')) {
        throw new DomainError(
          'STORAGE_UNAVAILABLE',
          `storage system ${system.id} has no absolute "root" in its config`,
        );
      }
      return new FilesystemChunkRepository({ root, space: spaceName, tenantId });
    }
    case 'S3':
      // The adapter's client, so the same address rules and error mapping hold for packs and manifests.
      return new S3ChunkRepository({ storage: adapterFor(system, options) as S3Storage, bucket: spaceName, tenantId });
  }
}
