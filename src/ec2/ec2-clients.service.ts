import { EC2Client } from '@aws-sdk/client-ec2';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { SMITHY_CONTEXT_KEY } from '@smithy/types';
import { clientOptions, instrument, stackOf } from '../aws/aws-clients.service';
import { awsErrorCode } from '../aws/aws-error';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics.service';
import { maxRateLimitWaitMs } from './ec2-call-context';
import { Ec2RateLimitedError, Ec2UnavailableError, isUnreachable } from './ec2-errors';
import { Ec2RateLimiter } from './rate-limiter';
import { Ec2RetryStrategy } from './retry-strategy';

/**
 * One EC2 client per configured region, for the gateway alone: a timeout on every call, our own retry
 * strategy (the one place that backs off), our copies of EC2's buckets spent by every attempt, errors
 * that name region and operation, and "EC2 not reached" as one typed error.
 */
@Injectable()
export class Ec2Clients implements OnApplicationShutdown {
  private readonly clients = new Map<string, EC2Client>();
  /** Shared by every caller (API, jobs, events) of this process. */
  readonly limiter: Ec2RateLimiter;

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {
    this.limiter = new Ec2RateLimiter(config.ec2RateLimits);
  }

  client(region: string): EC2Client {
    if (!this.config.regions.includes(region)) throw new Error(`region ${region} is not configured`);
    let client = this.clients.get(region);
    if (!client) {
      client = new EC2Client({
        // An EC2 that never answers (a hung connection) must end in a retry or a 503, not a warning.
        ...clientOptions(this.config, region, { throwOnRequestTimeout: true }),
        endpoint: this.config.endpoints.ec2,
        maxAttempts: this.config.awsMaxAttempts,
        retryStrategy: new Ec2RetryStrategy(this.config.awsMaxAttempts),
      });
      instrument(client, 'ec2', region, this.metrics);
      this.rateLimit(client, region);
      unreachableAsUnavailable(client, region);
      this.clients.set(region, client);
    }
    return client;
  }

  onApplicationShutdown(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }

  /**
   * Every attempt, retries included, takes its tokens first; a throttled one is counted, and nothing more.
   * An API request's attempt that would wait longer than `EC2_RATE_LIMIT_MAX_WAIT_MS` is refused (503)
   * without taking tokens; background work (jobs, events) waits its turn however long.
   */
  private rateLimit(client: EC2Client, region: string): void {
    stackOf(client).addRelativeTo(
      (next, context) => async (args) => {
        const action = context.commandName?.replace(/Command$/, '') ?? '';
        const maxWaitMs = maxRateLimitWaitMs();
        const { waitMs, spends, refused, scarcest } = this.limiter.reserve(region, action, args.input, maxWaitMs);
        if (refused) {
          this.metrics.ec2RateLimitRefused.inc({ region, bucket: scarcest.bucket });
          throw new Ec2RateLimitedError(region, action, scarcest.bucket, waitMs, maxWaitMs!);
        }
        const bucket = spends[0].bucket;
        if (waitMs > 0) {
          this.metrics.ec2RateLimitWait.inc({ region, bucket }, waitMs / 1000);
          const signal = (context[SMITHY_CONTEXT_KEY] as { abortSignal?: AbortSignal } | undefined)?.abortSignal;
          await sleep(waitMs, signal);
        }
        try {
          return await next(args);
        } catch (err) {
          if (awsErrorCode(err) === 'RequestLimitExceeded') this.metrics.ec2Throttled.inc({ region, bucket });
          throw err;
        }
      },
      { relation: 'after', toMiddleware: 'retryMiddleware', name: 'ec2ManagerRateLimit', override: true },
    );
  }
}

/** Outermost: whatever the retries made of a connection refused, reset, DNS failure or timeout. */
function unreachableAsUnavailable(client: EC2Client, region: string): void {
  stackOf(client).add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        if (!isUnreachable(err)) throw err;
        throw new Ec2UnavailableError(region, context.commandName?.replace(/Command$/, '') ?? 'unknown', err);
      }
    },
    { step: 'initialize', priority: 'high', name: 'ec2ManagerUnreachable', override: true },
  );
}

/** Waits `ms`, or rejects as soon as `signal` aborts (a fenced job stops waiting for tokens it must not use). */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
