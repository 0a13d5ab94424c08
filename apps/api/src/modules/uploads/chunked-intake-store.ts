import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, type Hash } from 'node:crypto';
import type stream from 'node:stream';
import {
  appendNextUploadChunks,
  completeChunkedUpload,
  type Db,
  findUpload,
  pendingUploadMetadata,
  recordStoredChunks,
  removeUnusedUpload,
  tenantDb,
  type Upload as UploadRow,
  uploadChunkList,
  uploadChunkProgress,
} from '@echelon/db';
import {
  type Chunk,
  type ChunkRepository,
  ContentDefinedChunker,
  type StoredChunk,
  validateEntryPath,
} from '@echelon/storage';
import { DataStore, ERRORS, Upload } from '@tus/server';

/**
 * What the store knows of the HTTP request it serves. tus calls a DataStore with an upload id only; the request's
 * caller, its upload row and its headers come through here (set by the router and its hooks).
 */
export interface IntakeRequest {
  method: string;
  /** The request's Upload-Offset (PATCH). */
  uploadOffset: number | undefined;
  /** The request's Content-Length: a body that ends short of it was cut off. */
  contentLength: number | undefined;
  /** The caller's own upload, once the ownership check found it (or onUploadCreate recorded it). */
  upload?: UploadRow;
}

export const intakeRequests = new AsyncLocalStorage<IntakeRequest>();

/**
 * How many bytes of chunks the intake makes durable (one flush) and records (two statements) at once. The bytes are
 * not held for it (each chunk is written when it is cut): a bigger batch is fewer syncs, and a cut-off PATCH
 * re-sends at most two of them.
 */
const INTAKE_BATCH_BYTES = 64 * 1024 * 1024;
/** Chunk writes in flight at once: a few keep the disk busy (one at a time waits on each). */
const PUTS_IN_FLIGHT = 4;

/** A refusal answered with its own status and body (tus's hooks and store both throw these). */
export class TusRefusal {
  constructor(
    readonly status_code: number,
    readonly body: string,
  ) {}
}

/** Uploads whose unfinished tail chunk one API process holds at once: each holds one chunker buffer of 4 MiB. */
export const MAX_LIVE_INTAKES = 32;
/** A live intake nobody has written to for this long gives its memory back (its client re-sends the tail). */
const LIVE_IDLE_MS = 15 * 60_000;

/** The entry name of a tus upload's one file: its `filename` metadata when that is a valid entry path. */
export function entryPathFor(filename: string | null | undefined): string {
  try {
    return validateEntryPath(filename);
  } catch {
    return 'data';
  }
}

/**
 * One upload this process is taking in: the chunker with the unfinished tail, and the whole-stream sha256 over
 * every chunk recorded so far. `durable` is the end of the last recorded chunk (what HEAD reports, what any API
 * process can resume from); `received` adds the tail held here, which only this process can continue from.
 */
interface LiveIntake {
  upload: UploadRow;
  repository: ChunkRepository;
  chunker: ContentDefinedChunker;
  hasher: Hash;
  seq: number;
  durable: number;
  received: number;
  isBusy: boolean;
  lastUsed: number;
}

export interface ChunkedIntakeStoreOptions {
  db: Db;
  /** The chunk repository of the upload's intake space. */
  repositoryFor(upload: UploadRow): Promise<ChunkRepository>;
  /** The whole-object store for uploads staged on disk (a primary whose storage cannot hold chunks). */
  staging: DataStore;
  log: (message: string) => void;
}

/**
 * The chunks of one PATCH on their way into the intake space: each is put as soon as it is cut (a few at once),
 * and every INTAKE_BATCH_BYTES one flush makes them durable and `record` records them, while the next ones are
 * put. Batches are recorded one after another, in stream order, and only whole: after a failure nothing more is
 * recorded (the request fails; its client resumes from HEAD's offset, the end of the last recorded batch). Memory
 * is the puts in flight, whatever the batch size.
 */
