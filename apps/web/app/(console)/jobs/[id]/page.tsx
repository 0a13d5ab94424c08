import type { Metadata } from 'next';
import { JobDetail } from '@/components/job-detail';

export const metadata: Metadata = { title: 'Backup job' };

export default async function JobPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <JobDetail key={id} jobId={id} />;
}
