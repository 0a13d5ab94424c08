import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  type BackupSpace,
  type ChunkHolder,
  chunkHolders,
  forgetStoredChunk,
  listStorageSystems,
  recordProgress,
  recordStoredChunks,
  releaseSpace,
  type Replica,
  type StorageSystemWithSpaces,
  spaceMissingChunks,
  transitionReplica,
  type UploadContents,
  type WorkJob,
} from '@echelon/db';
import { DomainError, isDomainError } from '@echelon/domain';
import {
  ChunkUnavailableError,
  type ChunkRepository,
  eachLimited,
  chunkRefsOf,
  readFirstWhole,
  type Manifest,
  versionManifest,
} from '@echelon/storage';
import { type ActivityEnv, isDatabaseUnreachable } from './activity-support.js';
import { type CopyTiming, copyPacer, reserveAndWait } from './copy-attempt.js';

const MIB = 1024 * 1024;
/** Chunks read and written at once: reads overlap writes, so a copy runs near the slower disk's speed. */
const CHUNKS_IN_FLIGHT = 4;
/**
 * A flush, and the index rows of what it made durable, after this many chunks or bytes (small files: many chunks,
 * one durable write for them all). Each flush is a sync of the destination's file system: 1 GiB copied in batches
 * of 64 MiB took 6.2 s on this machine's disk, in batches of 256 MiB 5.4 s (a crashed copy redoes at most one).
 */
const BATCH_CHUNKS = 1024;
const BATCH_BYTES = 256 * MIB;
/** A batch is also flushed after this long, so a slow (paced) copy cut off redoes at most this much of its work. */
const FLUSH_INTERVAL_MS = 2000;

/** A chunked version: what its upload holds, under its dataset's key. */
export interface ChunkedVersion {
  datasetKey: string;
  uploadId: string;
  contents: UploadContents;
}

/** What a copy attempt reports in heartbeats, so a later attempt (after a crash) says where it resumes. */
interface CopyHeartbeat {
  chunksLeft: number;
  presentBytes: number;
}

/**
 * The manifest every replica of the version commits, byte for byte the same: built from the upload's contents,
 * the dataset key, the version number and the version's creation time. Contents whose hash is not the version's
 * sha256 are refused: the copy would commit a version other than the one recorded.
 */
export function manifestOfVersion(job: WorkJob, version: ChunkedVersion): Manifest {
  const manifest = versionManifest({
    tenantId: job.tenantId,
    datasetKey: version.datasetKey,
    version: job.datasetVersion.number,
    createdAt: job.datasetVersion.createdAt,
    contents: version.contents,
  });
  if (manifest.sha256 !== job.datasetVersion.sha256) {
    throw new DomainError(
      'BAD_USER_INPUT',
      `the contents of upload ${version.uploadId} hash to ${manifest.sha256}, but version ${job.datasetVersion.number} of ${version.datasetKey} was recorded with sha256 ${job.datasetVersion.sha256}: upload the data again`,
      { field: 'uploadId' },
    );
  }
  return manifest;
}

/** The next batch of `hashes` from `from` on: at most BATCH_CHUNKS chunks and BATCH_BYTES bytes (at least one). */
function batchFrom(hashes: readonly string[], from: number, lengthOf: ReadonlyMap<string, number>): string[] {
  const batch: string[] = [];
  let bytes = 0;
  for (let index = from; index < hashes.length && batch.length < BATCH_CHUNKS; index++) {
    const hash = hashes[index] as string;
    const length = lengthOf.get(hash) ?? 0;
    if (batch.length > 0 && bytes + length > BATCH_BYTES) break;
    batch.push(hash);
    bytes += length;
  }
  return batch;
}

/**
 * The spaces a copy reads chunks from: every space of the tenant the index says holds the chunk, except the
 * destination; on healthy storage first, the preferred space (the upload's intake space for a primary, the
 * primary's space for a secondary) first among equals. A source found missing or corrupt is forgotten in the
 * index, noted, and the next holder is read.
 */