class IntakeBatches {
  private readonly puts = new Set<Promise<void>>();
  private batch: { hash: string; length: number }[] = [];
  private batchBytes = 0;
  private recording: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly repository: ChunkRepository,
    private readonly record: (refs: { hash: string; length: number }[], stored: StoredChunk[]) => Promise<void>,
  ) {}

  /** Starts the chunk's put; waits while PUTS_IN_FLIGHT are running, and for the previous batch at a boundary. */
  async add(chunk: Chunk): Promise<void> {
    this.throwIfFailed();
    while (this.puts.size >= PUTS_IN_FLIGHT) await Promise.race(this.puts);
    this.throwIfFailed();
    // The chunker hashed these very bytes.
    const put: Promise<void> = this.repository
      .put(chunk.hash, chunk.bytes, { isHashed: true })
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => this.puts.delete(put));
    this.puts.add(put);
    this.batch.push({ hash: chunk.hash, length: chunk.length });
    this.batchBytes += chunk.length;
    if (this.batchBytes >= INTAKE_BATCH_BYTES) await this.commit();
  }

  /** Makes the rest durable and recorded; throws the first failure of any put, flush or record. */
  async close(): Promise<void> {
    await this.commit();
    await this.recording;
    this.throwIfFailed();
  }

  /** Waits for everything in flight, whatever happened (the request failed and its state is dropped). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.puts, this.recording]);
  }

  private async commit(): Promise<void> {
    const refs = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    // Every put of the batch has landed (the flush takes what has), and the previous batch is recorded.
    await Promise.all(this.puts);
    await this.recording;
    this.throwIfFailed();
    if (refs.length === 0) return;
    this.recording = this.repository.flush().then((stored) => this.record(refs, stored));
    this.recording.catch((error: unknown) => {
      this.failure ??= { error };
    });
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure.error;
  }
}

/**
 * The tus DataStore of streaming intake (ARCHITECTURE.md, "The data plane"): bytes go through the content-defined
 * chunker into the upload's intake space as they arrive, each chunk is recorded (stored_chunks, upload_chunks) as
 * soon as it is durable, and the whole stream is hashed on the way. Nothing is written to local disk and only the
 * unfinished tail chunk stays in memory, so any API process can serve an upload's next request: its offset is in
 * PostgreSQL. A process that does not hold an upload's hasher rebuilds it from the stored chunks.
 *
 * Resume semantics: a PATCH that ends normally keeps its tail here and answers with every byte it received; a
 * PATCH cut off loses its tail, and HEAD always answers with the end of the last recorded chunk. A client that
 * continues elsewhere gets 409 for the received offset, asks HEAD and re-sends the tail from there.
 *
 * Uploads whose row has a staging path (whole objects, see the router) are passed to `staging`.
 */
export class ChunkedIntakeStore extends DataStore {
  private readonly live = new Map<string, LiveIntake>();
  private readonly sweeper: NodeJS.Timeout;
  /** Hashers rebuilt from stored chunks: a request reached a process that did not hold its upload. */
  rebuilds = 0;

  constructor(private readonly options: ChunkedIntakeStoreOptions) {
    super();
    this.extensions = ['creation', 'creation-with-upload', 'termination'];
    this.sweeper = setInterval(() => this.dropIdle(), 60_000);
    this.sweeper.unref();
  }

  close(): void {
    clearInterval(this.sweeper);
    this.live.clear();
  }

  private request(id: string): IntakeRequest & { upload: UploadRow } {
    const request = intakeRequests.getStore();
    if (request?.upload?.id !== id) throw ERRORS.FILE_NOT_FOUND;
    return request as IntakeRequest & { upload: UploadRow };
  }

  private dbOf(upload: UploadRow): Db {
    return tenantDb(this.options.db, upload.tenantId);
  }

  override async create(upload: Upload): Promise<Upload> {
    const { upload: row } = this.request(upload.id);
    if (row.stagingPath !== null) return this.options.staging.create(upload);
    // The row was recorded by onUploadCreate, with the intake space and the metadata.
    return upload;
  }

