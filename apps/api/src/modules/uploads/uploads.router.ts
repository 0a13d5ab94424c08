import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { completeUpload, findUpload, recordChunkedUpload, recordUpload, tenantDb } from '@echelon/db';
import { isDomainError } from '@echelon/domain';
import { FileStore } from '@tus/file-store';
import { ERRORS as TUS_ERRORS, Server as TusServer } from '@tus/server';
import express from 'express';
import { hasPermission } from '../../auth.js';
import { authenticate, createContext, type Principal, rolesOf, type Services } from '../../context.js';
import { intakeSpaceById } from '../chunks/intake-space.js';
import { intakePlacement } from '../jobs/jobs.service.js';
import { ChunkedIntakeStore, intakeRequests, TusRefusal } from './chunked-intake-store.js';

/** Largest upload accepted unless configured otherwise: 1 TiB. */
const DEFAULT_MAX_UPLOAD_BYTES = 1024 ** 4;

/** tus answers for the domain's refusals (no policy, no room, storage down, bad metadata). */
const TUS_STATUS: Record<string, number> = {
  BAD_USER_INPUT: 400,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  NO_POLICY: 422,
  STORAGE_UNAVAILABLE: 503,
  INSUFFICIENT_CAPACITY: 507,
};

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** An upload is created with its length; tus's creation-defer-length is not offered. */
const DEFERRED_LENGTH_REFUSAL = { status_code: 400, body: 'send Upload-Length: deferred lengths are not accepted\n' };

/** The verbs tus defines on an upload; reading staged bytes back is not one of them. */
const UPLOAD_VERBS = 'HEAD, PATCH, DELETE, OPTIONS';

const headerNumber = (value: string | string[] | undefined): number | undefined => {
  if (typeof value !== 'string' || !/^\d{1,16}$/.test(value)) return undefined;
  return Number(value);
};

export interface UploadsRouter {
  router: express.Router;
  /** The intake store, for its counters (tests) and its shutdown. */
  intake: ChunkedIntakeStore;
}

/**
 * tus 1.0 resumable uploads at /uploads. Every request carries the API key; an upload belongs to the tenant
 * and identity that created it and is invisible (404) to anyone else. The bytes stream through the chunker into
 * the caller's intake space, the primary its policy picks for them (`dataClass` in the tus metadata chooses the
 * policy as requestBackup's does); see ChunkedIntakeStore. Only when that primary's storage cannot hold chunks is
 * an upload staged whole in the staging directory, as before. Uploaded bytes are never served back (GET is 405 for
 * the owner): the copy that counts is the backup, restored through /restores.
 */
