import Link from 'next/link';

export default function NotFound() {
  return (
    <main className="page page--narrow">
      <div className="card empty-state">
        <h1>Page not found</h1>
        <p>There is nothing at this address.</p>
        <p>
          <Link href="/jobs">Go to backup jobs</Link>
        </p>
      </div>
    </main>
  );
}
