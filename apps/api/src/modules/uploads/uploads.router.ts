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

/**
 * tus 1.0 resumable uploads at /uploads. Every request carries the API key; an upload belongs to the tenant
 * and identity that created it and is invisible (404) to anyone else. When the last byte arrives the staged
 * file is hashed, which is the checksum every replica is later verified against.
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
  const requireUploader = async (req: Request) => {
    const principal = await principalOf(req);
    if (principal === undefined) throw new TusRefusal(401, 'send Authorization: Bearer <API key>\n');
    if (principal.kind !== 'identity')
      throw new TusRefusal(403, 'uploads belong to a tenant identity; use its API key\n');
    if (!hasPermission(rolesOf(principal), 'job:request'))
      throw new TusRefusal(403, 'your roles do not allow uploads\n');
    return principal;
  };

  const tus = new TusServer({
    path: '/uploads',
    datastore: new FileStore({ directory }),
    maxSize: DEFAULT_MAX_UPLOAD_BYTES,
    respectForwardedHeaders: true,
    namingFunction: () => randomUUID(),
    async onIncomingRequest(req, uploadId) {
      const principal = await requireUploader(req);
      if (req.method === 'POST' || req.method === 'OPTIONS') return;
      const upload = await findUpload(tenantDb(services.db, principal.tenant.id), principal.tenant.id, uploadId);
      if (upload === null) throw new TusRefusal(404, `upload ${uploadId} does not exist\n`);
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
    void tus.handle(req, res);
  };
  router.all('/uploads', handle);
  router.all('/uploads/*rest', handle);
  return router;
}
