import 'reflect-metadata';
import { plainToInstance, Transform, Type } from 'class-transformer';
import { readFileSync } from 'node:fs';
import { parseSshPublicKey } from './ssh-public-key';
import {
  ArrayNotEmpty,
  IsBoolean,
  IsIn,
  IsInt,
  IsIP,
  IsNotEmpty,
  IsNumber,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  validateSync,
  ValidationError,
} from 'class-validator';
import { parseEc2RateLimits } from './ec2-rate-limits';

const REGION_PATTERN = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;

function toList({ value }: { value: unknown }): unknown {
  if (typeof value !== 'string') return value;
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function toBoolean({ value }: { value: unknown }): unknown {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  return value;
}

/**
 * Every setting of the service, as read from the environment. Defaults give a working sandbox
 * (SPEC §10); `AWS_MODE=aws` deployments must set the account-specific ones.
 */
export class Env {
  @Type(() => Number) @IsInt() @Min(0) @Max(65535) PORT = 5555;
  /** Default by mode (AppConfig.host): 127.0.0.1 in sandbox mode, 0.0.0.0 in aws mode. */
  @IsOptional() @IsIP(undefined, { message: 'HOST must be an IP address such as 127.0.0.1 or 0.0.0.0' }) HOST?: string;

  @IsOptional()
  @IsUrl({ protocols: ['postgres', 'postgresql'], require_tld: false, require_protocol: true })
  DATABASE_URL?: string;

  @Type(() => Number) @IsInt() @Min(1) @Max(1000) DB_POOL_SIZE = 10;
  /** Longest any statement may run (Postgres `statement_timeout`, and the client's wait for an answer). */
  @Type(() => Number) @IsInt() @Min(100) DB_STATEMENT_TIMEOUT_MS = 30000;

  /**
   * PEM file of the CA(s) the database's certificate must chain to (for RDS: the RDS CA bundle). Set, the
   * connection is TLS with the certificate and host name verified against it, whatever DATABASE_URL's
   * `sslmode` says.
   */
  @IsOptional() @IsString() DATABASE_CA_FILE?: string;

  /** Where the embedded Postgres keeps its cluster when DATABASE_URL is unset. */
  @IsString() @IsNotEmpty() DATA_DIR = '.data';

  @Transform(toBoolean) @IsBoolean() RUN_MIGRATIONS = true;

  @IsIn(['sandbox', 'aws']) AWS_MODE: 'sandbox' | 'aws' = 'sandbox';

  @Transform(toList)
  @ArrayNotEmpty({ message: 'REGIONS must list at least one region' })
  @Matches(REGION_PATTERN, { each: true, message: 'REGIONS must be EC2 region names such as us-east-1' })
  REGIONS: string[] = ['us-east-1', 'us-west-2', 'eu-central-1'];

  @Matches(/^[a-zA-Z0-9_-]{1,64}$/, { message: 'MANAGER_ID must be 1-64 characters of [a-zA-Z0-9_-] (no colon)' })
  MANAGER_ID = 'ec2-manager-dev';

  /** Parsed at boot (parseSshPublicKey): a key EC2 would refuse must stop the service, not every ensureKeyPair. */
  @IsString()
  // A real ed25519 public key whose private half was thrown away: good for the sandbox, useless for logging in.
  INSTANCE_PUBKEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMGibfzG76P6dfREWqPngVHCX5hySTwJMiNwqbikH5dg sandbox';

  @Type(() => Number) @IsNumber() @Min(1) MAX_INSTANCE_LIFE_HOURS = 96;
  @Type(() => Number) @IsNumber() @Min(1) SPOT_POLL_SECONDS = 25;
  @Type(() => Number) @IsNumber() @Min(1) HOUSEKEEPING_SECONDS = 3600;
  @Type(() => Number) @IsNumber() @Min(1) PRICING_POLL_SECONDS = 900;
  @Type(() => Number) @IsNumber() @Min(1) PRICING_WINDOW_MINUTES = 30;
  @Type(() => Number) @IsNumber() @Min(0) CAPACITY_COOLDOWN_SECONDS = 600;
  /** How long a lifecycle whose account quota EC2 said was used up is not asked for in its region (SPEC §11). */
  @Type(() => Number) @IsNumber() @Min(0) QUOTA_COOLDOWN_SECONDS = 300;
  /** How long EC2 may not know a spot request of ours before it is dropped from state (EC2's API lags). */
  @Type(() => Number) @IsNumber() @Min(0) SPOT_NOT_FOUND_GRACE_SECONDS = 300;
  /** Housekeeping keeps a row EC2 does not list if it was launched/created less than this ago (describe lags launches). */
  @Type(() => Number) @IsNumber() @Min(0) DESCRIBE_LAG_GRACE_SECONDS = 600;
  /** How long history is kept (SPEC §9): terminations, launch outcomes, the event log, failed spot requests. */
  @Type(() => Number) @IsInt() @Min(1) @Max(3650) HISTORY_RETENTION_DAYS = 14;
  /** How often EC2 is asked why instances that just ended did (SPEC §12; EC2 shows them for about an hour). */
  @Type(() => Number) @IsNumber() @Min(1) TERMINATION_REASONS_SECONDS = 60;
  /** How often on-demand prices are fetched from the AWS Price List Query API (SPEC §12). */
  @Type(() => Number) @IsNumber() @Min(1) ON_DEMAND_PRICING_SECONDS = 86400;
  /** Switches for the periodic jobs (SPEC §5-§7); `npm run job` runs one pass whatever they say. */
  @Transform(toBoolean) @IsBoolean() SPOT_POLL_ENABLED = true;
  @Transform(toBoolean) @IsBoolean() HOUSEKEEPING_ENABLED = true;
  @Transform(toBoolean) @IsBoolean() PRICING_ENABLED = true;
  @Transform(toBoolean) @IsBoolean() TERMINATION_REASONS_ENABLED = true;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace']) LOG_LEVEL = 'info';
  @IsOptional() @IsIn(['json', 'pretty']) LOG_FORMAT?: 'json' | 'pretty';
  @IsOptional() @IsString() NODE_ENV?: string;

  @Type(() => Number) @IsInt() @Min(0) @Max(65535) SANDBOX_PORT = 5556;
  @Type(() => Number) @IsInt() @Min(0) @Max(65535) SANDBOX_SQS_PORT = 5557;

  @IsOptional() @IsUrl({ require_tld: false, require_protocol: true }) EC2_ENDPOINT?: string;
  @IsOptional() @IsUrl({ require_tld: false, require_protocol: true }) SQS_ENDPOINT?: string;
  @IsOptional() @IsUrl({ require_tld: false, require_protocol: true }) EVENTS_ENDPOINT?: string;
  /** The AWS Price List Query API; in AWS it answers in us-east-1 (also eu-central-1, ap-south-1). */
  @IsOptional() @IsUrl({ require_tld: false, require_protocol: true }) PRICING_ENDPOINT?: string;
  @Matches(REGION_PATTERN, { message: 'PRICING_REGION must be an AWS region name such as us-east-1' })
  PRICING_REGION = 'us-east-1';

  @Type(() => Number) @IsInt() @Min(1) @Max(20) AWS_MAX_ATTEMPTS = 5;
  @Type(() => Number) @IsInt() @Min(100) AWS_TIMEOUT_MS = 30000;
  @Type(() => Number) @IsNumber() @Min(0) SANDBOX_CLOCK_SPEED = 1;
  /** Client-side EC2 rate limits over AWS's buckets: `mutating=25:2.5,RunInstances=10:4` (capacity:refill/s). */
  @IsOptional() @IsString() EC2_RATE_LIMITS?: string;
  /** The longest an API request's EC2 call waits for those limits; beyond it the request answers 503 at once. */
  @Type(() => Number) @IsInt() @Min(0) EC2_RATE_LIMIT_MAX_WAIT_MS = 5000;

  @Matches(/^[a-zA-Z0-9_-]{1,70}$/, { message: 'QUEUE_NAME must be 1-70 characters of [a-zA-Z0-9_-]' })
  QUEUE_NAME = 'ec2-events';
  @Type(() => Number) @IsInt() @Min(1) @Max(1000) SQS_MAX_RECEIVE_COUNT = 5;
  @Type(() => Number) @IsInt() @Min(1) @Max(43200) SQS_VISIBILITY_TIMEOUT_SECONDS = 30;
  @Type(() => Number) @IsInt() @Min(60) @Max(1209600) SQS_MESSAGE_RETENTION_SECONDS = 345600;
  /** Long polling: how long one receive waits for messages (also bounds how long shutdown waits). */
  @Type(() => Number) @IsInt() @Min(0) @Max(20) SQS_WAIT_TIME_SECONDS = 20;
  @Type(() => Number) @IsInt() @Min(1) @Max(10) SQS_BATCH_SIZE = 10;
  /** Receives in flight at once per region's events queue (each its own consumer). */
  @Type(() => Number) @IsInt() @Min(1) @Max(32) SQS_CONSUMERS_PER_QUEUE = 2;
  @Transform(toBoolean) @IsBoolean() EVENT_LISTENER_ENABLED = true;
  /** Run the setup command at start; default: yes in sandbox mode, no in aws mode. */
  @IsOptional() @Transform(toBoolean) @IsBoolean() SETUP_ON_START?: boolean;

  @IsOptional() @IsNotEmpty() API_CLIENTS?: string;

  @IsOptional() @IsUrl({ require_tld: false }) SENTRY_DSN?: string;
  @IsOptional() @IsString() SENTRY_ENVIRONMENT?: string;
  @IsOptional() @IsString() SENTRY_RELEASE?: string;
}

export class InvalidConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
  }
}

