import { DomainError } from '@echelon/domain';
import type { Db } from '../client.js';
import type { LegalHold } from '../generated/prisma/client.js';
import { type Actor, appendAudit } from './audit.js';

/**
 * Puts a legal hold on a dataset version: while it stands, pruning never drops the version. Audited in the tenant's
 * hash-chained log (`legalHold.place`) in the same transaction. A version that is not the tenant's is NOT_FOUND; a
 * version held already is a CONFLICT, and nothing changes.
 */
export async function placeLegalHoldAudited(
  db: Db,
  actor: Actor,
  tenantId: string,
  input: { versionId: string; reason: string },
): Promise<LegalHold> {
  const reason = input.reason.trim();
  if (reason.length === 0 || reason.length > 1000) {
    throw new DomainError('BAD_USER_INPUT', 'a legal hold needs a reason of 1 to 1000 characters', { field: 'reason' });
  }
  return db.$transaction(async (client) => {
    const version = await client.datasetVersion.findFirst({ where: { id: input.versionId, tenantId } });
    if (version === null) {
      throw new DomainError('NOT_FOUND', `dataset version ${input.versionId} does not exist in this tenant`);
    }
    const existing = await client.legalHold.findUnique({ where: { versionId: version.id } });
    if (existing !== null) {
      throw new DomainError(
        'CONFLICT',
        `dataset version ${version.id} is held already (since ${existing.placedAt.toISOString()})`,
      );
    }
    const hold = await client.legalHold.create({
      data: { versionId: version.id, tenantId, reason, placedBy: actor.label },
    });
    await appendAudit(client, actor, {
      tenantId,
      action: 'legalHold.place',
      objectType: 'DatasetVersion',
      objectId: version.id,
      after: hold,
    });
    return hold;
  });
}

/** Lifts a version's legal hold (`legalHold.lift` audited); a version without one is NOT_FOUND, and nothing changes. */
export async function liftLegalHoldAudited(
  db: Db,
  actor: Actor,
  tenantId: string,
  versionId: string,
): Promise<LegalHold> {
  return db.$transaction(async (client) => {
    const hold = await client.legalHold.findFirst({ where: { versionId, tenantId } });
    if (hold === null)
      throw new DomainError('NOT_FOUND', `dataset version ${versionId} has no legal hold in this tenant`);
    await client.legalHold.delete({ where: { versionId } });
    await appendAudit(client, actor, {
      tenantId,
      action: 'legalHold.lift',
      objectType: 'DatasetVersion',
      objectId: versionId,
      before: hold,
    });
    return hold;
  });
}

/** The ids of the tenant's held versions among `versionIds`. */
export async function heldVersionIds(db: Db, tenantId: string, versionIds: readonly string[]): Promise<Set<string>> {
  const rows = await db.legalHold.findMany({
    where: { tenantId, versionId: { in: [...versionIds] } },
    select: { versionId: true },
  });
  return new Set(rows.map((row) => row.versionId));
}

/** The id of version `number` of a dataset of the tenant, or null. */
export async function datasetVersionIdOf(
  db: Db,
  tenantId: string,
  datasetId: string,
  number: number,
): Promise<string | null> {
  const version = await db.datasetVersion.findFirst({
    where: { tenantId, datasetId, number },
    select: { id: true },
  });
  return version?.id ?? null;
}

/** The tenant's legal holds with the dataset and version each stands on, newest first (a MEMBER's: its own). */
export function listLegalHolds(db: Db, tenantId: string, identityId: string | null) {
  return db.legalHold.findMany({
    where: { tenantId, ...(identityId === null ? {} : { version: { dataset: { identityId } } }) },
    include: { version: { select: { number: true, dataset: { select: { key: true, identityId: true } } } } },
    orderBy: [{ placedAt: 'desc' }, { versionId: 'asc' }],
  });
}

/** A version under a template's retention rules, for a preview: its dataset, and whether it is held. */
export interface GovernedVersion {
  id: string;
  number: number;
  createdAt: Date;
  datasetKey: string;
  identityId: string;
  isHeld: boolean;
}

/**
 * Every version of the datasets whose newest version was backed up under `templateId` (any version of it): what
 * the template's retention rules govern. Null when the tenant has no such template. A MEMBER's: its own datasets.
 */
export async function templateGovernedVersions(
  db: Db,
  tenantId: string,
  templateId: string,
  identityId: string | null,
): Promise<GovernedVersion[] | null> {
  const template = await db.policyTemplateVersion.findFirst({ where: { tenantId, templateId }, select: { id: true } });
  if (template === null) return null;
  const rows = await db.$queryRaw<
    { id: string; number: number; created_at: Date; key: string; identity_id: string; is_held: boolean }[]
  >`
    SELECT v.id, v.number, v.created_at, d.key, d.identity_id, (h.version_id IS NOT NULL) AS is_held
      FROM datasets d
      JOIN dataset_versions v ON v.dataset_id = d.id
      LEFT JOIN legal_holds h ON h.version_id = v.id
     WHERE d.tenant_id = ${tenantId}::uuid
       AND (${identityId}::uuid IS NULL OR d.identity_id = ${identityId}::uuid)
       AND EXISTS (
             SELECT 1 FROM dataset_versions latest
               JOIN backup_jobs j ON j.dataset_version_id = latest.id
               JOIN policy_template_versions tv ON tv.id = j.template_version_id
              WHERE latest.dataset_id = d.id AND latest.number = d.latest_version
                AND tv.template_id = ${templateId}::uuid)
     ORDER BY d.key, d.identity_id, v.number`;
  return rows.map((row) => ({
    id: row.id,
    number: row.number,
    createdAt: row.created_at,
    datasetKey: row.key,
    identityId: row.identity_id,
    isHeld: row.is_held,
  }));
}
