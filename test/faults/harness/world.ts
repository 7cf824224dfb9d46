import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { Sandbox, SandboxOptions, startSandbox } from '../../../src/sandbox';
import { PostgresServer, startPostgresServer } from '../../support/postgres-server';
import { compiledService } from '../../support/compiled-service';
import { ServiceReplica, sleep } from './replica';

export const MANAGER_ID = 'ec2-manager-dev';
/** A well-formed ed25519 public key (its 32 key bytes spell a name): the service checks the blob. */
export const PUBKEY = `ssh-ed25519 ${Buffer.concat([
  Buffer.from([0, 0, 0, 11]),
  Buffer.from('ssh-ed25519'),
  Buffer.from([0, 0, 0, 32]),
  Buffer.from('ec2-manager-fault-suite-key-0000'),
]).toString('base64')} faults`;

export interface WorldOptions {
  regions: string[];
  replicas: number;
  /** Where the replicas' logs go (kept after the run for a post-mortem). */
  logDir: string;
  /** Service settings on top of the suite's defaults. */
  env?: Record<string, string>;
  sandbox?: Partial<SandboxOptions>;
  log: (line: string) => void;
}

/**
 * Everything a fault scenario runs against: a Postgres server of its own (stoppable, freezable), the
 * sandbox cloud in this process, and the service in child processes pointed at both.
 */
export class FaultWorld {
  readonly token = randomBytes(24).toString('base64url');

  private constructor(
    readonly options: WorldOptions,
    readonly pg: PostgresServer,
    readonly databaseUrl: string,
    readonly sandbox: Sandbox,
    readonly replicas: ServiceReplica[],
  ) {}

  static async start(options: WorldOptions): Promise<FaultWorld> {
    fs.mkdirSync(options.logDir, { recursive: true });
    const pg = await startPostgresServer();
    let sandbox: Sandbox | undefined;
    try {
      const databaseUrl = await pg.createMigratedDatabase();
      sandbox = await startSandbox({
        regions: options.regions,
        log: (entry) => fs.appendFileSync(path.join(options.logDir, 'sandbox.log'), `${JSON.stringify(entry)}\n`),
        ...options.sandbox,
      });
      const world = new FaultWorld(options, pg, databaseUrl, sandbox, []);
      const env = world.serviceEnv();
      const mainJs = compiledService();
      for (let i = 0; i < options.replicas; i++) {
        world.replicas.push(new ServiceReplica(`replica-${String.fromCharCode(97 + i)}`, mainJs, env, options.logDir));
      }
      // Together, as a rollout starts them: their setup runs (queues, rules) are idempotent.
      await Promise.all(world.replicas.map((r) => r.start()));
      return world;
    } catch (err) {
      await sandbox?.stop();
      await pg.destroy();
      throw err;
    }
  }

  get regions(): string[] {
    return this.options.regions;
  }

  /** SPEC §2's key pair name, derived here independently of the service's code under test. */
  keyName(workerType: string): string {
    const [type, body] = PUBKEY.split(' ');
    return `${MANAGER_ID}:${workerType}:${createHash('sha256').update(`${type} ${body}`).digest('hex').slice(0, 7)}`;
  }

  /** The replicas that listen now: where API calls go. */
  liveReplicas(): ServiceReplica[] {
    return this.replicas.filter((r) => r.status === 'up');
  }

  /** A short-lived connection to the service's database (the harness's own view, never the service's pool). */
  async query<T extends object>(sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new Client({
      connectionString: this.databaseUrl,
      connectionTimeoutMillis: 5000,
      query_timeout: 10000,
    });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query<T>(sql, params)).rows;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** Waits until the database answers (after an outage or a freeze). */
  async databaseAnswers(timeoutMs = 60_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.query('SELECT 1');
        return;
      } catch (err) {
        if (Date.now() > until) throw err;
        await sleep(250);
      }
    }
  }

  async stop(): Promise<void> {
    if (this.pg.running) this.pg.thaw();
    await Promise.all(this.replicas.map((r) => r.stop()));
    await this.sandbox.stop();
    await this.pg.destroy();
  }

  private serviceEnv(): Record<string, string> {
    const { ec2, sqs, events } = this.sandbox.endpoints;
    const tokenSha256 = createHash('sha256').update(this.token).digest('hex');
    return {
      NODE_ENV: 'production',
      AWS_MODE: 'sandbox',
      DATABASE_URL: this.databaseUrl,
      RUN_MIGRATIONS: 'false',
      EC2_ENDPOINT: ec2,
      SQS_ENDPOINT: sqs,
      EVENTS_ENDPOINT: events,
      REGIONS: this.options.regions.join(','),
      MANAGER_ID,
      INSTANCE_PUBKEY: PUBKEY,
      API_CLIENTS: JSON.stringify([{ clientId: 'fault-suite', tokenSha256, scopes: ['ec2-manager:*'] }]),
      LOG_LEVEL: 'info',
      DATA_DIR: path.join(os.tmpdir(), 'ec2m-faults-unused'),
      ...this.options.env,
    };
  }
}
