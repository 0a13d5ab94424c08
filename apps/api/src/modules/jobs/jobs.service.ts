import { randomUUID } from 'node:crypto';
import {
  cancelJob,
  recordManifestUpload,
  removeUnusedUpload,
  capacityMap,
  getReplica,
  createBackupJob,
  findIdentity,
  readBackupIntake,
  type PolicyContext,
  findJobByIdempotencyKey,
  getJob,
  jobOwner,
  type JobWithRelations,
  listJobs,
  loadPolicyContext,
  type PolicyTemplateVersion,
  setJobWorkflowId,
} from '@echelon/db';
import {
  DomainError,
  type Placement,
  type ResolvedScheme,
  type StorageCapacity,
  requireIdFilter,
  requireKnownIdShape,
  resolveScheme,
  retryWorkflowIdFor,
  validateDataClass,
  validateDatasetKey,
} from '@echelon/domain';
import { InFlight } from '@echelon/events';
import { isMemberOnly, maySeeOwnedBy } from '../../auth.js';
import { type RequestContext, rolesOf, tenantOf } from '../../context.js';
import { contentsFromManifest } from '../chunks/backup-manifest.js';
import type { BackupManifestInput } from '../chunks/chunks.inputs.js';
import { requireHeldChunks } from '../chunks/chunks.service.js';
import type { BackupJobFilter, PreviewSchemeInput, RequestBackupInput } from './jobs.inputs.js';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/**
 * The identity whose data a request concerns: the caller by default; another identity of the tenant only for
 * roles that act for others. An identity of another tenant is NOT_FOUND.
 */
export async function subjectIdentity(context: RequestContext, identityId: string | null | undefined) {
  const { tenant, identity: caller } = tenantOf(context);
  if (identityId === null || identityId === undefined || identityId === caller.id) return caller;
  requireKnownIdShape(identityId, 'identity');
  const subject = await findIdentity(context.db, tenant.id, identityId).catch(() => null);
  if (subject === null) throw new DomainError('NOT_FOUND', `identity ${identityId} does not exist in this tenant`);
  if (isMemberOnly(rolesOf({ kind: 'identity', tenant, identity: caller, apiKeyId: '' }))) {
    throw new DomainError('FORBIDDEN', 'a MEMBER acts on its own identity only; leave identityId out');
  }
  return subject;
}

/**
 * The same resolution for previews and for requests: assignment → template → placement. `read` is what the
 * request already read (requestBackup reads it with its upload, in one statement); a preview reads it here.
 */
async function resolveFor(
  context: RequestContext,
  subject: { id: string; externalId: string; groups: string[] },
  sizeBytes: number,
  dataClass: string | null,
  read?: { policies: PolicyContext; capacities: Map<string, StorageCapacity> },
): Promise<{ scheme: ResolvedScheme; templateVersion: PolicyTemplateVersion }> {
  const { tenant } = tenantOf(context);
  const [policies, storage] = read
    ? [read.policies, read.capacities]
    : await Promise.all([loadPolicyContext(context.db, tenant.id), capacityMap(context.db, tenant.id)]);
  const scheme = resolveScheme({
    requester: { identityId: subject.id, externalId: subject.externalId, groups: subject.groups },
    request: { sizeBytes, dataClass },
    assignments: policies.assignments,
    templates: policies.templates,
    storage,
  });
  const templateVersion = policies.versions.get(scheme.templateId);
  if (templateVersion === undefined)
    throw new DomainError('NO_POLICY', `template ${scheme.templateId} has no published version`);
  return { scheme, templateVersion };
}

/**
 * The caller's intake space for new bytes (tus uploads, chunks sent by clients): the primary space its policy picks
 * for `sizeBytes` of `dataClass` now, resolved as previewScheme and requestBackup resolve schemes.
 */
