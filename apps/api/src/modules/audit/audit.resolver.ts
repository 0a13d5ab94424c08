import { verifyTenantChains } from '@echelon/db';
import { Authorized, Ctx, Query, Resolver } from 'type-graphql';
import { type RequestContext, tenantOf } from '../../context.js';
import { Expensive } from '../../rate-limit.js';
import { AuditChainReportView } from './audit.types.js';

@Resolver()
export class AuditResolver {
  @Authorized('audit:verify')
  // Reads every row of both of the tenant's chains.
  @Expensive({ cost: 1000 })
  @Query(() => AuditChainReportView, {
    description:
      "recomputes the tenant's hash chains (replica events, audit entries) and reports the first broken link",
  })
  async verifyAuditChain(@Ctx() context: RequestContext): Promise<AuditChainReportView> {
    const { tenant } = tenantOf(context);
    const report = await verifyTenantChains(context.db, tenant.id);
    return { ok: report.firstBrokenLink === null, ...report };
  }
}
