import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { completeUpload, findUpload, recordUpload, tenantDb } from '@echelon/db';
import { FileStore } from '@tus/file-store';
import { Server as TusServer } from '@tus/server';
import express from 'express';
import { hasPermission } from '../../auth.js';
import { authenticate, type Principal, rolesOf, type Services } from '../../context.js';

/** Largest upload accepted unless configured otherwise: 1 TiB. */
const DEFAULT_MAX_UPLOAD_BYTES = 1024 ** 4;

class TusRefusal {
  constructor(
    readonly status_code: number,
    readonly body: string,
  ) {}
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The verbs tus defines on an upload; reading staged bytes back is not one of them. */
const UPLOAD_VERBS = 'HEAD, PATCH, DELETE, OPTIONS';

/**
 * tus 1.0 resumable uploads at /uploads. Every request carries the API key; an upload belongs to the tenant
 * and identity that created it and is invisible (404) to anyone else. When the last byte arrives the staged
 * file is hashed, which is the checksum every replica is later verified against. Staged bytes are never served
 * back (GET is 405 for the owner): the copy that counts is the backup, restored through /restores.
 */
export async function createUploadsRouter(services: Services): Promise<express.Router> {
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

  const tus = new TusServer({
    path: '/uploads',
    datastore: new FileStore({ directory }),
    maxSize: DEFAULT_MAX_UPLOAD_BYTES,
    // The Location of a new upload follows X-Forwarded-Host/-Proto only behind a proxy the operator trusts;
    // otherwise any client could point other clients' uploads at its own host.
    respectForwardedHeaders: services.config.trustProxy,
    namingFunction: () => randomUUID(),
    async onIncomingRequest(req, uploadId) {
      const principal = await requireUploader(req);
      if (req.method === 'POST' || req.method === 'OPTIONS') return;
      await ownUpload(principal, uploadId);
    },
    async onUploadCreate(req, upload) {
      const principal = await requireUploader(req);
      if (upload.size === undefined) {
        throw new TusRefusal(400, 'send Upload-Length: deferred lengths are not accepted\n');
      }
      await recordUpload(tenantDb(services.db, principal.tenant.id), {
        id: upload.id,
        tenantId: principal.tenant.id,
        identityId: principal.identity.id,
        sizeBytes: upload.size,
        stagingPath: path.join(directory, upload.id),
      });
      return {};
    },
    async onUploadFinish(req, upload) {
      const principal = await requireUploader(req);
      await completeUpload(
        tenantDb(services.db, principal.tenant.id),
        upload.id,
        await sha256Of(path.join(directory, upload.id)),
      );
      return {};
    },
    async onResponseError(_req, error) {
      if (error instanceof TusRefusal) return { status_code: error.status_code, body: error.body };
      if ('status_code' in error) return undefined;
      console.error('upload failed:', error);
      return { status_code: 500, body: 'upload failed; the server logged the details\n' };
    },
  });

  const router = express.Router();
  const handle = (req: express.Request, res: express.Response) => {
    tus.handle(req, res).catch((error: unknown) => {
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
            .send(`staged uploads are not served back; use ${UPLOAD_VERBS}\n`),
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
  return router;
}
