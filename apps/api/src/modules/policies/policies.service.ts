import {
  assignPolicyAudited,
  createPolicyTemplateAudited,
  findTemplateVersionByNumber,
  listAssignments,
  listIdentities,
  listLatestTemplateVersions,
  listStorageSystems,
  unassignPolicyAudited,
  updatePolicyTemplateAudited,
  type PolicyAssignment,
} from '@echelon/db';
import { DomainError, validatePolicyTemplate } from '@echelon/domain';
import { actorOf, type RequestContext, tenantOf } from '../../context.js';
import { toIdentityView } from '../viewer/viewer.mappers.js';
import type { AssignPolicyInput, CreatePolicyTemplateInput } from './policies.inputs.js';
import { toTemplateView } from './policies.mappers.js';
import type { PolicyAssignmentView } from './policies.types.js';

async function validTemplate(context: RequestContext, input: CreatePolicyTemplateInput) {
  const { tenant } = tenantOf(context);
  const systems = await listStorageSystems(context.db, tenant.id);
  return validatePolicyTemplate(
    { ...input, ordering: input.ordering ?? 'CAPACITY' },
    new Set(systems.map((system) => system.id)),
  );
}

export async function createPolicyTemplate(context: RequestContext, input: CreatePolicyTemplateInput) {
  const { tenant } = tenantOf(context);
  const version = await createPolicyTemplateAudited(
    context.db,
    actorOf(context),
    tenant.id,
    await validTemplate(context, input),
  );
  return toTemplateView(context, version);
}

export async function updatePolicyTemplate(context: RequestContext, id: string, input: CreatePolicyTemplateInput) {
  const { tenant } = tenantOf(context);
  const existing = await findTemplateVersionByNumber(context.db, tenant.id, id, null);
  if (existing === null) throw new DomainError('NOT_FOUND', `policy template ${id} does not exist in this tenant`);
  const version = await updatePolicyTemplateAudited(
    context.db,
    actorOf(context),
    tenant.id,
    id,
    await validTemplate(context, input),
  );
  return toTemplateView(context, version);
}

export async function policyTemplates(context: RequestContext) {
  const { tenant } = tenantOf(context);
  const versions = await listLatestTemplateVersions(context.db, tenant.id);
  return Promise.all(versions.map((version) => toTemplateView(context, version)));
}

export async function policyTemplate(context: RequestContext, id: string, version: number | null) {
  const { tenant } = tenantOf(context);
  if (version !== null && (!Number.isInteger(version) || version < 1)) {
    throw new DomainError('BAD_USER_INPUT', `version must be a published version number (1 or more), not ${version}`);
  }
  const row = await findTemplateVersionByNumber(context.db, tenant.id, id, version);
  return row === null ? null : toTemplateView(context, row);
}

async function toAssignmentViews(
  context: RequestContext,
  assignments: PolicyAssignment[],
): Promise<PolicyAssignmentView[]> {
  const { tenant } = tenantOf(context);
  const [versions, people] = await Promise.all([
    listLatestTemplateVersions(context.db, tenant.id),
    listIdentities(context.db, tenant.id),
  ]);
  const templates = new Map(versions.map((version) => [version.templateId, version]));
  const identities = new Map(people.map((identity) => [identity.id, identity]));
  return Promise.all(
    assignments.map(async (assignment) => {
      const template = templates.get(assignment.templateId);
      if (template === undefined)
        throw new DomainError('NOT_FOUND', `policy template ${assignment.templateId} has no version`);
      const identity = assignment.identityId ? identities.get(assignment.identityId) : undefined;
      return {
        id: assignment.id,
        template: await toTemplateView(context, template),
        identity: identity ? toIdentityView(identity) : null,
        group: assignment.group,
        tenantDefault: assignment.tenantDefault,
        dataClass: assignment.dataClass,
      };
    }),
  );
}

export async function policyAssignments(context: RequestContext) {
  const { tenant } = tenantOf(context);
  return toAssignmentViews(context, await listAssignments(context.db, tenant.id));
}

export async function assignPolicy(context: RequestContext, input: AssignPolicyInput) {
  const { tenant } = tenantOf(context);
  const assignment = await assignPolicyAudited(context.db, actorOf(context), tenant.id, input);
  const [view] = await toAssignmentViews(context, [assignment]);
  return view as PolicyAssignmentView;
}

export async function unassignPolicy(context: RequestContext, id: string) {
  const { tenant } = tenantOf(context);
  const assignment = await unassignPolicyAudited(context.db, actorOf(context), tenant.id, id);
  const [view] = await toAssignmentViews(context, [assignment]);
  return view as PolicyAssignmentView;
}
