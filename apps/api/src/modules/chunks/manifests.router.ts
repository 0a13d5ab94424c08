import { DomainError, validateDataClass, validateDatasetKey } from '@echelon/domain';
import express from 'express';
import { createContext, type Services } from '../../context.js';
import { sendHttpError } from '../../http-errors.js';
import { recordManifest, subjectIdentity } from '../jobs/jobs.service.js';
// Types only: the inputs module's decorators need reflect-metadata, which the GraphQL schema loads later.
import type { BackupManifestInput, ManifestKindEnum } from './chunks.inputs.js';
import { callerKey, TokenBuckets } from '../../token-buckets.js';
import { senderFirst } from './chunks.router.js';

/** The largest manifest body accepted: 100,000 files or a million chunk references fit well within it. */
export const MAX_MANIFEST_BODY_BYTES = 128 * 1024 * 1024;

const bad = (message: string, field: string) => new DomainError('BAD_USER_INPUT', message, { field });

/**
 * A manifest as the body sends it: the file format's compact entries (docs/data-layout.md), chunks as
 * `[sha256, length]` pairs, mtimes as ISO 8601 strings. Shapes are checked here; paths, modes, sizes and hashes by
 * the same checks as requestBackup's inline manifest.
 */
function manifestOf(body: unknown): { datasetKey: string; dataClass: string | null; manifest: BackupManifestInput } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw bad('send a JSON object: { datasetKey, dataClass?, kind: "object" | "tree", entries: [...] }', 'body');
  }
  const { datasetKey, dataClass, kind, entries } = body as Record<string, unknown>;
  if (typeof datasetKey !== 'string') throw bad('datasetKey must be a string', 'datasetKey');
  if (dataClass !== undefined && dataClass !== null && typeof dataClass !== 'string') {
    throw bad('dataClass must be a string or null', 'dataClass');
  }
  if (kind !== 'object' && kind !== 'tree') throw bad('kind must be "object" or "tree"', 'kind');
  if (!Array.isArray(entries)) throw bad('entries must be an array of files', 'entries');
  const parsed = entries.map((entry: unknown, index) => {
    const field = `entries[${index}]`;
    if (typeof entry !== 'object' || entry === null) throw bad(`${field} must be an object`, field);
    const { path, mode, mtime, size, sha256, chunks } = entry as Record<string, unknown>;
    if (typeof path !== 'string' || typeof mode !== 'string' || typeof sha256 !== 'string') {
      throw bad(`${field} needs path, mode and sha256 as strings`, field);
    }
    const at = typeof mtime === 'string' ? new Date(mtime) : undefined;
    if (at === undefined || Number.isNaN(at.getTime())) throw bad(`${field}.mtime must be an ISO 8601 time`, field);
    if (typeof size !== 'number') throw bad(`${field}.size must be a number of bytes`, field);
    if (!Array.isArray(chunks)) throw bad(`${field}.chunks must be an array of [sha256, length] pairs`, field);
    return {
      path,
      mode,
      mtime: at,
      size,
      sha256,
      chunks: chunks.map((ref: unknown, position) => {
        if (!Array.isArray(ref) || ref.length !== 2 || typeof ref[0] !== 'string' || typeof ref[1] !== 'number') {
          throw bad(`${field}.chunks[${position}] must be a [sha256, length] pair`, `${field}.chunks`);
        }
        return { hash: ref[0], length: ref[1] };
      }),
    };
  });
  return {
    datasetKey: validateDatasetKey(datasetKey),
    dataClass: validateDataClass(dataClass ?? null),
    // ManifestKindEnum's values are the file format's own words.
    manifest: { kind: kind as ManifestKindEnum, entries: parsed },
  };
}

/**
 * `POST /manifests`: stages a manifest as a complete upload of the caller's, for trees too large for a GraphQL
 * body (which stays small: see docs/api-limits.md). The caller is authenticated before the body is read; the body
 * is JSON of at most MAX_MANIFEST_BODY_BYTES. Every check of requestBackup's inline manifest applies, and every
 * chunk must be stored first (missingChunks, PUT /chunks/<sha256>). Answers 201 `{ "upload": { "id" } }`; back it
 * up with requestBackup(uploadId). An upload nobody backs up expires like any other.
 */
export function createManifestsRouter(services: Services): express.Router {
  const router = express.Router();
  // Parsing is the cost (a 128 MiB body holds the event loop for a second or two): each key gets a budget of body
  // MiB per minute, charged before a byte of the body is read.
  const budget = new TokenBuckets(services.config.manifestMibPerMinute);
  const MIB = 1024 * 1024;
  router.post(
    '/manifests',
    // The caller is known before a byte of the body is read: a stranger cannot make the API parse 128 MiB.
    senderFirst(services, 'manifest upload'),
    (req: express.Request, res: express.Response, next: express.NextFunction) => {
      const length = Number(req.headers['content-length']);
      if (!Number.isSafeInteger(length) || length < 0) {
        res.status(411).json({
          error: { code: 'BAD_USER_INPUT', message: 'send the manifest with a Content-Length header' },
        });
        return;
      }
      const perMinute = services.config.manifestMibPerMinute;
      const cost = Math.min(perMinute, Math.max(1, Math.ceil(length / MIB)));
      const retryAfterSeconds = budget.take(callerKey({ principal: res.locals.principal }), cost);
      if (retryAfterSeconds === 0) {
        next();
        return;
      }
      res
        .status(429)
        .set('Retry-After', String(retryAfterSeconds))
        .json({
          error: {
            code: 'BAD_USER_INPUT',
            message: `manifest bodies may add up to ${perMinute} MiB a minute per API key, and this key has sent them: try again in ${retryAfterSeconds} s`,
            limit: 'rate',
            retryAfterSeconds,
          },
        });
    },
    express.json({ limit: MAX_MANIFEST_BODY_BYTES, type: () => true }),
    (req: express.Request, res: express.Response) => {
      const context = createContext(services, res.locals.principal);
      Promise.resolve()
        .then(async () => {
          const { datasetKey, dataClass, manifest } = manifestOf(req.body);
          const subject = await subjectIdentity(context, null);
          return recordManifest(context, subject, datasetKey, dataClass, manifest);
        })
        .then(
          (uploadId) => res.status(201).json({ upload: { id: uploadId } }),
          (error: unknown) => sendHttpError(res, error, 'manifest upload'),
        );
    },
  );
  router.use(
    '/manifests',
    (
      error: { status?: number; message?: string; type?: string },
      _req: express.Request,
      res: express.Response,
      _next: express.NextFunction,
    ) => {
      const status = typeof error.status === 'number' && error.status >= 400 && error.status < 500 ? error.status : 400;
      res.status(status).json({
        error: {
          code: 'BAD_USER_INPUT',
          message:
            error.type === 'entity.too.large'
              ? `a manifest body is at most ${MAX_MANIFEST_BODY_BYTES} bytes: split the data into several datasets`
              : `the body is not a JSON manifest: ${error.message ?? 'it could not be read'}`,
        },
      });
    },
  );
  return router;
}