class ChunkSources {
  /** What went wrong with sources, for the replica's events. */
  readonly problems: string[] = [];
  private readonly repositories = new Map<string, ChunkRepository>();
  private readonly places = new Map<string, { system: StorageSystemWithSpaces; space: BackupSpace }>();

  constructor(
    private readonly env: ActivityEnv,
    private readonly tenantId: string,
    systems: readonly StorageSystemWithSpaces[],
    private readonly destinationSpaceId: string,
    private readonly preferredSpaceId: string | null,
  ) {
    for (const system of systems) for (const space of system.spaces) this.places.set(space.id, { system, space });
  }

  private ordered(holders: readonly ChunkHolder[]) {
    const rank = (holder: ChunkHolder) => {
      const place = this.places.get(holder.spaceId);
      return [place?.system.healthy === false ? 1 : 0, holder.spaceId === this.preferredSpaceId ? 0 : 1] as const;
    };
    return holders
      .filter((holder) => holder.spaceId !== this.destinationSpaceId && this.places.has(holder.spaceId))
      .sort((a, b) => {
        const [ra, rb] = [rank(a), rank(b)];
        return ra[0] - rb[0] || ra[1] - rb[1] || a.spaceId.localeCompare(b.spaceId);
      });
  }

  private repositoryOf(spaceId: string): { repository: ChunkRepository; label: string } {
    const place = this.places.get(spaceId) as { system: StorageSystemWithSpaces; space: BackupSpace };
    const label = `${place.system.name}/${place.space.name}`;
    let repository = this.repositories.get(spaceId);
    if (repository === undefined) {
      repository = this.env.repositoryOf(place.system, place.space.name, this.tenantId);
      this.repositories.set(spaceId, repository);
    }
    return { repository, label };
  }

  /** The chunk's bytes (verified by the repository) from the first holder that has them whole. */
  async read(hash: string, length: number, holders: readonly ChunkHolder[]): Promise<Buffer> {
    const tried: string[] = [];
    let unopened: unknown;
    const candidates = this.ordered(holders).flatMap((holder) => {
      try {
        return [{ ...this.repositoryOf(holder.spaceId), spaceId: holder.spaceId, location: holder.location }];
      } catch (error) {
        // A space whose storage cannot even be opened now: the next holder is read.
        unopened = error;
        tried.push(`${holder.spaceId} could not be opened: ${error instanceof Error ? error.message : String(error)}`);
        return [];
      }
    });
    try {
      const { bytes } = await readFirstWhole(hash, length, candidates, async (candidate, _problem, kind) => {
        // The index said the space holds it; it does not (whole): no copy or restore reads it there again.
        await forgetStoredChunk(this.env.as(this.tenantId), this.tenantId, candidate.spaceId, hash);
        this.problems.push(`chunk ${hash} was ${kind} on ${candidate.label} (forgotten there)`);
        tried.push(`${kind} on ${candidate.label}`);
      });
      return bytes;
    } catch (error) {
      if (!(error instanceof ChunkUnavailableError)) throw error;
      const unreadable = error.unreadable ?? unopened;
      if (unreadable !== undefined && isDatabaseUnreachable(unreadable)) throw unreadable;
      if (unreadable !== undefined && !isDomainError(unreadable)) {
        // Storage that does not answer now may later: the copy is retried.
        throw new Error(
          `chunk ${hash} could not be read from any space that holds it: ${[...tried, ...error.problems].join('; ')}`,
        );
      }
      throw new DomainError(
        'NOT_FOUND',
        `chunk ${hash} is held whole by no other backup space of the tenant${tried.length > 0 ? ` (${tried.join('; ')})` : ''}: it must be uploaded again`,
        { chunk: hash },
      );
    }
  }
}

