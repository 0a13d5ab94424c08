import type { Metadata } from 'next';
import { Suspense } from 'react';
import { TemplateDetail } from '@/components/policies/template-detail';
import { RequirePermission } from '@/components/require-permission';

export const metadata: Metadata = { title: 'Policy template' };

export default async function TemplatePage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return (
    <RequirePermission needs={['policy:read', 'identity:read']} what="the policies">
      <Suspense>
        <TemplateDetail key={id} templateId={id} />
      </Suspense>
    </RequirePermission>
  );
}
