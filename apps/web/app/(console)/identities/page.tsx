import type { Metadata } from 'next';
import { Identities } from '@/components/identities';

export const metadata: Metadata = { title: 'Identities' };

export default function IdentitiesPage() {
  return <Identities />;
}