  override async getUpload(id: string): Promise<Upload> {
    const request = this.request(id);
    const row = request.upload;
    if (row.stagingPath !== null) return this.options.staging.getUpload(id);
    const size = Number(row.sizeBytes);
    const described = {
      id,
      size,
      metadata: pendingUploadMetadata(row),
      creation_date: row.createdAt.toISOString(),
    };
    if (row.completedAt !== null) return new Upload({ ...described, offset: size });
    const progress = await uploadChunkProgress(this.dbOf(row), row.tenantId, id);
    let offset = progress.bytes;
    const live = this.live.get(id);
    if (live !== undefined && (live.seq !== progress.chunks || live.durable !== progress.bytes)) {
      // Another process recorded chunks since: this one's tail and hasher are stale.
      this.live.delete(id);
    } else if (live !== undefined && request.method === 'PATCH' && request.uploadOffset === live.received) {
      offset = live.received;
    }
    if (offset === size) {
      // Every byte is recorded but the completion was lost (the process stopped in between): complete it now.
      await this.completeFromStorage(row);
    }
    return new Upload({ ...described, offset });
  }

  override async write(readable: stream.Readable, id: string, offset: number): Promise<number> {
    const request = this.request(id);
    const row = request.upload;
    if (row.stagingPath !== null) return this.options.staging.write(readable, id, offset);
    let live = this.live.get(id);
    if (live === undefined || (offset !== live.received && offset !== live.durable)) {
      this.live.delete(id);
      live = await this.open(row, offset);
    }
    if (offset === live.durable && live.received !== live.durable) this.rewind(live);
    const intake = live;
    intake.isBusy = true;
    let received = 0;
    const batches = new IntakeBatches(intake.repository, (refs, stored) => this.record(intake, refs, stored));
    try {
      for await (const piece of readable as AsyncIterable<Buffer>) {
        received += piece.length;
        for (const chunk of intake.chunker.push(piece)) {
          intake.hasher.update(chunk.bytes);
          await batches.add(chunk);
        }
      }
      const size = Number(row.sizeBytes);
      if (offset + received === size) {
        for (const chunk of intake.chunker.finish()) {
          intake.hasher.update(chunk.bytes);
          await batches.add(chunk);
        }
      }
      await batches.close();
      intake.received = offset + received;
      if (intake.received === size) {
        await this.complete(intake.upload, intake.hasher);
        this.live.delete(id);
        return size;
      }
      if (request.contentLength !== undefined && received < request.contentLength) {
        // Cut off: the tail may be any part of what the client meant to send; it re-sends from the last chunk.
        this.rewind(intake);
        return intake.durable;
      }
      return intake.received;
    } catch (error) {
      // The hasher may be ahead of what was recorded: the next request starts over from the storage.
      await batches.settle();
      this.live.delete(id);
      throw error;
    } finally {
      intake.isBusy = false;
      intake.lastUsed = Date.now();
    }
  }

  override async remove(id: string): Promise<void> {
    const { upload: row } = this.request(id);
    this.live.delete(id);
    if (row.stagingPath !== null) await this.options.staging.remove(id);
    // An upload a backup uses stays; its chunks stay in the intake space until a prune (see upload-expiry.ts).
    await removeUnusedUpload(this.dbOf(row), row.tenantId, id);
  }

  /** After the last byte (tus's onUploadFinish): completes an upload that no write completed (an empty one). */
  async finish(owner: { tenantId: string; identityId: string }, id: string): Promise<void> {
    const row = await findUpload(tenantDb(this.options.db, owner.tenantId), owner, id);
    if (row === null || row.stagingPath !== null || row.completedAt !== null) return;
    const progress = await uploadChunkProgress(this.dbOf(row), row.tenantId, id);
    if (progress.bytes === Number(row.sizeBytes)) await this.completeFromStorage(row);
  }

  /** Starts taking an upload in at `offset`, the end of its last recorded chunk, with the hasher rebuilt. */
  private async open(row: UploadRow, offset: number): Promise<LiveIntake> {
    this.makeRoom();
    const repository = await this.options.repositoryFor(row);
    const { hasher, chunks, bytes } = await this.hashRecorded(row, repository);
    if (bytes !== offset) throw ERRORS.INVALID_OFFSET;
    const live: LiveIntake = {
      upload: row,
      repository,
      chunker: new ContentDefinedChunker(),
      hasher,
      seq: chunks,
      durable: bytes,
      received: bytes,
      isBusy: false,
      lastUsed: Date.now(),
    };
    this.live.set(row.id, live);
    return live;
  }

