import type { Assignment, TemplateVersion } from '@echelon/domain';
import { type Db, Prisma } from '../client.js';
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

/** What scheme resolution needs of a tenant's policies. */
export interface PolicyContext {
  assignments: Assignment[];
  templates: Map<string, TemplateVersion>;
  /** Each template's latest version as stored: what a job records, without reading it again. */
  versions: Map<string, PolicyTemplateVersion>;
}

/**
 * The columns `assignments` and `versions` (each template's latest version only) as JSON, so that a statement
 * reading other things too (requestBackup's one read) gets the policy context in the same round trip.
 */
export const policyContextColumns = (tenantId: string): Prisma.Sql => Prisma.sql`
  (SELECT coalesce(jsonb_agg(to_jsonb(a) ORDER BY a.created_at, a.id), '[]'::jsonb)
     FROM policy_assignments a WHERE a.tenant_id = ${tenantId}::uuid) AS assignments,
  (SELECT coalesce(jsonb_agg(to_jsonb(v)), '[]'::jsonb)
     FROM policy_templates t
     JOIN policy_template_versions v ON v.template_id = t.id AND v.version = t.latest_version
    WHERE t.tenant_id = ${tenantId}::uuid) AS versions`;

/** Those columns read back. */
export function policyContextFrom(row: { assignments?: unknown; versions?: unknown } | undefined): PolicyContext {
  const list = (json: unknown) => (typeof json === 'string' ? JSON.parse(json) : (json ?? [])) as unknown[];
  const templates = new Map<string, TemplateVersion>();
  const versions = new Map<string, PolicyTemplateVersion>();
  for (const json of list(row?.versions)) {
    const version = modelOf<PolicyTemplateVersion>(json, { date: ['createdAt'] });
    templates.set(version.templateId, toTemplateVersion(version));
    versions.set(version.templateId, version);
  }
  const assignments = list(row?.assignments).map((json) => {
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

/** Everything scheme resolution needs, in one statement: the assignments and each template's latest version. */
export async function loadPolicyContext(db: Db, tenantId: string): Promise<PolicyContext> {
  const [row] = await db.$queryRaw<{ assignments: unknown; versions: unknown }[]>`
    SELECT ${policyContextColumns(tenantId)}`;
  return policyContextFrom(row);
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