export async function intakePlacement(
  context: RequestContext,
  input: { sizeBytes: number; dataClass: string | null | undefined },
): Promise<Placement> {
  const { identity } = tenantOf(context);
  const { scheme } = await resolveFor(context, identity, input.sizeBytes, validateDataClass(input.dataClass));
  return scheme.primary;
}

export async function previewScheme(context: RequestContext, input: PreviewSchemeInput) {
  const subject = await subjectIdentity(context, input.identityId);
  return resolveFor(context, subject, input.sizeBytes, validateDataClass(input.dataClass));
}

/**
 * Records a backup job for staged data and starts its workflow. Validation and resolution happen before
 * anything is written, so a refused request changes nothing.
 */
export async function requestBackup(context: RequestContext, input: RequestBackupInput): Promise<JobWithRelations> {
  const { tenant } = tenantOf(context);
  validateDatasetKey(input.datasetKey);
  const dataClass = validateDataClass(input.dataClass);
  if (
    input.idempotencyKey !== null &&
    input.idempotencyKey !== undefined &&
    !IDEMPOTENCY_KEY.test(input.idempotencyKey)
  ) {
    throw new DomainError('BAD_USER_INPUT', 'idempotencyKey must be 1–200 printable ASCII characters', {
      field: 'idempotencyKey',
    });
  }
  const hasUpload = input.uploadId !== null && input.uploadId !== undefined;
  const hasSource = input.source !== null && input.source !== undefined;
  const manifest = input.manifest ?? null;
  if ([hasUpload, hasSource, manifest !== null].filter(Boolean).length !== 1) {
    throw new DomainError('BAD_USER_INPUT', 'pass exactly one of uploadId, source and manifest', {
      field: 'uploadId',
    });
  }
  if (hasSource) {
    throw new DomainError(
      'BAD_USER_INPUT',
      'backups from a source location are not available in this version; stage the data with a tus upload to /uploads and pass uploadId',
      { field: 'source' },
    );
  }
  const subject = await subjectIdentity(context, input.identityId);
  const idempotencyKey = input.idempotencyKey ?? null;
  // A request sent again with its idempotency key answers with the job the first one made.
  const earlier = async () => {
    if (idempotencyKey === null) return null;
    const job = await findJobByIdempotencyKey(context.db, tenant.id, idempotencyKey);
    if (job?.status === 'PENDING') context.starter.enqueue({ tenantId: tenant.id, jobId: job.id });
    return job;
  };
  const repeated = await earlier();
  if (repeated !== null) return repeated;
  // A manifest becomes a complete upload of the caller's, after which everything is as for a tus upload.
  const uploadId =
    manifest === null
      ? requireKnownIdShape(input.uploadId as string, 'upload')
      : await recordManifest(context, subject, input.datasetKey, dataClass, manifest);
  const recorded = manifest !== null;
  try {
    return await backUpUpload(context, input, { subject, dataClass, idempotencyKey, uploadId, earlier });
  } catch (error) {
    // A refused request changes nothing: the manifest's upload goes with it (its chunks stay, as stored chunks).
    if (recorded) await removeUnusedUpload(context.db, tenant.id, uploadId);
    throw error;
  }
}

/**
 * Records a manifest as a complete chunked upload of the caller's, once it is valid, every chunk it names is held
 * by the tenant, and a scheme resolves for it (the scheme's primary space is its intake space). Returns its id.
 * requestBackup takes a manifest inline; POST /manifests stages one too large for a GraphQL body the same way.
 */
export async function recordManifest(
  context: RequestContext,
  subject: { id: string; externalId: string; groups: string[] },
  datasetKey: string,
  dataClass: string | null,
  manifest: BackupManifestInput,
): Promise<string> {
  const { tenant, identity } = tenantOf(context);
  const { contents, sha256, sizeBytes } = contentsFromManifest(
    { kind: manifest.kind, entries: manifest.entries },
    { tenantId: tenant.id, datasetKey },
  );
  await requireHeldChunks(
    context,
    contents.entries.flatMap((entry) => entry.chunks),
  );
  const { scheme } = await resolveFor(context, subject, sizeBytes, dataClass);
  const upload = await recordManifestUpload(context.db, {
    id: randomUUID(),
    tenantId: tenant.id,
    identityId: identity.id,
    intakeSpaceId: scheme.primary.spaceId,
    sha256,
    sizeBytes,
    contents,
  });
  return upload.id;
}