/** One line per bad variable: its most basic failed rule (type before range), with the raw value. */
function describe(errors: ValidationError[], raw: Record<string, string>): string[] {
  return errors.map((e) => {
    const reasons = Object.values(e.constraints ?? {});
    const reason = (reasons[reasons.length - 1] ?? 'is invalid').replace(new RegExp(`^${e.property} `), '');
    return `${e.property}: ${reason} (got ${JSON.stringify(raw[e.property] ?? e.value)})`;
  });
}

const API_CLIENTS_SHAPE = 'API_CLIENTS: must be JSON: [{"clientId", "tokenSha256", "scopes": [...]}]';

/** API_CLIENTS entries: a unique clientId, the hex SHA-256 of the token (never the token), scopes of ours. */
function apiClientProblems(raw: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return [API_CLIENTS_SHAPE];
  }
  if (!Array.isArray(parsed)) return [API_CLIENTS_SHAPE];
  const problems: string[] = [];
  const ids = new Set<string>();
  parsed.forEach((entry: unknown, n) => {
    const c = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const where = `API_CLIENTS[${n}]`;
    if (typeof c.clientId !== 'string' || c.clientId.length === 0) problems.push(`${where}.clientId: must be a string`);
    else if (ids.has(c.clientId)) problems.push(`${where}.clientId: ${c.clientId} is listed twice`);
    else ids.add(c.clientId);
    if (typeof c.tokenSha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(c.tokenSha256)) {
      problems.push(`${where}.tokenSha256: must be the 64 hex digits of the token's SHA-256`);
    }
    if (
      !Array.isArray(c.scopes) ||
      c.scopes.some((s: unknown) => typeof s !== 'string' || !(s.startsWith('ec2-manager:') || s === '*'))
    ) {
      problems.push(`${where}.scopes: must be a list of scopes starting with "ec2-manager:"`);
    }
  });
  return problems;
}