/**
 * One replica of a chunked version, the primary like every secondary: the chunks the destination space lacks
 * (by the index) are read from the spaces that hold them and put into the destination, which verifies them; what
 * each flush made durable is recorded in the index at once, so an attempt cut off anywhere resumes with the chunks
 * recorded, never from the first byte. Then VERIFYING, the manifest committed (the storage's own commit point:
 * only once every chunk it names is there), and COMPLETED with the manifest's id and the version's sha256.
 * A cancelled copy stops between chunks; the chunks it stored stay, content-addressed and harmless.
 */
export async function copyChunks(
  env: ActivityEnv,
  input: {
    job: WorkJob;
    replica: Replica;
    version: ChunkedVersion;
    /** Read first when it holds a chunk: the upload's intake space (primary) or the primary's space. */
    preferredSourceSpaceId: string | null;
    timing?: CopyTiming;
  },
): Promise<void> {
  const { job, replica } = input;
  if (replica.status === 'COMPLETED') return;
  const tenantId = job.tenantId;
  const db = env.as(tenantId);
  const manifest = manifestOfVersion(job, input.version);
  const refs = chunkRefsOf(manifest);
  const lengthOf = new Map(refs.map((ref) => [ref.hash, ref.length]));
  const systems = input.timing?.systems ?? (await listStorageSystems(db, tenantId));
  const { reserved, system, space } = await reserveAndWait(env, job, replica, { ...input.timing, systems });
  const destination = env.repositoryOf(system, space.name, tenantId);
  const sources = new ChunkSources(env, tenantId, systems, space.id, input.preferredSourceSpaceId);
  const context = Context.current();
  const place = `${system.name}/${space.name}`;

  const size = Number(job.datasetVersion.sizeBytes);
  const uniqueBytes = refs.reduce((sum, ref) => sum + ref.length, 0);
  // Progress in the version's bytes: chunks repeated within the version are stored once.
  const asVersionBytes = (present: number) =>
    uniqueBytes === 0 ? size : Math.min(size, Math.floor((size * present) / uniqueBytes));
  const bytesOf = (hashes: readonly string[]) => hashes.reduce((sum, hash) => sum + (lengthOf.get(hash) ?? 0), 0);
  const missing = await spaceMissingChunks(
    db,
    tenantId,
    space.id,
    refs.map((ref) => ref.hash),
  );
  const tally = { written: 0, writtenBytes: 0, present: uniqueBytes - bytesOf(missing) };
  const previous = context.info.heartbeatDetails as Partial<CopyHeartbeat> | undefined;
  const resumed =
    typeof previous?.chunksLeft === 'number'
      ? `; the attempt before stopped with ${previous.chunksLeft} chunks to go`
      : '';
  await transitionReplica(db, {
    tenantId,
    replicaId: replica.id,
    to: 'COPYING',
    patch: {
      startedAt: new Date(),
      attempts: reserved.attempts + 1,
      bytesCopied: BigInt(asVersionBytes(tally.present)),
      lastError: null,
    },
    message: `attempt ${reserved.attempts + 1}: copying ${missing.length} of ${refs.length} chunks (${bytesOf(missing)} bytes) to ${place}${resumed}`,
  });

  let lastReport = 0;
  const pacer = copyPacer(env.deps.copyRateLimit);
  const copyMissing = async (hashes: readonly string[]) => {
    let left = hashes.length;
    let inFlightBytes = 0;
    for (let next = 0; next < hashes.length; ) {
      const batch = batchFrom(hashes, next, lengthOf);
      const holders = await chunkHolders(db, tenantId, batch);
      const openedAt = Date.now();
      let failure: { error: unknown } | undefined;
      try {
        next += await eachLimited(
          batch,
          CHUNKS_IN_FLIGHT,
          async (hash) => {
            if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
            const length = lengthOf.get(hash) ?? 0;
            await pacer.take(length);
            const bytes = await sources.read(hash, length, holders.get(hash) ?? []);
            // `read` verified these bytes against the hash.
            await destination.put(hash, bytes, { isHashed: true });
            inFlightBytes += length;
            left -= 1;
            const heartbeat: CopyHeartbeat = { chunksLeft: left, presentBytes: tally.present + inFlightBytes };
            context.heartbeat(heartbeat);
            const now = Date.now();
            const bytesCopied = asVersionBytes(heartbeat.presentBytes);
            if (now - lastReport >= env.progressIntervalMs && bytesCopied < size) {
              lastReport = now;
              void recordProgress(db, { tenantId, replicaId: replica.id, bytesCopied }).catch(() => undefined);
            }
          },
          () => Date.now() - openedAt < FLUSH_INTERVAL_MS,
        );
      } catch (error) {
        failure = { error };
      }
      // What became durable is recorded even when the batch failed, so that the next attempt resumes after it.
      try {
        const stored = await destination.flush();
        await recordStoredChunks(db, tenantId, space.id, stored, { replicaId: replica.id });
        for (const chunk of stored) {
          tally.present += chunk.length;
          inFlightBytes -= chunk.length;
          if (chunk.written) {
            tally.written += 1;
            tally.writtenBytes += chunk.length;
          }
        }
      } catch (error) {
        failure ??= { error };
      }
      if (failure !== undefined) throw failure.error;
    }
  };

  await copyMissing(missing);
  const sourceNotes = () => (sources.problems.length > 0 ? `; around bad sources: ${sources.problems.join('; ')}` : '');
  await transitionReplica(db, {
    tenantId,
    replicaId: replica.id,
    to: 'VERIFYING',
    patch: { bytesCopied: BigInt(size) },
    message: `wrote ${tally.written} chunks (${tally.writtenBytes} bytes) of ${refs.length}; committing the manifest${sourceNotes()}`,
  });
  const committed = await commitChecked(env, {
    tenantId,
    spaceId: space.id,
    destination,
    manifest,
    repair: copyMissing,
  });
  await transitionReplica(db, {
    tenantId,
    replicaId: replica.id,
    to: 'COMPLETED',
    patch: {
      completedAt: new Date(),
      checksum: job.datasetVersion.sha256,
      bytesCopied: BigInt(size),
      manifestId: committed.id,
    },
    message: `committed manifest ${committed.id} naming ${refs.length} chunks; sha256 ${job.datasetVersion.sha256}`,
  });
  // The chunks it wrote are counted in the space's used bytes by the index as they landed: the reservation that
  // held room for them during the copy is given back.
  await releaseSpace(db, tenantId, replica.id);
}

