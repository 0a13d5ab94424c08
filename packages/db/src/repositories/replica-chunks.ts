import type { Db } from '../client.js';
import type { Prisma } from '../generated/prisma/client.js';
import { type UploadContents, uploadContentsOf } from './chunks.js';

/**
 * What the worker's chunked copies, restores and scrubs read and write beyond the chunk index (chunks.ts).
 */

/** Where a dataset version's bytes come from: its dataset's key and the upload it was made of. */
export interface VersionIntake {
  datasetKey: string;
  /** Null for a version made without an upload. */
  upload: {
    id: string;
    /** The whole-object data plane's staged file (null once removed, or for a chunked upload). */
    stagingPath: string | null;
    /** The space the upload's chunks landed in; null for a whole-object upload. */
    intakeSpaceId: string | null;
    /** Set for a chunked version: what its manifest is made of. Null: a whole object of the first data plane. */
    contents: UploadContents | null;
  } | null;
}

/** The dataset key and upload of a version of the tenant; null when the version does not exist there. */
export async function getVersionIntake(
  db: Db,
  tenantId: string,
  datasetVersionId: string,
): Promise<VersionIntake | null> {
  const version = await db.datasetVersion.findFirst({
    where: { id: datasetVersionId, tenantId },
    include: { dataset: { select: { key: true } }, upload: true },
  });
  if (version === null) return null;
  const upload = version.upload;
  return {
    datasetKey: version.dataset.key,
    upload:
      upload === null
        ? null
        : {
            id: upload.id,
            stagingPath: upload.stagingPath,
            intakeSpaceId: upload.intakeSpaceId,
            contents: uploadContentsOf(upload),
          },
  };
}

/**
 * A replica a chunked restore may read: COMPLETED, or DEGRADED (its good chunks serve, its bad ones are read from
 * another copy), with a committed manifest, its space and its storage system.
 */
export type ChunkedRestoreSource = Prisma.ReplicaGetPayload<{ include: { space: true; storageSystem: true } }> & {
  manifestId: string;
};

/** The copies of a version whose manifest was committed (chunked versions), each with where it lives. */
export async function chunkedRestoreSources(
  db: Db,
  tenantId: string,
  datasetVersionId: string,
): Promise<ChunkedRestoreSource[]> {
  const replicas = await db.replica.findMany({
    where: {
      tenantId,
      status: { in: ['COMPLETED', 'DEGRADED'] },
      checksum: { not: null },
      manifestId: { not: null },
      job: { datasetVersionId },
    },
    include: { space: true, storageSystem: true },
  });
  return replicas.filter((replica): replica is ChunkedRestoreSource => replica.manifestId !== null);
}
