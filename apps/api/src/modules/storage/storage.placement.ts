import type { EchelonConfig } from '@echelon/config';
import { type Db, isFilesystemRootTaken } from '@echelon/db';
import {
  DomainError,
  FILESYSTEM_ROOT_TAKEN,
  type FilesystemPlacement,
  filesystemRootRefusal,
  isDomainError,
} from '@echelon/domain';
import { realLocation, type StorageAdapter } from '@echelon/storage';

const badRoot = (message: string) => new DomainError('BAD_USER_INPUT', message, { field: 'config.root' });

/** The allowed roots and the platform's own directories, every symbolic link resolved. */
async function placementOf(config: EchelonConfig): Promise<FilesystemPlacement> {
  const allowedRoots = await Promise.all(
    config.filesystemRoots.map(async (configured) => ({ configured, real: await realLocation(configured) })),
  );
  const platformDirs = await Promise.all([config.dataDir, config.stagingDir].map(realLocation));
  return { allowedRoots, platformDirs };
}

/** `root` with its links resolved; a root that cannot be resolved (a loop of links) is refused. */
async function realRootOf(root: string): Promise<string> {
  try {
    return await realLocation(root);
  } catch {
    throw badRoot(
      'config.root cannot be resolved (a loop of symbolic links, or a directory the platform cannot search); choose a plain directory',
    );
  }
}

/**
 * Where a new FILESYSTEM system may live: `requested` with every symbolic link followed must lie inside one of the
 * platform's storage roots, outside the platform's own data, and share no directory with the root of any other
 * FILESYSTEM system, of any tenant. Returns the real root, which is what gets registered, so that a link changed
 * later does not move the system. Nothing is created on disk before all of this has passed.
 */
export async function placeFilesystemRoot(config: EchelonConfig, db: Db, requested: string): Promise<string> {
  const root = await realRootOf(requested);
  const refusal = filesystemRootRefusal(root, await placementOf(config));
  if (refusal !== undefined) throw badRoot(refusal);
  // Older rows may name their root through a link: the path as given is compared as well.
  if (await isFilesystemRootTaken(db, [...new Set([root, requested])])) {
    throw badRoot(FILESYSTEM_ROOT_TAKEN);
  }
  return root;
}

/**
 * Why a registered FILESYSTEM root may not be used any more (the allow-list changed, or the row predates it), or
 * undefined. The connection check creates the spaces' directories, so it must not run on such a root.
 */
export async function filesystemRootProblem(config: EchelonConfig, root: string): Promise<string | undefined> {
  try {
    return filesystemRootRefusal(await realLocation(root), await placementOf(config));
  } catch {
    return 'config.root cannot be resolved (a loop of symbolic links, or a directory the platform cannot search)';
  }
}

/**
 * Runs an adapter's connection check. A failure keeps its message for the caller; the detailed reason an adapter
 * holds back from it (what answered at an address, and how) goes to the server log only.
 */
export async function checkStorage(adapter: StorageAdapter, spaces: readonly string[], what: string): Promise<void> {
  try {
    await adapter.check(spaces);
  } catch (error) {
    if (isDomainError(error) && error.cause !== undefined) {
      console.warn(`storage check of ${what} failed: ${error.message} (reason: ${String(error.cause)})`);
    }
    throw error;
  }
}
