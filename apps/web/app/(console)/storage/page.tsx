import type { Metadata } from 'next';
import { RequirePermission } from '@/components/require-permission';
import { StorageSystems } from '@/components/storage-systems';

export const metadata: Metadata = { title: 'Storage systems' };

export default function StoragePage() {
  return (
    <RequirePermission needs={['storage:read', 'identity:read']} what="storage systems">
      <StorageSystems />
    </RequirePermission>
  );
}
