// `npm start`: everything on one machine with embedded defaults, supervised, then the URLs and the demo login.
import { loadConfig } from '@echelon/config';
import { killEveryStartedProcess, startStack, whenNpmIsGone } from '@echelon/stack';

// A closed terminal, or a pipe whose reader is gone (`npm start | tee log` after Ctrl-C), must not end the
// launcher with EPIPE in the middle of stopping its children.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});

/**
 * A second signal this long after the first is the user's second Ctrl-C. One Ctrl-C can arrive twice within
 * milliseconds: the terminal signals the whole foreground group, and tsx relays it to us again.
 */
const FORCE_AFTER_MS = 1_000;

const stopRequested = new AbortController();
let firstSignalAt: number | undefined;

function onSignal(signal: NodeJS.Signals | 'npm gone'): void {
  if (firstSignalAt === undefined) {
    firstSignalAt = Date.now();
    const why = signal === 'npm gone' ? 'npm start has exited' : signal;
    console.log(`\n${why}: stopping every Echelon process (Ctrl-C again to kill them at once)…`);
    stopRequested.abort();
    return;
  }
  if (signal === 'npm gone') return;
  if (Date.now() - firstSignalAt < FORCE_AFTER_MS) return;
  console.log(`\n${signal} again: killing every Echelon process`);
  killEveryStartedProcess();
  process.exit(130);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
// `kill <pid of npm start>` reaches neither tsx nor us: npm's shell dies of it, and then npm.
whenNpmIsGone(() => onSignal('npm gone'));

const stopsWith = new Promise<void>((resolve) => stopRequested.signal.addEventListener('abort', () => resolve()));

try {
  // Aborting the signal stops the stack in order (web, API, worker, Temporal, PostgreSQL), even mid-start.
  const stack = await startStack({
    seedDemo: true,
    web: loadConfig().webMode,
    supervise: true,
    signal: stopRequested.signal,
  });
  const line = '─'.repeat(72);
  console.log(`
${line}
 Echelon is up
   Web UI           ${stack.webUrl}
   GraphQL API      ${stack.apiUrl}/graphql   (HTTP and graphql-ws)
   Uploads (tus)    ${stack.apiUrl}/uploads
   Temporal UI      ${stack.temporalUiUrl ?? `(external Temporal at ${stack.temporalAddress})`}
   PostgreSQL       ${stack.databaseUrl.replace(/:[^:@/]+@/, ':***@')}
   Data             ${stack.config.dataDir}

 Demo login (tenant "${stack.demo?.tenantSlug}", identity "${stack.demo?.identity}")
   API key          ${stack.demo?.apiKey}
   Sign in at ${stack.webUrl}/login with that key, or send it as "Authorization: Bearer <key>".

 A process that dies is restarted. Ctrl-C stops everything.
${line}`);
  await stopsWith;
  await stack.stop();
} catch (error) {
  if (!stopRequested.signal.aborted) {
    // startStack has stopped whatever it had started.
    console.error(`\nEchelon could not start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
console.log('stopped.');
process.exit(0);
