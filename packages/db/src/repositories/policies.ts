import type { Assignment, TemplateVersion } from '@echelon/domain';
import type { Db } from '../client.js';
import type { PolicyAssignment, PolicyTemplateVersion } from '../generated/prisma/client.js';
import { modelOf } from '../rows.js';

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

/**
 * Everything scheme resolution needs, in one statement: the tenant's assignments and each template's latest
 * version (older versions are not read).
 */
export async function loadPolicyContext(
  db: Db,
  tenantId: string,
): Promise<{
  assignments: Assignment[];
  templates: Map<string, TemplateVersion>;
  /** Each template's latest version as stored: what a job records, without reading it again. */
  versions: Map<string, PolicyTemplateVersion>;
}> {
  const [row] = await db.$queryRaw<{ assignments: unknown[]; versions: unknown[] }[]>`
    SELECT (SELECT coalesce(jsonb_agg(to_jsonb(a) ORDER BY a.created_at, a.id), '[]'::jsonb)
              FROM policy_assignments a WHERE a.tenant_id = ${tenantId}::uuid) AS assignments,
           (SELECT coalesce(jsonb_agg(to_jsonb(v)), '[]'::jsonb)
              FROM policy_templates t
              JOIN policy_template_versions v ON v.template_id = t.id AND v.version = t.latest_version
             WHERE t.tenant_id = ${tenantId}::uuid) AS versions`;
  const templates = new Map<string, TemplateVersion>();
  const versions = new Map<string, PolicyTemplateVersion>();
  for (const json of row?.versions ?? []) {
    const version = modelOf<PolicyTemplateVersion>(json, { date: ['createdAt'] });
    templates.set(version.templateId, toTemplateVersion(version));
    versions.set(version.templateId, version);
  }
  const assignments = (row?.assignments ?? []).map((json) => {
    const assignment = modelOf<PolicyAssignment>(json, { date: ['createdAt'] });
    return {
      id: assignment.id,
      templateId: assignment.templateId,
      identityId: assignment.identityId,
      group: assignment.group,
      tenantDefault: assignment.tenantDefault,
      dataClass: assignment.dataClass,
      createdAt: assignment.createdAt,
    };
  });
  return { assignments, templates, versions };
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
