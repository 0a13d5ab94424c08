import { type Principal, authenticate, createContext, rolesOf, type Services } from '../../context.js';
import { hasPermission } from '../../auth.js';
import { sendHttpError } from '../../http-errors.js';
import { DomainError } from '@echelon/domain';
import { MAX_CHUNK_SIZE } from '@echelon/storage';
import express from 'express';
import { MAX_CHUNK_BATCH_BYTES, parseChunkBatch, putChunk, putChunks } from './chunks.service.js';

/** The caller of a chunk upload: a tenant identity whose roles allow sending chunks. */
export function chunkSender(principal: Principal | undefined): Principal {
  if (principal === undefined) throw new DomainError('UNAUTHENTICATED', 'send Authorization: Bearer <API key>');
  if (principal.kind !== 'identity') {
    throw new DomainError('FORBIDDEN', "chunks belong to a tenant; send them with a tenant identity's API key");
  }
  if (!hasPermission(rolesOf(principal), 'chunk:write')) {
    throw new DomainError('FORBIDDEN', 'your roles do not allow sending chunks');
  }
  return principal;
}

/**
 * The first handler of every route that takes data in a body (chunks, batches, manifests): the caller is
 * authenticated and must be allowed to send chunks before a byte of the body is read, so a stranger cannot make
 * the API read and parse megabytes. The principal is left in `res.locals.principal`.
 */
export function senderFirst(services: Services, what: string): express.RequestHandler {
  return (req, res, next) => {
    authenticate(services, req.headers.authorization)
      .then((principal) => chunkSender(principal))
      .then(
        (principal) => {
          res.locals.principal = principal;
          next();
        },
        (error: unknown) => sendHttpError(res, error, what),
      );
  };
}

/**
 * PUT /chunks/<sha256> with a chunk's raw bytes (at most 4 MiB): for clients that chunk locally (the chunk
 * protocol: missingChunks, this, then requestBackup with a manifest). 201 when stored, 200 when the tenant's intake
 * space held it already; either way the body is `{ "chunk": { "hash", "length", "written" } }`. `?dataClass=`
 * picks the policy (and so the intake space) as requestBackup's dataClass does.
 */
export function createChunksRouter(services: Services): express.Router {
  const router = express.Router();
  router.put(
    '/chunks/:hash',
    senderFirst(services, 'chunk upload'),
    express.raw({ type: () => true, limit: MAX_CHUNK_SIZE }),
    (req: express.Request, res: express.Response) => {
      const hash = String(req.params.hash ?? '');
      const dataClass = typeof req.query.dataClass === 'string' ? req.query.dataClass : undefined;
      const context = createContext(services, res.locals.principal);
      const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      putChunk(context, { hash, bytes, dataClass }).then(
        (chunk) => res.status(chunk.written ? 201 : 200).json({ chunk }),
        (error: unknown) => sendHttpError(res, error, 'chunk upload'),
      );
    },
  );
  // POST /chunks: a batch (see parseChunkBatch), the caller known before the body is read.
  router.post(
    '/chunks',
    senderFirst(services, 'chunk upload'),
    express.raw({ type: () => true, limit: MAX_CHUNK_BATCH_BYTES }),
    (req: express.Request, res: express.Response) => {
      const dataClass = typeof req.query.dataClass === 'string' ? req.query.dataClass : undefined;
      const context = createContext(services, res.locals.principal);
      Promise.resolve()
        .then(() =>
          putChunks(context, {
            chunks: parseChunkBatch(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)),
            dataClass,
          }),
        )
        .then(
          (chunks) => res.status(200).json({ chunks }),
          (error: unknown) => sendHttpError(res, error, 'chunk upload'),
        );
    },
  );
  // A body over 4 MiB (or unreadable): the contract's code, never an HTML page.
  router.use(
    '/chunks',
    (
      error: { status?: number; message?: string },
      _req: express.Request,
      res: express.Response,
      _next: express.NextFunction,
    ) => {
      const status = typeof error.status === 'number' && error.status >= 400 && error.status < 500 ? error.status : 400;
      res.status(status).json({
        error: {
          code: 'BAD_USER_INPUT',
          message: `a chunk is 1 to ${MAX_CHUNK_SIZE} raw bytes: ${error.message ?? 'the body could not be read'}`,
        },
      });
    },
  );
  return router;
}
