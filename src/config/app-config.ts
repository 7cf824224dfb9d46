import { readFileSync } from 'node:fs';
import { Ec2RateLimits, parseEc2RateLimits } from './ec2-rate-limits';
import { Env, validateEnv } from './env';

export type AwsMode = 'sandbox' | 'aws';

/** The periodic jobs (SPEC §5–§7, §9, §12); each is declared by `@Job(name)` on the method that does its work. */
export const JOB_NAMES = ['spot-poll', 'housekeeping', 'pricing', 'on-demand-pricing', 'termination-reasons'] as const;
export type JobName = (typeof JOB_NAMES)[number];

export interface JobSchedule {
  /** Whether this replica schedules the job at all (a run by hand, `npm run job`, takes the lock regardless). */
  enabled: boolean;
  everySeconds: number;
}
export type LogFormat = 'json' | 'pretty';

/** What is decided at start rather than read from the environment. */
interface ResolvedAtStart {
  developmentToken?: string;
}

export interface ApiClientConfig {
  clientId: string;
  tokenSha256: string;
  scopes: string[];
}

/**
 * The typed, validated configuration. The only way the rest of the service learns a setting.
 * Built once at boot from `process.env` (see `loadConfig`), or in tests from an object literal.
 */
export class AppConfig {
  constructor(
    private readonly env: Env,
    private readonly resolved: ResolvedAtStart = {},
  ) {}

  static fromEnv(raw: Record<string, string | undefined>): AppConfig {
    return new AppConfig(validateEnv(raw));
  }

  /** Builds a config for tests: the sandbox defaults plus overrides. */
  static forTest(overrides: Record<string, string | number | boolean | undefined> = {}): AppConfig {
    // Quiet unless a test asks: request logs of every test would drown the failures.
    const raw: Record<string, string | undefined> = { LOG_LEVEL: 'warn' };
    for (const [k, v] of Object.entries(overrides)) raw[k] = v === undefined ? undefined : String(v);
    return AppConfig.fromEnv(raw);
  }

  private with(settings: Partial<Env>, resolved: ResolvedAtStart = {}): AppConfig {
    return new AppConfig(Object.assign(new Env(), this.env, settings), { ...this.resolved, ...resolved });
  }

  /** The same settings with the database URL resolved (e.g. to the embedded Postgres just started). */
  withDatabaseUrl(url: string): AppConfig {
    return this.with({ DATABASE_URL: url });
  }

  /** The same settings with the AWS endpoints resolved (e.g. to the sandbox just started). */
  withEndpoints(endpoints: { ec2: string; sqs: string; events: string; pricing?: string }): AppConfig {
    return this.with({
      EC2_ENDPOINT: endpoints.ec2,
      SQS_ENDPOINT: endpoints.sqs,
      EVENTS_ENDPOINT: endpoints.events,
      PRICING_ENDPOINT: endpoints.pricing ?? this.env.PRICING_ENDPOINT,
    });
  }

  /** The same settings writing log lines in this format. */
  withLogFormat(format: LogFormat): AppConfig {
    return this.with({ LOG_FORMAT: format });
  }

  /** The same settings with no periodic job scheduled (`npm run job` runs one pass by hand). */
  withJobsDisabled(): AppConfig {
    return this.with({
      SPOT_POLL_ENABLED: false,
      HOUSEKEEPING_ENABLED: false,
      PRICING_ENABLED: false,
      TERMINATION_REASONS_ENABLED: false,
    });
  }

  /** The same settings with the sandbox development client's token (kept in the data directory by main.ts). */
  withDevelopmentToken(token: string): AppConfig {
    return this.with({}, { developmentToken: token });
  }

