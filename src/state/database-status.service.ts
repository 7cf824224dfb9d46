import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Client, type Pool, type PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { withTimeout } from '../common/timeout';
import { reportError, reportMessage } from '../logging/report';
import { isDatabaseUnavailable } from './database-errors';

/** A probe (connect + `SELECT 1`) that takes longer than this says the database is not answering. */
export const PROBE_TIMEOUT_MS = 2500;
/** Failed probes in a row that make the database down. */
const PROBES_TO_FAIL = 2;
/** Probes while the database answers: a freeze is noticed within this plus the timeout. */
const PROBE_EVERY_MS = 2000;
/** Probes while it does not: consumers resume within this of its return. */
const PROBE_DOWN_EVERY_MS = 1000;

/**
 * Whether Postgres answers, as this process sees it (SPEC §4, §9). A probe on a connection of its own
 * (not the pool's: a pool busy with slow work is not an outage) runs every few seconds, and at once when
 * a caller saw a query fail for a reason that looks like an outage. While the database is down the
 * event consumers wait (`whenAvailable`) instead of using up deliveries, and readiness fails. Going down
 * closes the pool's connections, so that queries hung on a frozen server fail within seconds instead
 * of waiting for their timeout; new ones fail at the connect timeout or at once.
 */
@Injectable()
export class DatabaseStatusService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(DatabaseStatusService.name);
  private up = true;
  private downSince = 0;
  private failedProbes = 0;
  private waiters: (() => void)[] = [];
  private timer?: NodeJS.Timeout;
  private probing?: Promise<void>;
  private probeClient?: Client;
  private stopped = false;
  private readonly pooled = new Set<PoolClient>();

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** True when a migration of this build has not been applied to the database. */
  pendingMigrations(): Promise<boolean> {
    return this.db.showMigrations();
  }

  /** Pool counters for the internals API. */
  poolStats(): { total: number; idle: number; waiting: number } {
    const pool = this.pool();
    return { total: pool?.totalCount ?? 0, idle: pool?.idleCount ?? 0, waiting: pool?.waitingCount ?? 0 };
  }

  /** Whether the last probe found the database answering. */
  get available(): boolean {
    return this.up;
  }

  /** Resolves when the database answers (at once if it does), or when the process shuts down. */
  whenAvailable(): Promise<void> {
    if (this.up || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * A caller's query failed: if the failure looks like an outage, probe now rather than at the next
   * tick, so that consumers stop receiving before they use up more deliveries.
   */
  noteFailure(err: unknown): void {
    if (this.up && isDatabaseUnavailable(err)) void this.probeNow();
  }

  onApplicationBootstrap(): void {
    this.pool()?.on('connect', (client: PoolClient) => this.pooled.add(client));
    this.pool()?.on('remove', (client: PoolClient) => this.pooled.delete(client));
    this.schedule(PROBE_EVERY_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.release();
    await this.probing;
    await this.closeProbeClient();
  }

  private pool(): Pool | undefined {
    return (this.db.driver as PostgresDriver).master as Pool | undefined;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.probeNow(), ms);
    this.timer.unref();
  }

  private probeNow(): Promise<void> {
    this.probing ??= this.probe().finally(() => {
      this.probing = undefined;
      this.schedule(this.up ? PROBE_EVERY_MS : PROBE_DOWN_EVERY_MS);
    });
    return this.probing;
  }

  /** Down only after two probes in a row fail: one slow answer on a busy machine is not an outage. */
  private async probe(): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        await this.pingWithin(PROBE_TIMEOUT_MS);
        this.markUp();
        return;
      } catch (err) {
        await this.closeProbeClient();
        if (!this.up || attempt >= PROBES_TO_FAIL) {
          this.markDown(err);
          return;
        }
      }
    }
  }

  private async pingWithin(ms: number): Promise<void> {
    let answered = false;
    const work = this.ping().then(() => {
      answered = true;
    });
    try {
      await withTimeout(work, ms);
    } catch (err) {
      // A timer that expired while the event loop was busy fires before the answer waiting in the socket
      // is read: let I/O run once before calling it a timeout.
      await new Promise((resolve) => setImmediate(resolve));
      if (!answered) throw err;
    }
  }

  private async ping(): Promise<void> {
    if (!this.probeClient) {
      const client = new Client({
        connectionString: (this.db.options as { url?: string }).url,
        connectionTimeoutMillis: PROBE_TIMEOUT_MS,
        application_name: 'ec2-manager-probe',
      });
      // A connection lost between probes is noticed by the next one.
      client.on('error', () => undefined);
      this.probeClient = client;
      await client.connect();
    }
    await this.probeClient.query('SELECT 1');
  }

  private async closeProbeClient(): Promise<void> {
    const client = this.probeClient;
    this.probeClient = undefined;
    // end() on a connection with a query hung on a frozen server destroys the socket at once.
    await client?.end().catch(() => undefined);
  }

  private markDown(err: unknown): void {
    this.failedProbes++;
    if (!this.up) return;
    this.up = false;
    this.downSince = Date.now();
    this.log.error({ msg: 'database unreachable: event consumers paused, requests answer 503', err });
    reportError(err, { tags: { stage: 'database' }, cause: 'database unreachable' });
    for (const client of this.pooled) cutOff(client);
  }

  private markUp(): void {
    if (this.up) return;
    this.up = true;
    const downMs = Date.now() - this.downSince;
    this.log.log({ msg: 'database reachable again: event consumers resume', downMs, failedProbes: this.failedProbes });
    reportMessage('ec2-manager: database reachable again', {
      level: 'info',
      tags: { stage: 'database' },
      extra: { downMs, failedProbes: this.failedProbes },
      cause: 'database reachable again',
    });
    this.failedProbes = 0;
    this.release();
  }

  private release(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/**
 * Breaks a pooled connection as a network failure would: a query in flight fails at once (on a frozen
 * server it would wait for its own timeout), and an idle connection leaves the pool through pg-pool's
 * own error path instead of failing the next query that takes it. pg exposes no public way to do this;
 * pg-pool itself destroys `connection.stream` on a connect timeout.
 */
function cutOff(client: PoolClient): void {
  (client as unknown as { connection?: { stream?: { destroy(err?: Error): void } } }).connection?.stream?.destroy(
    new Error('Connection terminated: the database stopped answering'),
  );
}