async function backUpUpload(
  context: RequestContext,
  input: RequestBackupInput,
  request: {
    subject: Awaited<ReturnType<typeof subjectIdentity>>;
    dataClass: string | null;
    idempotencyKey: string | null;
    uploadId: string;
    earlier: () => Promise<JobWithRelations | null>;
  },
): Promise<JobWithRelations> {
  const { tenant } = tenantOf(context);
  const { subject, dataClass, idempotencyKey, earlier } = request;
  // Only the identity that staged the bytes may back them up, even on another identity's behalf.
  const intake = await readBackupIntake(
    context.db,
    { tenantId: tenant.id, identityId: tenantOf(context).identity.id },
    request.uploadId,
  );
  const staged = intake.staged;
  if (staged === null) throw new DomainError('NOT_FOUND', `upload ${request.uploadId} does not exist`);
  const { upload, used } = staged;
  if (upload.completedAt === null || upload.sha256 === null) {
    throw new DomainError(
      'BAD_USER_INPUT',
      `upload ${upload.id} is not complete yet; send the rest of its bytes first`,
      {
        field: 'uploadId',
      },
    );
  }
  if (used) {
    // The same request may have been made meanwhile (sent twice at once): that job is the answer.
    const raced = await earlier();
    if (raced !== null) return raced;
    throw new DomainError(
      'CONFLICT',
      `upload ${upload.id} was already backed up; upload the data again for a new version`,
    );
  }
  const { scheme, templateVersion } = await resolveFor(context, subject, Number(upload.sizeBytes), dataClass, intake);
  const { job } = await createBackupJob(context.db, tenant.id, {
    identityId: subject.id,
    identity: subject,
    datasetKey: input.datasetKey,
    upload,
    templateVersionId: templateVersion.id,
    templateVersion,
    scheme,
    idempotencyKey,
  });
  // Committed: the workflow starts right after the answer (a lost start is swept up; see WorkflowStarter).
  context.starter.enqueue({ tenantId: tenant.id, jobId: job.id });
  return job;
}

/** Owner reads in flight by tenant and job: the subscribers that join a job at once share one read. */
const ownerReads = new InFlight<string, { identityId: string } | null>();

/**
 * Whether the caller may see the job, with one read and nothing loaded (subscriptions: a thousand subscribers
 * joining at once each check, and those of one job share the read in flight): false for another tenant's job, an
 * unknown or malformed id, or another identity's job for a MEMBER, as `findJob` decides.
 */
export async function canSeeJob(context: RequestContext, jobId: string): Promise<boolean> {
  const { tenant, identity } = tenantOf(context);
  const owner = await ownerReads.run(`${tenant.id}/${jobId}`, () =>
    jobOwner(context.db, tenant.id, jobId).catch(() => null),
  );
  if (owner === null) return false;
  return maySeeOwnedBy(identity, owner.identityId);
}

export async function findJob(context: RequestContext, jobId: string): Promise<JobWithRelations | null> {
  const { tenant, identity } = tenantOf(context);
  const job = await getJob(context.db, tenant.id, jobId).catch(() => null);
  if (job === null) return null;
  if (!maySeeOwnedBy(identity, job.identityId)) return null;
  return job;
}