/**
 * Commits the manifest, with the destination's index as the truth for which chunks are there. Should the storage
 * lack a chunk the index names (removed behind the platform's back), the chunks the storage lacks are forgotten
 * in the index and copied again, once; the commit is then tried again.
 */
async function commitChecked(
  env: ActivityEnv,
  input: {
    tenantId: string;
    spaceId: string;
    destination: ChunkRepository;
    manifest: Manifest;
    repair: (hashes: readonly string[]) => Promise<void>;
  },
) {
  const { tenantId, spaceId, destination, manifest } = input;
  const db = env.as(tenantId);
  const missing = (hashes: readonly string[]) => spaceMissingChunks(db, tenantId, spaceId, hashes);
  try {
    return await destination.commitManifest(manifest, missing);
  } catch (error) {
    if (!isDomainError(error) || error.code !== 'BAD_USER_INPUT' || typeof error.details.chunk !== 'string') {
      throw error;
    }
  }
  const refs = chunkRefsOf(manifest);
  const absent: string[] = [];
  await eachLimited(refs, 16, async (ref) => {
    if (!(await destination.has(ref))) absent.push(ref.hash);
  });
  for (const hash of absent) await forgetStoredChunk(db, tenantId, spaceId, hash);
  const unindexed = await missing(refs.map((ref) => ref.hash));
  if (unindexed.length === 0) {
    throw ApplicationFailure.retryable(
      `the manifest of version ${manifest.version} could not be committed though every chunk is recorded`,
      'MANIFEST_NOT_COMMITTED',
    );
  }
  await input.repair(unindexed);
  return destination.commitManifest(manifest, missing);
}
