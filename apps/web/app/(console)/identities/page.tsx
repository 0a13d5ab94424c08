import type { Metadata } from 'next';
import { RequirePermission } from '@/components/require-permission';
import { Identities } from '@/components/identities';

export const metadata: Metadata = { title: 'Identities' };

export default function IdentitiesPage() {
  return (
    <RequirePermission needs={['identity:read']} what="identities">
      <Identities />
    </RequirePermission>
  );
}
