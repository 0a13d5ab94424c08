import type { Metadata } from 'next';
import { RequirePermission } from '@/components/require-permission';
import { JobsList } from '@/components/jobs-list';

export const metadata: Metadata = { title: 'Backup jobs' };

export default function JobsPage() {
  return (
    <RequirePermission needs={['job:read']} what="backup jobs">
      <JobsList />
    </RequirePermission>
  );
}
