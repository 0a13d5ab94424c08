import type { Metadata } from 'next';
import { SchemePreview } from '@/components/policies/scheme-preview';
import { RequirePermission } from '@/components/require-permission';

export const metadata: Metadata = { title: 'Scheme preview' };

export default function PreviewPage() {
  return (
    <RequirePermission needs={['scheme:preview', 'identity:read']} what="the scheme preview">
      <SchemePreview />
    </RequirePermission>
  );
}
