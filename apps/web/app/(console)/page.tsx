import type { Metadata } from 'next';
import { HomeRedirect } from '@/components/home-redirect';

export const metadata: Metadata = { title: 'Echelon' };

/** The console's address: each viewer lands on the first page its roles can use. */
export default function HomePage() {
  return <HomeRedirect />;
}
