import type { Metadata } from 'next';
import { JobsList } from '@/components/jobs-list';

export const metadata: Metadata = { title: 'Backup jobs' };

export default function JobsPage() {
  return <JobsList />;
}