export async function createUploadsRouter(services: Services): Promise<UploadsRouter> {
  const directory = services.config.stagingDir;
  await mkdir(directory, { recursive: true });
  const principals = new WeakMap<Request, Promise<Principal | undefined>>();
  const principalOf = (req: Request) => {
    let found = principals.get(req);
    if (found === undefined) {
      found = authenticate(services, req.headers.get('authorization'));
      principals.set(req, found);
    }
    return found;
  };
  /** The caller as an uploader: a tenant identity whose roles allow uploads. */
  const uploaderOf = (principal: Principal | undefined) => {
    if (principal === undefined) throw new TusRefusal(401, 'send Authorization: Bearer <API key>\n');
    if (principal.kind !== 'identity')
      throw new TusRefusal(403, 'uploads belong to a tenant identity; use its API key\n');
    if (!hasPermission(rolesOf(principal), 'job:request'))
      throw new TusRefusal(403, 'your roles do not allow uploads\n');
    return principal;
  };
  const requireUploader = async (req: Request) => uploaderOf(await principalOf(req));

  /** The caller's own upload; another identity's, like one that does not exist, is 404. */
  const ownUpload = async (principal: ReturnType<typeof uploaderOf>, uploadId: string) => {
    const owner = { tenantId: principal.tenant.id, identityId: principal.identity.id };
    const upload = await findUpload(tenantDb(services.db, principal.tenant.id), owner, uploadId);
    if (upload === null) throw new TusRefusal(404, `upload ${uploadId} does not exist\n`);
    return upload;
  };
  /** The request the store serves learns its upload here, once the caller's ownership is checked. */
  const serving = (upload: Awaited<ReturnType<typeof ownUpload>>) => {
    const request = intakeRequests.getStore();
    if (request !== undefined) request.upload = upload;
  };

  const intake = new ChunkedIntakeStore({
    db: services.db,
    staging: new FileStore({ directory }),
    repositoryFor: async (upload) =>
      (
        await intakeSpaceById(
          tenantDb(services.db, upload.tenantId),
          services.config,
          upload.tenantId,
          upload.intakeSpaceId as string,
        )
      ).repository,
    log: (message) => console.log(message),
  });

  const tus = new TusServer({
    path: '/uploads',
    datastore: intake,
    maxSize: DEFAULT_MAX_UPLOAD_BYTES,
    // The Location of a new upload follows X-Forwarded-Host/-Proto only behind a proxy the operator trusts;
    // otherwise any client could point other clients' uploads at its own host.
    respectForwardedHeaders: services.config.trustProxy,
    namingFunction: () => randomUUID(),
    async onIncomingRequest(req, uploadId) {
      const principal = await requireUploader(req);
      if (req.method === 'POST' || req.method === 'OPTIONS') return;
      serving(await ownUpload(principal, uploadId));
    },
    async onUploadCreate(req, upload) {
      const principal = await requireUploader(req);
      if (upload.size === undefined) {
        throw new TusRefusal(DEFERRED_LENGTH_REFUSAL.status_code, DEFERRED_LENGTH_REFUSAL.body);
      }
      const owner = { id: upload.id, tenantId: principal.tenant.id, identityId: principal.identity.id };
      const db = tenantDb(services.db, principal.tenant.id);
      const context = createContext(services, principal);
      const placement = await intakePlacement(context, {
        sizeBytes: upload.size,
        dataClass: upload.metadata?.dataClass,
      });
      const space = await intakeSpaceById(db, services.config, principal.tenant.id, placement.spaceId).catch(
        (error: unknown) => {
          if (isDomainError(error) && error.code === 'STORAGE_UNAVAILABLE') return undefined;
          throw error;
        },
      );
      serving(
        space === undefined
          ? // The primary's storage cannot hold chunks: the upload is staged whole, as the worker still copies it.
            await recordUpload(db, { ...owner, sizeBytes: upload.size, stagingPath: path.join(directory, upload.id) })
          : await recordChunkedUpload(db, {
              ...owner,
              sizeBytes: upload.size,
              intakeSpaceId: space.spaceId,
              metadata: upload.metadata ?? {},
            }),
      );
      return {};
    },
    async onUploadFinish(req, upload) {
      const principal = await requireUploader(req);
      const owner = { tenantId: principal.tenant.id, identityId: principal.identity.id };
      const row = await ownUpload(principal, upload.id);
      if (row.stagingPath === null) {
        await intake.finish(owner, upload.id);
      } else if (row.completedAt === null) {
        await completeUpload(tenantDb(services.db, principal.tenant.id), upload.id, await sha256Of(row.stagingPath));
      }
      return {};
    },
    async onResponseError(_req, error) {
      if (error instanceof TusRefusal) return { status_code: error.status_code, body: error.body };
      // tus answers 501 for a deferred length before any hook runs (the intake store does not take them): it is
      // the client's request that is wrong.
      if (error === TUS_ERRORS.UNSUPPORTED_CREATION_DEFER_LENGTH_EXTENSION) return DEFERRED_LENGTH_REFUSAL;
      if (isDomainError(error)) return { status_code: TUS_STATUS[error.code] ?? 400, body: `${error.message}\n` };
      if ('status_code' in error) return undefined;
      console.error('upload failed:', error);
      return { status_code: 500, body: 'upload failed; the server logged the details\n' };
    },
  });

  const router = express.Router();
  const handle = (req: express.Request, res: express.Response) => {
    const request = {
      method: req.method,
      uploadOffset: headerNumber(req.headers['upload-offset']),
      contentLength: headerNumber(req.headers['content-length']),
    };
    intakeRequests
      .run(request, () => tus.handle(req, res))
      .catch((error: unknown) => {
        console.error('upload request failed:', error);
        if (!res.headersSent) res.status(500).type('text/plain').send('upload failed; the server logged the details\n');
        else res.destroy();
      });
  };
  // Answered here, before tus: its GET handler streams the staged file and closes the stream under itself.
  router.get(['/uploads', '/uploads/*rest'], (req: express.Request, res: express.Response, next) => {
    // Express routes HEAD through GET handlers; HEAD is tus's own.
    if (req.method !== 'GET') {
      next();
      return;
    }
    const uploadId = req.path.split('/')[2] ?? '';
    res.set('Tus-Resumable', '1.0.0');
    authenticate(services, req.headers.authorization)
      .then((principal) => ownUpload(uploaderOf(principal), uploadId))
      .then(
        () =>
          res
            .status(405)
            .set('Allow', UPLOAD_VERBS)
            .type('text/plain')
            .send(`uploaded bytes are not served back; use ${UPLOAD_VERBS}\n`),
        (error: unknown) => {
          if (error instanceof TusRefusal) res.status(error.status_code).type('text/plain').send(error.body);
          else {
            console.error('upload request failed:', error);
            res.status(500).type('text/plain').send('upload failed; the server logged the details\n');
          }
        },
      );
  });
  router.all('/uploads', handle);
  router.all('/uploads/*rest', handle);
  return { router, intake };
}
