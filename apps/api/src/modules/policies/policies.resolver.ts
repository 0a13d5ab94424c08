import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../../context.js';
import { AssignPolicyInput, CreatePolicyTemplateInput } from './policies.inputs.js';
import {
  assignPolicy,
  createPolicyTemplate,
  policyAssignments,
  policyTemplate,
  policyTemplates,
  unassignPolicy,
  updatePolicyTemplate,
} from './policies.service.js';
import { PolicyAssignmentView, PolicyTemplateView } from './policies.types.js';

@Resolver(() => PolicyTemplateView)
export class PoliciesResolver {
  @Authorized('policy:read')
  @Query(() => [PolicyTemplateView])
  policyTemplates(@Ctx() context: RequestContext): Promise<PolicyTemplateView[]> {
    return policyTemplates(context);
  }

  @Authorized('policy:read')
  @Query(() => PolicyTemplateView, { nullable: true, description: 'latest version unless one is named' })
  policyTemplate(
    @Ctx() context: RequestContext,
    @Arg('id', () => ID) id: string,
    @Arg('version', () => Int, { nullable: true }) version: number | null,
  ): Promise<PolicyTemplateView | null> {
    return policyTemplate(context, id, version ?? null);
  }

  @Authorized('policy:read')
  @Query(() => [PolicyAssignmentView])
  policyAssignments(@Ctx() context: RequestContext): Promise<PolicyAssignmentView[]> {
    return policyAssignments(context);
  }

  @Authorized('policy:write')
  @Mutation(() => PolicyTemplateView)
  createPolicyTemplate(
    @Ctx() context: RequestContext,
    @Arg('input', () => CreatePolicyTemplateInput) input: CreatePolicyTemplateInput,
  ): Promise<PolicyTemplateView> {
    return createPolicyTemplate(context, input);
  }

  @Authorized('policy:write')
  @Mutation(() => PolicyTemplateView, { description: 'publishes version + 1' })
  updatePolicyTemplate(
    @Ctx() context: RequestContext,
    @Arg('id', () => ID) id: string,
    @Arg('input', () => CreatePolicyTemplateInput) input: CreatePolicyTemplateInput,
  ): Promise<PolicyTemplateView> {
    return updatePolicyTemplate(context, id, input);
  }

  @Authorized('policy:write')
  @Mutation(() => PolicyAssignmentView)
  assignPolicy(
    @Ctx() context: RequestContext,
    @Arg('input', () => AssignPolicyInput) input: AssignPolicyInput,
  ): Promise<PolicyAssignmentView> {
    return assignPolicy(context, input);
  }

  @Authorized('policy:write')
  @Mutation(() => PolicyAssignmentView)
  unassignPolicy(@Ctx() context: RequestContext, @Arg('id', () => ID) id: string): Promise<PolicyAssignmentView> {
    return unassignPolicy(context, id);
  }
}