  /** The sha256 state over the upload's recorded chunks, read back from its intake space (the rare path). */
  private async hashRecorded(row: UploadRow, repository: ChunkRepository) {
    const recorded = await uploadChunkList(this.dbOf(row), row.tenantId, row.id);
    const hasher = createHash('sha256');
    let bytes = 0;
    for (const chunk of recorded) {
      hasher.update(await repository.get(chunk));
      bytes += chunk.length;
    }
    if (recorded.length > 0) {
      this.rebuilds += 1;
      this.options.log(`uploads: rebuilt the sha256 of upload ${row.id} from ${recorded.length} stored chunk(s)`);
    }
    return { hasher, chunks: recorded.length, bytes };
  }

  /** Records a durable batch (stored_chunks, then the upload's chunk list), in stream order; the offset moves on. */
  private async record(
    live: LiveIntake,
    refs: readonly { hash: string; length: number }[],
    stored: StoredChunk[],
  ): Promise<void> {
    if (refs.length === 0) return;
    const { upload } = live;
    const db = this.dbOf(upload);
    await recordStoredChunks(db, upload.tenantId, upload.intakeSpaceId as string, stored);
    const appended = await appendNextUploadChunks(db, upload.tenantId, upload.id, live.seq, refs);
    if (!appended) {
      throw new TusRefusal(
        409,
        'this upload moved on through another request; ask HEAD for its offset and resume there\n',
      );
    }
    live.seq += refs.length;
    live.durable += refs.reduce((sum, chunk) => sum + chunk.length, 0);
  }

  private rewind(live: LiveIntake): void {
    live.chunker = new ContentDefinedChunker();
    live.received = live.durable;
  }

  private async completeFromStorage(row: UploadRow): Promise<void> {
    const { hasher } = await this.hashRecorded(row, await this.options.repositoryFor(row));
    await this.complete(row, hasher);
  }

  /** The upload is whole: its sha256 and its contents (one object entry) are recorded; requestBackup may use it. */
  private async complete(row: UploadRow, hasher: Hash): Promise<void> {
    const db = this.dbOf(row);
    const chunks = await uploadChunkList(db, row.tenantId, row.id);
    const size = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    if (size !== Number(row.sizeBytes)) {
      throw new Error(`upload ${row.id} has ${size} bytes recorded, not the ${row.sizeBytes} it announced`);
    }
    const sha256 = hasher.digest('hex');
    await completeChunkedUpload(db, row.tenantId, row.id, {
      sha256,
      sizeBytes: size,
      contents: {
        kind: 'object',
        entries: [
          {
            path: entryPathFor(pendingUploadMetadata(row)?.filename),
            mode: '0644',
            mtime: new Date().toISOString(),
            size,
            sha256,
            chunks: chunks.map((chunk) => [chunk.hash, chunk.length]),
          },
        ],
      },
    });
  }

  /** Keeps at most MAX_LIVE_INTAKES: the least recently used idle one goes; with none idle, the request waits. */
  private makeRoom(): void {
    if (this.live.size < MAX_LIVE_INTAKES) return;
    let oldest: [string, LiveIntake] | undefined;
    for (const entry of this.live) {
      if (!entry[1].isBusy && (oldest === undefined || entry[1].lastUsed < oldest[1].lastUsed)) oldest = entry;
    }
    if (oldest === undefined) {
      throw new TusRefusal(
        503,
        `this API process is taking ${MAX_LIVE_INTAKES} uploads at once; try again in a few seconds\n`,
      );
    }
    this.live.delete(oldest[0]);
  }

  private dropIdle(): void {
    const cutoff = Date.now() - LIVE_IDLE_MS;
    for (const [id, live] of this.live) if (!live.isBusy && live.lastUsed < cutoff) this.live.delete(id);
  }
}
