import type { Metadata } from 'next';
import { PolicyTemplates } from '@/components/policies/policy-templates';
import { RequirePermission } from '@/components/require-permission';

export const metadata: Metadata = { title: 'Policies' };

export default function PoliciesPage() {
  return (
    <RequirePermission needs={['policy:read', 'identity:read']} what="the policies">
      <PolicyTemplates />
    </RequirePermission>
  );
}
