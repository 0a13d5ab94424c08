import { DomainError } from '@echelon/domain';
import type { StorageAdapter } from './adapter.js';
import { FilesystemStorage } from './filesystem.js';

export * from './adapter.js';
export * from './filesystem.js';

export interface StorageSystemRef {
  id: string;
  kind: 'FILESYSTEM' | 'S3';
  config: unknown;
}

/** The adapter for a registered storage system. */
export function adapterFor(system: StorageSystemRef): StorageAdapter {
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
    case 'S3':
      throw new DomainError(
        'STORAGE_UNAVAILABLE',
        `storage system ${system.id} is S3, which this build cannot reach yet`,
      );
  }
}

/** Where a dataset version's bytes live inside a backup space; the same key on every system. */
export const objectKeyFor = (input: { tenantId: string; datasetId: string; version: number }): string =>
  `tenants/${input.tenantId}/datasets/${input.datasetId}/v${input.version}/data`;
