// What PostgreSQL sessions wait for during a benchmark phase: samples pg_stat_activity twice a second and counts
// client sessions by state and wait event, and blocked sessions by the statement of the session blocking them
// (a lock holder that is "idle in transaction" shows the last statement it ran). A row lock serialising the work
// shows up as many Lock waits behind one statement.
import type { Db } from '@echelon/db';

export interface PgWaitReport {
  samples: number;
  /** Session-samples by "state: wait_event_type/wait_event" (CPU = active without a wait event), most first. */
  sessions: [string, number][];
  /** Blocked-session-samples by the blocker's statement (first 90 characters), most first. */
  blockers: [string, number][];
}

interface ActivityRow {
  label: string;
  n: number;
}

const top = (counts: Map<string, number>, limit: number): [string, number][] =>
  [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, limit);

export class PgWaitSampler {
  private readonly sessions = new Map<string, number>();
  private readonly blockers = new Map<string, number>();
  private samples = 0;
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> = Promise.resolve();

  constructor(private readonly db: Db) {}

  start(intervalMs = 500): void {
    this.sessions.clear();
    this.blockers.clear();
    this.samples = 0;
    this.timer = setInterval(() => {
      this.sampling = this.sampling.then(() => this.sample()).catch(() => undefined);
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<PgWaitReport> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.sampling;
    return { samples: this.samples, sessions: top(this.sessions, 8), blockers: top(this.blockers, 5) };
  }

  private async sample(): Promise<void> {
    const activity = await this.db.$queryRaw<ActivityRow[]>`
      SELECT state || ': ' || coalesce(wait_event_type || '/' || wait_event, 'CPU') AS label, count(*)::int AS n
        FROM pg_stat_activity
       WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
         AND state IN ('active', 'idle in transaction')
       GROUP BY 1`;
    const blocked = await this.db.$queryRaw<ActivityRow[]>`
      SELECT left(regexp_replace(blocker.query, '\\s+', ' ', 'g'), 90) AS label, count(*)::int AS n
        FROM pg_stat_activity waiting
        JOIN pg_stat_activity blocker ON blocker.pid = (pg_blocking_pids(waiting.pid))[1]
       WHERE waiting.wait_event_type = 'Lock'
       GROUP BY 1`;
    this.samples++;
    for (const row of activity) this.sessions.set(row.label, (this.sessions.get(row.label) ?? 0) + row.n);
    for (const row of blocked) this.blockers.set(row.label, (this.blockers.get(row.label) ?? 0) + row.n);
  }
}
