import type { Assignment, TemplateVersion } from '@echelon/domain';
import type { Db } from '../client.js';
import type { PolicyTemplateVersion } from '../generated/prisma/client.js';

export const toTemplateVersion = (row: PolicyTemplateVersion): TemplateVersion => ({
  templateId: row.templateId,
  version: row.version,
  name: row.name,
  copies: row.copies,
  primaryStorageSystemId: row.primaryStorageSystemId,
  candidateStorageSystemIds: row.candidateStorageSystemIds,
  delaySeconds: row.delaySeconds,
  ordering: row.ordering,
  dataClass: row.dataClass,
});

/** Everything scheme resolution needs: the tenant's assignments and each template's latest version. */
export async function loadPolicyContext(
  db: Db,
  tenantId: string,
): Promise<{
  assignments: Assignment[];
  templates: Map<string, TemplateVersion>;
  /** Each template's latest version as stored: what a job records, without reading it again. */
  versions: Map<string, PolicyTemplateVersion>;
}> {
  const [assignments, templates] = await Promise.all([
    db.policyAssignment.findMany({ where: { tenantId } }),
    db.policyTemplate.findMany({ where: { tenantId }, include: { versions: true } }),
  ]);
  const latest = new Map<string, TemplateVersion>();
  const versions = new Map<string, PolicyTemplateVersion>();
  for (const template of templates) {
    const version = template.versions.find((candidate) => candidate.version === template.latestVersion);
    if (version === undefined) continue;
    latest.set(template.id, toTemplateVersion(version));
    versions.set(template.id, version);
  }
  return {
    assignments: assignments.map((row) => ({
      id: row.id,
      templateId: row.templateId,
      identityId: row.identityId,
      group: row.group,
      tenantDefault: row.tenantDefault,
      dataClass: row.dataClass,
      createdAt: row.createdAt,
    })),
    templates: latest,
    versions,
  };
}

export async function findTemplateVersion(
  db: Db,
  tenantId: string,
  templateVersionId: string,
): Promise<PolicyTemplateVersion | null> {
  return db.policyTemplateVersion.findFirst({ where: { id: templateVersionId, tenantId } });
}

export async function listTemplateVersionNumbers(db: Db, tenantId: string, templateId: string): Promise<number[]> {
  const rows = await db.policyTemplateVersion.findMany({
    where: { tenantId, templateId },
    select: { version: true },
    orderBy: { version: 'asc' },
  });
  return rows.map((row) => row.version);
}
