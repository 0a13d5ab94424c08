import type { ReactNode } from 'react';
import { SessionGate } from '@/components/session-gate';

/** Every page in this group needs a signed-in session; the gate sends everyone else to /login. */
export default function ConsoleLayout({ children }: { children: ReactNode }) {
  return <SessionGate>{children}</SessionGate>;
}
