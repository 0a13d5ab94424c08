import type { Metadata } from 'next';
import { TemplateForm } from '@/components/policies/template-form';
import { RequirePermission } from '@/components/require-permission';

export const metadata: Metadata = { title: 'Edit policy template' };

export default async function EditTemplatePage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return (
    <RequirePermission needs={['policy:write']} what="the template editor">
      <TemplateForm key={id} templateId={id} />
    </RequirePermission>
  );
}
