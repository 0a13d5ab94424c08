import type { ManifestEntry } from '@echelon/storage';
import { type ScannedSource, type SourceChunk, scanSource } from './scan.js';

/** Where the API is and who is calling. */
export interface Connection {
  apiUrl: string;
  apiKey: string;
}

/** An answer of the API that refused or failed: `code` is the contract's error code when it sent one. */
export class EchelonApiError extends Error {
  override readonly name = 'EchelonApiError';
  constructor(
    message: string,
    readonly code: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** How many chunk ids one missingChunks question carries (the API caps the list). */
const MISSING_QUESTION_SIZE = 2_000;
const DEFAULT_PUT_CONCURRENCY = 3;

/**
 * One GraphQL request over HTTP; the first error of the answer is thrown as an EchelonApiError with its contract
 * code. `signal` aborts the request (Ctrl-C in a terminal).
 */
export async function graphqlRequest<T>(
  connection: Connection,
  query: string,
  variables: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<T> {
  const response = await fetch(new URL('/graphql', connection.apiUrl), {
    method: 'POST',
    headers: { authorization: `Bearer ${connection.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
    signal,
  });
  const body = (await response.json().catch(() => null)) as {
    data?: T;
    errors?: { message: string; extensions?: { code?: string } }[];
  } | null;
  const error = body?.errors?.[0];
  if (error !== undefined)
    throw new EchelonApiError(error.message, error.extensions?.code ?? 'INTERNAL', response.status);
  if (!response.ok || body?.data === undefined) {
    throw new EchelonApiError(`the API answered HTTP ${response.status}`, 'INTERNAL', response.status);
  }
  return body.data;
}

/** Which of `hashes` the caller's tenant does not hold yet, in order. */
export async function missingChunks(
  connection: Connection,
  hashes: readonly string[],
  signal?: AbortSignal,
): Promise<string[]> {
  const missing: string[] = [];
  for (let start = 0; start < hashes.length; start += MISSING_QUESTION_SIZE) {
    const data = await graphqlRequest<{ missingChunks: string[] }>(
      connection,
      'query($hashes: [String!]!) { missingChunks(hashes: $hashes) }',
      { hashes: hashes.slice(start, start + MISSING_QUESTION_SIZE) },
      signal,
    );
    missing.push(...data.missingChunks);
  }
  return missing;
}

/** Sends one chunk; the API verifies it against its id and stores it in the tenant's intake space. */
export async function putChunk(connection: Connection, chunk: SourceChunk, dataClass?: string | null): Promise<void> {
  const url = new URL(`/chunks/${chunk.hash}`, connection.apiUrl);
  if (dataClass !== undefined && dataClass !== null) url.searchParams.set('dataClass', dataClass);
  const response = await fetch(url, {
    method: 'PUT',
    headers: { authorization: `Bearer ${connection.apiKey}`, 'content-type': 'application/octet-stream' },
    body: chunk.bytes,
  });
  if (response.ok) return;
  throw await httpError(response, `chunk ${chunk.hash}`);
}

/** How many bytes one POST /chunks batch carries at most (the API takes up to 32 MiB). */
const BATCH_BYTES = 16 * 1024 * 1024;

/**
 * Sends several chunks in one request (POST /chunks): small files make many small chunks, and one request and one
 * durable write for a batch is what keeps them fast. The API checks every chunk against its id.
 */
export async function putChunks(
  connection: Connection,
  chunks: readonly SourceChunk[],
  dataClass?: string | null,
  signal?: AbortSignal,
): Promise<void> {
  const url = new URL('/chunks', connection.apiUrl);
  if (dataClass !== undefined && dataClass !== null) url.searchParams.set('dataClass', dataClass);
  const parts: Buffer[] = [];
  for (const chunk of chunks) parts.push(Buffer.from(`${chunk.hash}:${chunk.length}\n`, 'latin1'), chunk.bytes);
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${connection.apiKey}`, 'content-type': 'application/octet-stream' },
    body: Buffer.concat(parts),
    signal,
  });
  if (!response.ok) throw await httpError(response, `a batch of ${chunks.length} chunks`);
}

/** Chunks grouped into batches of at most BATCH_BYTES (a chunk larger than that goes alone). */
function batchesOf(chunks: readonly SourceChunk[]): SourceChunk[][] {
  const batches: SourceChunk[][] = [];
  let current: SourceChunk[] = [];
  let size = 0;
  for (const chunk of chunks) {
    if (current.length > 0 && size + chunk.length > BATCH_BYTES) {
      batches.push(current);
      current = [];
      size = 0;
    }
    current.push(chunk);
    size += chunk.length;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      signal?.throwIfAborted();
      await work(items[next++] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
}

/** An answer of a plain-HTTP route as an error: the API's `{ error: { code, message } }`, or its words. */
export async function httpError(response: Response, what: string): Promise<EchelonApiError> {
  const text = await response.text().catch(() => '');
  let code = 'INTERNAL';
  let message = text.trim() || `HTTP ${response.status}`;
  try {
    const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
    code = parsed.error?.code ?? code;
    message = parsed.error?.message ?? message;
  } catch {
    // A plain-text answer: its words are the message.
  }
  return new EchelonApiError(`${what}: ${message}`, code, response.status);
}

/**
 * Stages a manifest (POST /manifests) once all its chunks are stored; returns the upload id requestBackup takes.
 */
export async function stageManifest(
  connection: Connection,
  manifest: { datasetKey: string; dataClass: string | null; kind: 'object' | 'tree'; entries: ManifestEntry[] },
  signal?: AbortSignal,
): Promise<string> {
  const response = await fetch(new URL('/manifests', connection.apiUrl), {
    method: 'POST',
    headers: { authorization: `Bearer ${connection.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(manifest),
    signal,
  });
  if (!response.ok) throw await httpError(response, 'the manifest was refused');
  const body = (await response.json()) as { upload: { id: string } };
  return body.upload.id;
}

export interface BackupOptions {
  datasetKey: string;
  dataClass?: string | null;
  idempotencyKey?: string;
  putConcurrency?: number;
  /** Bytes read from the source (of `totalBytes` to read), and bytes sent, so far. */
  onProgress?: (progress: BackupProgress) => void;
  /**
   * Stops the backup between requests and aborts the ones in flight (Ctrl-C). Every chunk the API confirmed is
   * kept: the next backup of the same source asks missingChunks again and sends only the rest.
   */
  signal?: AbortSignal;
}

export interface BackupProgress {
  readBytes: number;
  totalBytes: number;
  sentBytes: number;
  sentChunks: number;
}

export interface BackupReceipt {
  jobId: string;
  source: ScannedSource;
  /** Chunks the scan cut (with repeats inside the source counted once) and how many had to be sent. */
  chunkCount: number;
  sentChunks: number;
  sentBytes: number;
}

/**
 * Backs up a file or a directory tree through the chunk protocol: the source is read once and cut into the same
 * chunks the server would cut; for each batch the API is asked which chunks the tenant lacks, only those are sent,
 * and once every chunk is stored the version's manifest is sent with requestBackup. Sending the same source again
 * sends only what changed.
 */
export async function backupPath(
  connection: Connection,
  source: string,
  options: BackupOptions,
): Promise<BackupReceipt> {
  const seen = new Set<string>();
  let sentChunks = 0;
  let sentBytes = 0;
  let readBytes = 0;
  let totalBytes = 0;
  const { signal } = options;
  const report = () => options.onProgress?.({ readBytes, totalBytes, sentBytes, sentChunks });
  const scanned = await scanSource(source, {
    onListed: (listing) => {
      totalBytes = listing.totalBytes;
      report();
    },
    onRead: (bytes) => {
      readBytes = bytes;
    },
    onChunks: async (chunks) => {
      const fresh = chunks.filter((chunk) => !seen.has(chunk.hash) && seen.add(chunk.hash));
      if (fresh.length === 0) return;
      const lacking = new Set(
        await missingChunks(
          connection,
          fresh.map((chunk) => chunk.hash),
          signal,
        ),
      );
      await eachLimited(
        batchesOf(fresh.filter((chunk) => lacking.has(chunk.hash))),
        options.putConcurrency ?? DEFAULT_PUT_CONCURRENCY,
        async (batch) => {
          await putChunks(connection, batch, options.dataClass, signal);
          sentChunks += batch.length;
          sentBytes += batch.reduce((sum, chunk) => sum + chunk.length, 0);
          report();
        },
        signal,
      );
      report();
    },
  });
  // The manifest goes by its own route (a big tree's is larger than a GraphQL body may be), then the request.
  const uploadId = await stageManifest(
    connection,
    {
      datasetKey: options.datasetKey,
      dataClass: options.dataClass ?? null,
      kind: scanned.kind,
      entries: scanned.entries,
    },
    signal,
  );
  const data = await graphqlRequest<{ requestBackup: { id: string } }>(
    connection,
    'mutation($input: RequestBackupInput!) { requestBackup(input: $input) { id } }',
    {
      input: {
        datasetKey: options.datasetKey,
        dataClass: options.dataClass ?? null,
        uploadId,
        ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
      },
    },
    signal,
  );
  return { jobId: data.requestBackup.id, source: scanned, chunkCount: seen.size, sentChunks, sentBytes };
}
