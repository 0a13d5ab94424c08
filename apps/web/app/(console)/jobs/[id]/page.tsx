import type { Metadata } from 'next';
import { RequirePermission } from '@/components/require-permission';
import { JobDetail } from '@/components/job-detail';

export const metadata: Metadata = { title: 'Backup job' };

export default async function JobPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return (
    <RequirePermission needs={['job:read']} what="this backup job">
      <JobDetail key={id} jobId={id} />
    </RequirePermission>
  );
}
