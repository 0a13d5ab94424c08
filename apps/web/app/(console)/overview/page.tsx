import type { Metadata } from 'next';
import { Overview } from '@/components/overview/overview';
import { RequirePermission } from '@/components/require-permission';

export const metadata: Metadata = { title: 'Overview' };

export default function OverviewPage() {
  return (
    <RequirePermission needs={['job:read']} what="the overview">
      <Overview />
    </RequirePermission>
  );
}
