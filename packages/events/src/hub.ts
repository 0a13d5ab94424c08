import pg from 'pg';

export interface ReplicaEventNotice {
  id: bigint;
  tenantId: string;
  jobId: string;
}

export interface JobNotice {
  id: string;
  tenantId: string;
}

type Listener<T> = (notice: T) => void;

const RECONNECT_DELAY_MS = 500;

/**
 * One LISTEN connection per process, fanned out to every subscriber in it. Notices only wake subscribers:
 * what they deliver is always read from the tables, so a notice lost during a reconnect loses nothing —
 * after reconnecting every subscriber is woken to catch up.
 */
export class EventHub {
  private client: pg.Client | undefined;
  private readonly eventListeners = new Set<Listener<ReplicaEventNotice>>();
  private readonly jobListeners = new Set<Listener<JobNotice>>();
  private readonly revocationListeners = new Set<Listener<{ apiKeyId: string }>>();
  private readonly reconnectListeners = new Set<() => void>();
  private stopped = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly log: (message: string) => void = () => undefined,
  ) {}

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    client.on('notification', (message) => this.dispatch(message.channel, message.payload));
    client.on('error', (error) => {
      this.log(`event hub connection failed: ${error.message}; reconnecting`);
      void this.reconnect(client);
    });
    client.on('end', () => void this.reconnect(client));
    await client.connect();
    await client.query('LISTEN replica_events');
    await client.query('LISTEN backup_jobs');
    await client.query('LISTEN api_keys');
    this.client = client;
  }

  private async reconnect(failed: pg.Client): Promise<void> {
    if (this.stopped || this.client !== failed) return;
    this.client = undefined;
    failed.removeAllListeners('end');
    await failed.end().catch(() => undefined);
    while (!this.stopped) {
      try {
        await this.start();
        for (const listener of this.reconnectListeners) listener();
        return;
      } catch (error) {
        this.log(`event hub reconnect failed: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, RECONNECT_DELAY_MS));
      }
    }
  }

  private dispatch(channel: string, payload: string | undefined): void {
    if (payload === undefined) return;
    let parsed: { id?: string; tenantId?: string; jobId?: string };
    try {
      parsed = JSON.parse(payload) as typeof parsed;
    } catch {
      return;
    }
    if (parsed.id === undefined || parsed.tenantId === undefined) return;
    if (channel === 'replica_events' && parsed.jobId !== undefined) {
      const notice = { id: BigInt(parsed.id), tenantId: parsed.tenantId, jobId: parsed.jobId };
      for (const listener of this.eventListeners) listener(notice);
    } else if (channel === 'api_keys') {
      for (const listener of this.revocationListeners) listener({ apiKeyId: parsed.id });
    } else if (channel === 'backup_jobs') {
      const notice = { id: parsed.id, tenantId: parsed.tenantId };
      for (const listener of this.jobListeners) listener(notice);
    }
  }

  onReplicaEvent(listener: Listener<ReplicaEventNotice>): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onJob(listener: Listener<JobNotice>): () => void {
    this.jobListeners.add(listener);
    return () => this.jobListeners.delete(listener);
  }

  /** An API key was revoked (in any process). */
  onKeyRevoked(listener: Listener<{ apiKeyId: string }>): () => void {
    this.revocationListeners.add(listener);
    return () => this.revocationListeners.delete(listener);
  }

  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
