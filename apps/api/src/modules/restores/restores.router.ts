import { pipeline } from 'node:stream/promises';
import { storageConnectionOf } from '@echelon/db';
import { DomainError } from '@echelon/domain';
import { adapterFor, sha256Meter } from '@echelon/storage';
import express from 'express';
import { hasPermission } from '../../auth.js';
import { sendHttpError } from '../../http-errors.js';
import { authenticate, createContext, rolesOf, type Services } from '../../context.js';
import { findRestoreJob } from './restores.service.js';

/**
 * `GET /restores/:id/content`: a completed restore's bytes, streamed from the copy that verified, with the same
 * Authorization header as every other request. The bytes are hashed again on the way out; if they no longer
 * match the version's sha256, the response is cut off instead of ending cleanly, so a client never takes a
 * corrupt download for a whole one (the sha256 is also in `Repr-Digest`).
 */
export function createRestoresRouter(services: Services): express.Router {
  const router = express.Router();
  router.get('/restores/:id/content', async (req, res) => {
    try {
      const principal = await authenticate(services, req.headers.authorization);
      if (principal === undefined) throw new DomainError('UNAUTHENTICATED', 'send Authorization: Bearer <API key>');
      if (principal.kind !== 'identity' || !hasPermission(rolesOf(principal), 'restore:read')) {
        throw new DomainError('FORBIDDEN', 'your roles do not allow restore:read');
      }
      const context = createContext(services, principal);
      const job = await findRestoreJob(context, req.params.id ?? '');
      if (job === null) throw new DomainError('NOT_FOUND', `restore job ${req.params.id} does not exist`);
      if (job.status !== 'COMPLETED' || job.fromReplica === null) {
        throw new DomainError('CONFLICT', `restore job ${job.id} is ${job.status}, not COMPLETED`);
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
  return router;
}
