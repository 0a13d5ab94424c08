import type { Metadata } from 'next';
import { TemplateForm } from '@/components/policies/template-form';
import { RequirePermission } from '@/components/require-permission';

export const metadata: Metadata = { title: 'New policy template' };

export default function NewTemplatePage() {
  return (
    <RequirePermission needs={['policy:write']} what="the template editor">
      <TemplateForm />
    </RequirePermission>
  );
}
