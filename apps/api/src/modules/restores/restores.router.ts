import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  type ChunkedRestorePlan,
  chunkedRestorePlan,
  type RestoreJobWithRelations,
  recordBadChunk,
  storageConnectionOf,
  storedChunksIn,
} from '@echelon/db';
import { DomainError, orderRestoreCandidates } from '@echelon/domain';
import {
  adapterFor,
  chunkRepositoryFor,
  type ManifestEntry,
  sha256Meter,
  validateEntryPath,
  versionManifest,
} from '@echelon/storage';
import express from 'express';
import { hasPermission } from '../../auth.js';
import { authenticate, createContext, type RequestContext, rolesOf, type Services } from '../../context.js';
import { sendHttpError } from '../../http-errors.js';
import { type ByteRange, type ChunkSource, ChunkReader, entryBytes, tarOf } from './restore-stream.js';
import { findRestoreJob } from './restores.service.js';
import { tarLength } from './tar.js';

/** One `bytes=` range of a single-range Range header; undefined for anything else (the whole body is sent). */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  let start: number;
  let end: number;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(first);
    end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  }
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start > end || start >= size) {
    return 'unsatisfiable';
  }
  return { start, end };
}

/** What a download of a chunked version sends: one entry (ranges allowed) or a tar of several. */
type Selection =
  | { kind: 'entry'; entry: ManifestEntry }
  | { kind: 'tar'; entries: ManifestEntry[]; base: string | null };

function select(entries: readonly ManifestEntry[], kind: 'object' | 'tree', path: string | undefined): Selection {
  if (kind === 'object' && path === undefined) return { kind: 'entry', entry: entries[0] as ManifestEntry };
  if (path === undefined) return { kind: 'tar', entries: [...entries], base: null };
  const wanted = validateEntryPath(path, 'path');
  const file = entries.find((entry) => entry.path === wanted);
  if (file !== undefined) return { kind: 'entry', entry: file };
  const below = entries.filter((entry) => entry.path.startsWith(`${wanted}/`));
  if (below.length === 0)
    throw new DomainError('NOT_FOUND', `"${wanted.slice(0, 200)}" is not a file or directory of this version`);
  return { kind: 'tar', entries: below, base: wanted };
}

/**
 * The copies a chunked download reads, the one the restore chose first and then the healthiest, each with the
 * index's locations of the chunks it needs.
 */
async function chunkSources(
  context: RequestContext,
  services: Services,
  plan: ChunkedRestorePlan,
  job: RestoreJobWithRelations,
  hashes: readonly string[],
): Promise<ChunkSource[]> {
  const { tenant } = context.principal?.kind === 'identity' ? context.principal : { tenant: undefined };
  if (tenant === undefined) throw new DomainError('FORBIDDEN', 'a restore belongs to a tenant identity');
  const ordered = orderRestoreCandidates(
    plan.replicas.map((replica) => ({
      ...replica,
      replicaId: replica.id,
      storageHealthy: replica.storageSystem.healthy,
      completedAt: replica.completedAt ?? new Date(0),
    })),
  ).sort((a, b) => Number(b.id === job.fromReplicaId) - Number(a.id === job.fromReplicaId));
  const sources: ChunkSource[] = [];
  for (const replica of ordered) {
    if (replica.space === null) continue;
    const located = await storedChunksIn(context.db, tenant.id, replica.space.id, hashes);
    sources.push({
      replicaId: replica.id,
      spaceId: replica.space.id,
      label: `the ${replica.role.toLowerCase()} copy on ${replica.storageSystem.name}`,
      repository: chunkRepositoryFor(
        storageConnectionOf(replica.storageSystem, services.config.secretKey),
        replica.space.name,
        tenant.id,
        { s3: { privateEndpoints: services.config.s3PrivateEndpoints } },
      ),
      locations: new Map([...located.values()].map((chunk) => [chunk.hash, chunk.location])),
    });
  }
  if (sources.length === 0) throw new DomainError('NOT_FOUND', 'no verified copy of this version can be located');
  return sources;
}