export async function findJobs(
  context: RequestContext,
  filter: BackupJobFilter | null | undefined,
  first: number,
  after: string | null | undefined,
) {
  const { tenant, identity } = tenantOf(context);
  if (!Number.isInteger(first) || first < 1 || first > 500) {
    throw new DomainError('BAD_USER_INPUT', `first must be between 1 and 500, not ${first}`, { field: 'first' });
  }
  const scoped = { ...filter };
  requireIdFilter(scoped.identityId, 'identityId');
  if (scoped.datasetKey !== null && scoped.datasetKey !== undefined) validateDatasetKey(scoped.datasetKey);
  if (isMemberOnly(identity.roles)) scoped.identityId = identity.id;
  return listJobs(context.db, tenant.id, scoped, first, after ?? null);
}

/** A job the caller may act on: NOT_FOUND for another tenant's job, or another identity's for a MEMBER. */
async function jobToActOn(context: RequestContext, jobId: string): Promise<JobWithRelations> {
  const job = await findJob(context, jobId);
  if (job === null) throw new DomainError('NOT_FOUND', `backup job ${jobId} does not exist in this tenant`);
  return job;
}

/**
 * Cancels a pending or running job: the workflow stops its copy in flight (partial data removed) and marks
 * every unwritten replica CANCELLED. A job whose workflow never started is cancelled here directly.
 */
export async function cancelBackup(context: RequestContext, jobId: string): Promise<JobWithRelations> {
  const { tenant } = tenantOf(context);
  const job = await jobToActOn(context, jobId);
  if (job.status !== 'PENDING' && job.status !== 'RUNNING') {
    throw new DomainError(
      'CONFLICT',
      `backup job ${jobId} is ${job.status}; only a PENDING or RUNNING job can be cancelled`,
    );
  }
  // A job whose workflow may not have started yet is started first, so that the workflow's own cancellation
  // (which tidies its replicas) is what ends it.
  if (job.status === 'PENDING') await context.starter.startNow({ tenantId: tenant.id, jobId: job.id });
  const requested = await context.backups.cancel(job.workflowId);
  if (!requested) await cancelJob(context.db, tenant.id, job.id);
  return (await findJob(context, jobId)) ?? job;
}

/** Ends the remaining delays of a running job: each secondary is copied as soon as the previous one is done. */
export async function replicateNow(context: RequestContext, jobId: string): Promise<JobWithRelations> {
  const job = await jobToActOn(context, jobId);
  if (job.status !== 'RUNNING' && job.status !== 'PENDING') {
    throw new DomainError('CONFLICT', `backup job ${jobId} is ${job.status}; only a running job has delays to skip`);
  }
  if (job.status === 'PENDING') await context.starter.startNow({ tenantId: job.tenantId, jobId: job.id });
  await context.backups.replicateNow(job.workflowId);
  return job;
}

/** Runs one FAILED replica again once its storage is fixed; the job's status follows the outcome. */
export async function retryReplica(context: RequestContext, replicaId: string) {
  const { tenant } = tenantOf(context);
  requireKnownIdShape(replicaId, 'replica');
  const replica = await getReplica(context.db, tenant.id, replicaId).catch(() => null);
  const job = replica === null ? null : await findJob(context, replica.jobId);
  if (replica === null || job === null)
    throw new DomainError('NOT_FOUND', `replica ${replicaId} does not exist in this tenant`);
  if (replica.status !== 'FAILED') {
    throw new DomainError(
      'CONFLICT',
      `replica ${replicaId} is ${replica.status}; only a FAILED replica can be retried`,
    );
  }
  if (job.status === 'RUNNING' || job.status === 'PENDING') {
    throw new DomainError('CONFLICT', `its backup job is ${job.status}; retry the replica once the job has ended`);
  }
  const workflowId = retryWorkflowIdFor(tenant.id, replica.id, replica.attempts);
  await setJobWorkflowId(context.db, tenant.id, job.id, workflowId);
  await context.backups.retry(workflowId, { tenantId: tenant.id, jobId: job.id, replicaId: replica.id });
  return replica;
}