/** The CA file must be there, readable, and hold at least one PEM certificate. */
function caFileProblems(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return [`DATABASE_CA_FILE: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`];
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    return [`DATABASE_CA_FILE: ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`];
  }
  return [];
}

/** Validates the raw environment once; throws InvalidConfigError naming every bad variable. */
export function validateEnv(raw: Record<string, string | undefined>): Env {
  // Empty strings mean "unset" for optional settings, but not for REGIONS, where `REGIONS=` is a mistake.
  const cleaned: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined) continue;
    if (v === '' && k !== 'REGIONS') continue;
    cleaned[k] = v;
  }
  const env = plainToInstance(Env, cleaned, { exposeDefaultValues: true });
  const errors = validateSync(env, { whitelist: true, forbidUnknownValues: true });
  const problems = describe(errors, cleaned);
  if (env.AWS_MODE === 'aws') {
    for (const k of ['MANAGER_ID', 'INSTANCE_PUBKEY', 'REGIONS'] as const) {
      if (raw[k] === undefined) problems.push(`${k}: must be set when AWS_MODE=aws`);
    }
  }
  if (env.DATABASE_CA_FILE !== undefined) {
    problems.push(...caFileProblems(env.DATABASE_CA_FILE));
  }
  if (env.API_CLIENTS !== undefined) {
    problems.push(...apiClientProblems(env.API_CLIENTS));
  }
  if (typeof env.INSTANCE_PUBKEY === 'string') {
    try {
      parseSshPublicKey(env.INSTANCE_PUBKEY);
    } catch (err) {
      problems.push(`INSTANCE_PUBKEY: not a usable OpenSSH public key: ${(err as Error).message}`);
    }
  }
  try {
    parseEc2RateLimits(env.EC2_RATE_LIMITS);
  } catch (err) {
    problems.push(`EC2_RATE_LIMITS: ${(err as Error).message}`);
  }
  if (problems.length) throw new InvalidConfigError(problems);
  return env;
}
