import type { Metadata } from 'next';
import { LoginForm } from '@/components/login-form';

export const metadata: Metadata = { title: 'Sign in' };

export default function LoginPage() {
  return (
    <main className="login-page">
      <div className="login-card card">
        <div className="brand brand--large" aria-hidden="true">
          <span className="brand__mark">E</span>
          <span className="brand__name">Echelon</span>
        </div>
        <h1>Sign in</h1>
        <p className="muted">Use an API key to open the admin console of your tenant.</p>
        <LoginForm />
      </div>
    </main>
  );
}
