import type { Metadata } from 'next';
import { StorageSystems } from '@/components/storage-systems';

export const metadata: Metadata = { title: 'Storage systems' };

export default function StoragePage() {
  return <StorageSystems />;
}