/** Streams a chunked version's bytes: `?path=` picks a file (HTTP ranges allowed) or a directory (a tar). */
async function sendChunked(
  context: RequestContext,
  services: Services,
  job: RestoreJobWithRelations,
  plan: ChunkedRestorePlan,
  req: express.Request,
  res: express.Response,
): Promise<void> {
  const tenantId = job.tenantId;
  const manifest = versionManifest({
    tenantId,
    datasetKey: plan.version.datasetKey,
    version: plan.version.number,
    createdAt: plan.version.createdAt,
    contents: plan.version.contents,
  });
  const path = typeof req.query.path === 'string' && req.query.path !== '' ? req.query.path : undefined;
  const selection = select(manifest.entries, manifest.kind, path);
  const entries = selection.kind === 'entry' ? [selection.entry] : selection.entries;
  const hashes = [...new Set(entries.flatMap((entry) => entry.chunks.map(([hash]) => hash)))];
  const sources = await chunkSources(context, services, plan, job, hashes);
  const reader = new ChunkReader(sources, (source, hash, problem) =>
    recordBadChunk(context.db, {
      tenantId,
      replicaId: source.replicaId,
      spaceId: source.spaceId,
      hash,
      message: `a restore found chunk ${hash} bad here and read it from another copy: ${problem}`,
    }),
  );
  const stem = `${encodeURIComponent(plan.version.datasetKey)}.v${plan.version.number}`;
  res.setHeader('Cache-Control', 'no-store');
  if (selection.kind === 'tar') {
    res.status(200);
    res.setHeader('Content-Type', 'application/x-tar');
    res.setHeader('Content-Length', String(tarLength(entries)));
    res.setHeader('Accept-Ranges', 'none');
    res.setHeader('Content-Disposition', `attachment; filename="${stem}.tar"`);
    await pipeline(Readable.from(tarOf(entries, reader)), res);
    return;
  }
  const entry = selection.entry;
  const range = parseRange(req.headers.range, entry.size);
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Content-Type', 'application/octet-stream');
  const name = manifest.kind === 'object' ? stem : `${stem}-${encodeURIComponent(entry.path)}`;
  res.setHeader('Content-Disposition', `attachment; filename="${name}"`);
  if (range === 'unsatisfiable') {
    res.status(416).setHeader('Content-Range', `bytes */${entry.size}`);
    res.end();
    return;
  }
  if (range === undefined) {
    res.status(200);
    res.setHeader('Content-Length', String(entry.size));
    res.setHeader('Repr-Digest', `sha-256=:${Buffer.from(entry.sha256, 'hex').toString('base64')}:`);
  } else {
    res.status(206);
    res.setHeader('Content-Length', String(range.end - range.start + 1));
    res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${entry.size}`);
  }
  await pipeline(Readable.from(entryBytes(entry, reader, range)), res);
}

type CompletedRestoreJob = RestoreJobWithRelations & {
  fromReplica: NonNullable<RestoreJobWithRelations['fromReplica']>;
};

/** The caller's completed restore job named in the path, or the typed refusal a download answers with. */
async function completedRestore(
  services: Services,
  req: express.Request,
): Promise<{ context: RequestContext; job: CompletedRestoreJob }> {
  const principal = await authenticate(services, req.headers.authorization);
  if (principal === undefined) throw new DomainError('UNAUTHENTICATED', 'send Authorization: Bearer <API key>');
  if (principal.kind !== 'identity' || !hasPermission(rolesOf(principal), 'restore:read')) {
    throw new DomainError('FORBIDDEN', 'your roles do not allow restore:read');
  }
  const context = createContext(services, principal);
  const id = String(req.params.id ?? '');
  const job = await findRestoreJob(context, id);
  if (job === null) throw new DomainError('NOT_FOUND', `restore job ${id} does not exist`);
  if (job.status !== 'COMPLETED' || job.fromReplica === null) {
    throw new DomainError('CONFLICT', `restore job ${job.id} is ${job.status}, not COMPLETED`);
  }
  return { context, job: { ...job, fromReplica: job.fromReplica } };
}

/**
 * `GET /restores/:id/manifest`: what a completed restore of a chunked version holds, as JSON
 * `{ kind, sha256, entries: [{ path, mode, mtime, size, sha256 }] }` without chunk lists, so a client can check
 * every file it writes (and the listing against the version's sha256, see treeSha256). A version of the first data
 * plane has no manifest: it is listed as one object entry, `data`, whose sha256 is the version's.
 */
async function sendManifest(services: Services, req: express.Request, res: express.Response): Promise<void> {
  const { context, job } = await completedRestore(services, req);
  const plan = await chunkedRestorePlan(context.db, job.tenantId, job.datasetVersionId);
  res.setHeader('Cache-Control', 'no-store');
  if (plan === null) {
    // A whole object of the first data plane: one entry, the version itself (its download is that object).
    const version = job.datasetVersion;
    res.json({
      kind: 'object',
      sha256: version.sha256,
      entries: [
        {
          path: 'data',
          mode: '0644',
          mtime: version.createdAt.toISOString(),
          size: Number(version.sizeBytes),
          sha256: version.sha256,
        },
      ],
    });
    return;
  }
  const manifest = versionManifest({
    tenantId: job.tenantId,
    datasetKey: plan.version.datasetKey,
    version: plan.version.number,
    createdAt: plan.version.createdAt,
    contents: plan.version.contents,
  });
  res.json({
    kind: manifest.kind,
    sha256: manifest.sha256,
    entries: manifest.entries.map(({ path, mode, mtime, size, sha256 }) => ({ path, mode, mtime, size, sha256 })),
  });
}

/**
 * `GET /restores/:id/content`: a completed restore's bytes, with the same Authorization header as every other
 * request. A chunked version is reassembled as it is sent, each chunk verified, a bad chunk read from another copy
 * (see ChunkReader); `?path=` picks one file of a tree (HTTP Range works on it) or a directory (a tar), and a
 * whole tree is a tar. A whole object of the first data plane is streamed from the copy that verified. Either way
 * the bytes are hashed on the way out; if they do not match, the response is cut off instead of ending cleanly,
 * so a client never takes a corrupt download for a whole one (the sha256 is also in `Repr-Digest`).
 */
export function createRestoresRouter(services: Services): express.Router {
  const router = express.Router();
  router.get('/restores/:id/content', async (req, res) => {
    try {
      const { context, job } = await completedRestore(services, req);
      const plan = await chunkedRestorePlan(context.db, job.tenantId, job.datasetVersionId);
      if (plan !== null) {
        await sendChunked(context, services, job, plan, req, res);
        return;
      }
      const replica = job.fromReplica;
      const systems = await context.storageSystems();
      const system = systems.get(replica.storageSystemId);
      const space = system?.spaces.find((candidate) => candidate.id === replica.spaceId);
      if (system === undefined || space === undefined || replica.objectKey === null) {
        throw new DomainError('NOT_FOUND', 'the copy this restore used cannot be located any more');
      }
      const expected = job.datasetVersion.sha256;
      const source = await adapterFor(storageConnectionOf(system, services.config.secretKey), {
        s3: { privateEndpoints: services.config.s3PrivateEndpoints },
      }).read(space.name, replica.objectKey);
      res.status(200);
      res.setHeader('Content-Type', 'application/octet-stream');
      res.setHeader('Content-Length', job.datasetVersion.sizeBytes.toString());
      res.setHeader('Repr-Digest', `sha-256=:${Buffer.from(expected, 'hex').toString('base64')}:`);
      res.setHeader(
        'Content-Disposition',
        `attachment; filename="${encodeURIComponent(job.datasetVersion.dataset.key)}.v${job.datasetVersion.number}"`,
      );
      res.setHeader('Cache-Control', 'no-store');
      await pipeline(source, sha256Meter({ expectSha256: expected }), res);
    } catch (error) {
      sendHttpError(res, error, 'restore download');
    }
  });
  router.get('/restores/:id/manifest', (req, res) => {
    sendManifest(services, req, res).catch((error: unknown) => sendHttpError(res, error, 'restore manifest'));
  });
  return router;
}
