/** Workflow ids carry the tenant, so ids never collide across tenants and a job starts at most once. */
export const workflowIdFor = (tenantId: string, jobId: string): string => `backup:${tenantId}:${jobId}`;

/** One retry workflow per replica attempt: a second request for the same attempt joins the first. */
export const retryWorkflowIdFor = (tenantId: string, replicaId: string, attempt: number): string =>
  `retry:${tenantId}:${replicaId}:${attempt}`;