  get port(): number {
    return this.env.PORT;
  }
  /** The address the API listens on: loopback for the sandbox on a laptop, every interface in a cluster. */
  get host(): string {
    return this.env.HOST ?? (this.env.AWS_MODE === 'sandbox' ? '127.0.0.1' : '0.0.0.0');
  }
  /**
   * The sandbox development client's token: the one main.ts keeps in the data directory, or (tests, or
   * before main.ts resolved it) none, in which case ApiClients makes one up for this process.
   */
  get developmentToken(): string | undefined {
    return this.resolved.developmentToken;
  }
  get databaseUrl(): string | undefined {
    return this.env.DATABASE_URL;
  }
  get dataDir(): string {
    return this.env.DATA_DIR;
  }
  /** TLS for the database connection, verified against DATABASE_CA_FILE; undefined when it is unset. */
  get databaseTls(): { ca: string } | undefined {
    const file = this.env.DATABASE_CA_FILE;
    return file ? { ca: readFileSync(file, 'utf8') } : undefined;
  }
  get dbPoolSize(): number {
    return this.env.DB_POOL_SIZE;
  }
  get dbStatementTimeoutMs(): number {
    return this.env.DB_STATEMENT_TIMEOUT_MS;
  }
  get runMigrations(): boolean {
    return this.env.RUN_MIGRATIONS;
  }
  get awsMode(): AwsMode {
    return this.env.AWS_MODE;
  }
  /**
   * Sandbox mode with no endpoints given: the process must start the sandbox cloud itself (main.ts does,
   * then points the clients at it, after which this is false). Until then there is no cloud at all.
   */
  get inProcessSandbox(): boolean {
    const { EC2_ENDPOINT, SQS_ENDPOINT, EVENTS_ENDPOINT } = this.env;
    return this.env.AWS_MODE === 'sandbox' && !(EC2_ENDPOINT && SQS_ENDPOINT && EVENTS_ENDPOINT);
  }
  get regions(): readonly string[] {
    return this.env.REGIONS;
  }
  get managerId(): string {
    return this.env.MANAGER_ID;
  }
  get instancePubkey(): string {
    return this.env.INSTANCE_PUBKEY;
  }
  get maxInstanceLifeHours(): number {
    return this.env.MAX_INSTANCE_LIFE_HOURS;
  }
  /** How often, and whether, this replica schedules a periodic job; its leader lock bears its name. */
  job(name: JobName): JobSchedule {
    const env = this.env;
    switch (name) {
      case 'spot-poll':
        return { enabled: env.SPOT_POLL_ENABLED, everySeconds: env.SPOT_POLL_SECONDS };
      case 'housekeeping':
        return { enabled: env.HOUSEKEEPING_ENABLED, everySeconds: env.HOUSEKEEPING_SECONDS };
      case 'pricing':
        return { enabled: env.PRICING_ENABLED, everySeconds: env.PRICING_POLL_SECONDS };
      case 'on-demand-pricing':
        // With the spot prices: one switch for the price list.
        return { enabled: env.PRICING_ENABLED, everySeconds: env.ON_DEMAND_PRICING_SECONDS };
      case 'termination-reasons':
        return { enabled: env.TERMINATION_REASONS_ENABLED, everySeconds: env.TERMINATION_REASONS_SECONDS };
    }
  }
  get pricingWindowMinutes(): number {
    return this.env.PRICING_WINDOW_MINUTES;
  }
  get capacityCooldownSeconds(): number {
    return this.env.CAPACITY_COOLDOWN_SECONDS;
  }
  get quotaCooldownSeconds(): number {
    return this.env.QUOTA_COOLDOWN_SECONDS;
  }
  get spotNotFoundGraceSeconds(): number {
    return this.env.SPOT_NOT_FOUND_GRACE_SECONDS;
  }
  get describeLagGraceSeconds(): number {
    return this.env.DESCRIBE_LAG_GRACE_SECONDS;
  }
  get historyRetentionDays(): number {
    return this.env.HISTORY_RETENTION_DAYS;
  }
  get logLevel(): string {
    return this.env.LOG_LEVEL;
  }
  get logFormat(): LogFormat {
    return this.env.LOG_FORMAT ?? (this.env.NODE_ENV === 'production' ? 'json' : 'pretty');
  }
  get sandboxPort(): number {
    return this.env.SANDBOX_PORT;
  }
  get sandboxSqsPort(): number {
    return this.env.SANDBOX_SQS_PORT;
  }
  get endpoints(): { ec2?: string; sqs?: string; events?: string; pricing?: string } {
    return {
      ec2: this.env.EC2_ENDPOINT,
      sqs: this.env.SQS_ENDPOINT,
      events: this.env.EVENTS_ENDPOINT,
      // The sandbox answers the Price List API on the same port as EventBridge.
      pricing: this.env.PRICING_ENDPOINT ?? (this.env.AWS_MODE === 'sandbox' ? this.env.EVENTS_ENDPOINT : undefined),
    };
  }
  get pricingRegion(): string {
    return this.env.PRICING_REGION;
  }
  get awsMaxAttempts(): number {
    return this.env.AWS_MAX_ATTEMPTS;
  }
  get awsTimeoutMs(): number {
    return this.env.AWS_TIMEOUT_MS;
  }
  get ec2RateLimits(): Ec2RateLimits {
    return parseEc2RateLimits(this.env.EC2_RATE_LIMITS);
  }
  get ec2RateLimitMaxWaitMs(): number {
    return this.env.EC2_RATE_LIMIT_MAX_WAIT_MS;
  }
  get sandboxClockSpeed(): number {
    return this.env.SANDBOX_CLOCK_SPEED;
  }
  get queueName(): string {
    return this.env.QUEUE_NAME;
  }
  get deadLetterQueueName(): string {
    return `${this.env.QUEUE_NAME}-dead`;
  }
  get sqsMaxReceiveCount(): number {
    return this.env.SQS_MAX_RECEIVE_COUNT;
  }
  get sqsVisibilityTimeoutSeconds(): number {
    return this.env.SQS_VISIBILITY_TIMEOUT_SECONDS;
  }
  get sqsMessageRetentionSeconds(): number {
    return this.env.SQS_MESSAGE_RETENTION_SECONDS;
  }
  get sqsWaitTimeSeconds(): number {
    return this.env.SQS_WAIT_TIME_SECONDS;
  }
  get sqsBatchSize(): number {
    return this.env.SQS_BATCH_SIZE;
  }
  get sqsConsumersPerQueue(): number {
    return this.env.SQS_CONSUMERS_PER_QUEUE;
  }
  get eventListenerEnabled(): boolean {
    return this.env.EVENT_LISTENER_ENABLED;
  }
  get setupOnStart(): boolean {
    return this.env.SETUP_ON_START ?? this.env.AWS_MODE === 'sandbox';
  }
  get apiClients(): ApiClientConfig[] {
    return this.env.API_CLIENTS ? (JSON.parse(this.env.API_CLIENTS) as ApiClientConfig[]) : [];
  }
  get sentry(): { dsn?: string; environment?: string; release?: string } {
    return { dsn: this.env.SENTRY_DSN, environment: this.env.SENTRY_ENVIRONMENT, release: this.env.SENTRY_RELEASE };
  }
}

/** Reads and validates `process.env`. The one place outside `instrument.ts` that reads it. */
export function loadConfig(): AppConfig {
  return AppConfig.fromEnv(process.env);
}
