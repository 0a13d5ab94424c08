import { Context } from '@temporalio/activity';
import { recordProgress, type Replica, transitionReplica, type WorkJob } from '@echelon/db';
import { objectKeyFor } from '@echelon/storage';
import { type Readable, Transform } from 'node:stream';
import type { ActivityEnv } from './activity-support.js';
import { type CopyTiming, reserveAndWait } from './copy-attempt.js';

/** Paces a stream to `bytesPerSecond`, so a copy does not saturate the link or the disk. */
function rateLimited(bytesPerSecond: number): Transform {
  const started = Date.now();
  let passed = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      passed += chunk.length;
      const due = started + (passed / bytesPerSecond) * 1000;
      setTimeout(() => callback(null, chunk), Math.max(0, due - Date.now()));
    },
  });
}

/**
 * A version of the first data plane, one whole object: streams `source` into the replica's space, COPYING with
 * throttled progress events and heartbeats, VERIFYING while the landed bytes are re-read, COMPLETED with the
 * checksum. An object already committed by an earlier attempt that crashed before recording it is verified and
 * accepted instead of copied again.
 */
export async function copyWholeObject(
  env: ActivityEnv,
  job: WorkJob,
  replica: Replica,
  openSource: () => Promise<Readable>,
  timing: CopyTiming = {},
): Promise<void> {
  if (replica.status === 'COMPLETED') return;
  const tenantId = job.tenantId;
  const db = env.as(tenantId);
  const version = job.datasetVersion;
  const { reserved, system, space } = await reserveAndWait(env, job, replica, timing);
  const adapter = env.adapterOf(system);
  const key = objectKeyFor({ tenantId, datasetId: version.datasetId, version: version.number });
  const expected = { sha256: version.sha256, bytes: Number(version.sizeBytes) };
  const context = Context.current();
  await transitionReplica(db, {
    tenantId,
    replicaId: replica.id,
    to: 'COPYING',
    patch: {
      startedAt: new Date(),
      attempts: reserved.attempts + 1,
      objectKey: key,
      bytesCopied: 0n,
      lastError: null,
    },
    message: `attempt ${reserved.attempts + 1}: copying to ${system.name}/${space.name}`,
  });
  const landed = await adapter.stat(space.name, key);
  if (landed === undefined || landed.sha256 !== expected.sha256 || landed.bytes !== expected.bytes) {
    let lastReport = 0;
    const raw = await openSource();
    const rate = env.deps.copyRateLimit;
    const source = rate ? raw.pipe(rateLimited(rate)) : raw;
    if (rate) {
      raw.on('error', (error) => source.destroy(error));
      source.once('close', () => raw.destroy());
    }
    await adapter.write(space.name, key, source, {
      expectedSha256: expected.sha256,
      expectedBytes: expected.bytes,
      signal: context.cancellationSignal,
      onProgress: (bytes) => {
        context.heartbeat({ bytes });
        const now = Date.now();
        if (now - lastReport >= env.progressIntervalMs && bytes < expected.bytes) {
          lastReport = now;
          void recordProgress(db, { tenantId, replicaId: replica.id, bytesCopied: bytes }).catch(() => undefined);
        }
      },
      onVerifying: async () => {
        await transitionReplica(db, {
          tenantId,
          replicaId: replica.id,
          to: 'VERIFYING',
          patch: { bytesCopied: BigInt(expected.bytes) },
          message: 'verifying sha256 at the destination',
        });
      },
    });
  } else {
    await transitionReplica(db, {
      tenantId,
      replicaId: replica.id,
      to: 'VERIFYING',
      patch: { bytesCopied: BigInt(expected.bytes) },
      message: 'found a committed copy from an earlier attempt; verified it',
    });
  }
  await transitionReplica(db, {
    tenantId,
    replicaId: replica.id,
    to: 'COMPLETED',
    patch: { completedAt: new Date(), checksum: expected.sha256, bytesCopied: BigInt(expected.bytes) },
    message: `verified sha256 ${expected.sha256}`,
  });
}
