import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  abandonedUploads,
  type Db,
  removeUnusedUpload,
  stagedUploadStates,
  tenantDb,
  uploadLastStoredAt,
} from '@echelon/db';

/** Rows looked at per sweep; the rest wait for the next one. */
const SWEEP_BATCH = 500;

/** tus keeps each upload's metadata beside its bytes. */
const stagedFilesOf = (stagingPath: string | null) =>
  stagingPath === null ? [] : [stagingPath, `${stagingPath}.json`];

const lastWrite = (file: string) =>
  stat(file).then(
    (info) => info.mtimeMs,
    () => undefined,
  );

export interface UploadExpiry {
  /** One sweep now: what it removed. */
  sweep(): Promise<{ uploads: number; strayFiles: number }>;
  stop(): void;
}

/**
 * Removes uploads that nobody backed up within `expirySeconds`. An upload still receiving bytes is kept while they
 * keep arriving; one that a backup uses is never touched (the row's removal is conditional on that, so a backup
 * requested during the sweep wins). Every API process sweeps; removing twice is harmless.
 *
 * - Chunked uploads (the intake streams into a chunk store): the row and its chunk list go; the chunks stay in the
 *   intake space and in its index (stored_chunks), since another upload or version of the tenant may use the same
 *   chunks. Chunks that nothing references are for the retention prune (mark and sweep with a grace period) to
 *   remove, not for this sweep. An upload counts as receiving while a chunk of it was stored in the last
 *   `expirySeconds`.
 * - Uploads staged whole (a primary whose storage cannot hold chunks, or uploads from before the chunk store):
 *   their files and rows go; files in the staging directory that no row claims (a request cut off between tus
 *   creating the file and the row) expire the same way.
 */
export function startUploadExpiry(options: {
  db: Db;
  stagingDir: string;
  expirySeconds: number;
  log: (message: string) => void;
}): UploadExpiry {
  const { db, stagingDir, expirySeconds, log } = options;
  const expiryMs = expirySeconds * 1000;

  const sweep = async () => {
    const now = Date.now();
    const cutoff = new Date(now - expiryMs);
    const isStale = (mtime: number | undefined) => mtime === undefined || mtime < cutoff.getTime();
    let uploads = 0;
    for (const upload of await abandonedUploads(db, cutoff, SWEEP_BATCH)) {
      // A long upload over a slow link is still alive while its bytes keep arriving.
      if (upload.stagingPath !== null && !isStale(await lastWrite(upload.stagingPath))) continue;
      if (upload.stagingPath === null) {
        const stored = await uploadLastStoredAt(tenantDb(db, upload.tenantId), upload.tenantId, upload.id);
        if (stored !== null && !isStale(stored.getTime())) continue;
      }
      if (!(await removeUnusedUpload(tenantDb(db, upload.tenantId), upload.tenantId, upload.id))) continue;
      await Promise.all(stagedFilesOf(upload.stagingPath).map((file) => rm(file, { force: true })));
      uploads += 1;
    }
    // Files no row claims, and the tus metadata of uploads a backup already took.
    const stale = new Map<string, string[]>();
    for (const entry of await readdir(stagingDir).catch(() => [] as string[])) {
      const file = path.join(stagingDir, entry);
      if (!isStale(await lastWrite(file))) continue;
      const id = entry.endsWith('.json') ? entry.slice(0, -'.json'.length) : entry;
      stale.set(id, [...(stale.get(id) ?? []), file]);
    }
    const states = await stagedUploadStates(db, [...stale.keys()]);
    let strayFiles = 0;
    for (const [id, files] of stale) {
      const state = states.get(id);
      // An unused row is the abandoned-upload path's (above, by the row's age); a used one keeps its bytes
      // until the primary holds them (the worker removes them then).
      const removable = state === undefined ? files : state.used ? files.filter((file) => file.endsWith('.json')) : [];
      await Promise.all(removable.map((file) => rm(file, { force: true })));
      strayFiles += removable.length;
    }
    return { uploads, strayFiles };
  };

  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(
    () => {
      running = running
        .then(sweep)
        .then((removed) => {
          if (removed.uploads + removed.strayFiles > 0) {
            log(`uploads: removed ${removed.uploads} abandoned upload(s) and ${removed.strayFiles} leftover file(s)`);
          }
        })
        .catch((error: unknown) => log(`uploads: the expiry sweep failed: ${String(error)}`));
    },
    Math.min(Math.max(expiryMs / 4, 1_000), 10 * 60_000),
  );
  timer.unref();
  return {
    sweep: () => {
      const next = running.then(sweep);
      running = next.catch(() => undefined);
      return next;
    },
    stop: () => clearInterval(timer),
  };
}
