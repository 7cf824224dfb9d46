import { EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { InitializeHandlerOptions, InitializeMiddleware, RelativeMiddlewareOptions } from '@smithy/types';
import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics.service';
import { awsErrorCode, AwsCallError } from './aws-error';
import { bucketOf, Ec2Bucket, TokenBucket } from './rate-limiter';

/** Credentials the sandbox accepts; it never checks them, but the SDK signs every request. */
export const SANDBOX_CREDENTIALS = { accessKeyId: 'AKIASANDBOX', secretAccessKey: 'sandbox-secret' };

type AnyClient = EC2Client | SQSClient | EventBridgeClient;

/**
 * One EC2, SQS and EventBridge client per configured region, all with the SDK's adaptive retry
 * strategy, a timeout on every call, and errors that name their region and operation.
 */
@Injectable()
export class AwsClients implements OnApplicationShutdown {
  private readonly ec2Clients = new Map<string, EC2Client>();
  private readonly sqsClients = new Map<string, SQSClient>();
  private readonly eventsClients = new Map<string, EventBridgeClient>();
  /** Per region and EC2 bucket, shared by every caller (API, jobs, events) of this process. */
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  ec2(region: string): EC2Client {
    return this.client(this.ec2Clients, region, 'ec2', (c) => {
      const client = new EC2Client({ ...c, endpoint: this.config.endpoints.ec2 });
      this.rateLimit(client, region);
      return client;
    });
  }

  sqs(region: string): SQSClient {
    return this.client(
      this.sqsClients,
      region,
      'sqs',
      (c) => new SQSClient({ ...c, endpoint: this.config.endpoints.sqs }),
    );
  }

  events(region: string): EventBridgeClient {
    return this.client(
      this.eventsClients,
      region,
      'events',
      (c) => new EventBridgeClient({ ...c, endpoint: this.config.endpoints.events }),
    );
  }

  /** The rate-limit bucket of one region (tests and diagnostics). */
  bucket(region: string, bucket: Ec2Bucket): TokenBucket {
    const key = `${region}/${bucket}`;
    let found = this.buckets.get(key);
    if (!found) {
      found = new TokenBucket(this.config.ec2RateLimits[bucket]);
      this.buckets.set(key, found);
    }
    return found;
  }

  onApplicationShutdown(): void {
    for (const map of [this.ec2Clients, this.sqsClients, this.eventsClients] as Map<string, AnyClient>[]) {
      for (const client of map.values()) client.destroy();
      map.clear();
    }
  }

  private client<T extends AnyClient>(
    cache: Map<string, T>,
    region: string,
    service: string,
    create: (common: ReturnType<AwsClients['common']>) => T,
  ): T {
    if (!this.config.regions.includes(region)) throw new Error(`region ${region} is not configured`);
    let client = cache.get(region);
    if (!client) {
      client = create(this.common(region));
      annotateErrors(client, region);
      this.measure(client, service, region);
      cache.set(region, client);
    }
    return client;
  }

  /** Counts every call (after its retries) by outcome and times it. */
  private measure(client: AnyClient, service: string, region: string): void {
    stackOf(client).add(
      (next, context) => async (args) => {
        const operation = context.commandName?.replace(/Command$/, '') ?? 'unknown';
        const stop = this.metrics.awsCallDuration.startTimer({ service, region, operation });
        let outcome = 'success';
        try {
          return await next(args);
        } catch (err) {
          const code = awsErrorCode(err);
          outcome = callOutcome(code);
          throw err;
        } finally {
          stop();
          this.metrics.awsCalls.inc({ service, region, operation, outcome });
        }
      },
      { step: 'initialize', name: 'ec2ManagerMetrics', override: true },
    );
  }

  /**
   * Every EC2 attempt, retries included, takes a token of its bucket first; an attempt answered
   * RequestLimitExceeded slows that bucket for every caller in the region.
   */
  private rateLimit(client: EC2Client, region: string): void {
    stackOf(client).addRelativeTo(
      (next, context) => async (args) => {
        const bucketName = bucketOf(context.commandName?.replace(/Command$/, '') ?? '');
        const bucket = this.bucket(region, bucketName);
        const waitMs = bucket.reserve();
        if (waitMs > 0) {
          this.metrics.ec2RateLimitWait.inc({ region, bucket: bucketName }, waitMs / 1000);
          await new Promise((resolve) => setTimeout(resolve, waitMs));
        }
        try {
          return await next(args);
        } catch (err) {
          if (awsErrorCode(err) === 'RequestLimitExceeded') {
            bucket.throttled();
            this.metrics.ec2Throttled.inc({ region, bucket: bucketName });
          }
          throw err;
        }
      },
      { relation: 'after', toMiddleware: 'retryMiddleware', name: 'ec2ManagerRateLimit', override: true },
    );
  }

  private common(region: string) {
    const timeout = this.config.awsTimeoutMs;
    return {
      region,
      retryMode: 'adaptive' as const,
      maxAttempts: this.config.awsMaxAttempts,
      credentials: this.config.awsMode === 'sandbox' ? SANDBOX_CREDENTIALS : undefined,
      requestHandler: new NodeHttpHandler({
        connectionTimeout: Math.min(timeout, 5000),
        requestTimeout: timeout,
        httpAgent: new Agent({ keepAlive: true, maxSockets: 50 }),
        httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 50 }),
      }),
    };
  }
}

/** Every error leaving the client names the region and the operation, in its fields and its message. */
interface Stack {
  add(middleware: InitializeMiddleware<object, object>, options: InitializeHandlerOptions): void;
  addRelativeTo(middleware: InitializeMiddleware<object, object>, options: RelativeMiddlewareOptions): void;
}

/** The clients' stacks differ only in their input/output types, which these middlewares don't read. */
function stackOf(client: AnyClient): Stack {
  return client.middlewareStack as unknown as Stack;
}

function annotateErrors(client: AnyClient, region: string): void {
  stackOf(client).add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        if (err instanceof Error) {
          const e = err as AwsCallError;
          e.region = region;
          e.operation = context.commandName?.replace(/Command$/, '');
          const requestId = e.$metadata?.requestId;
          e.message = `${region} ${e.operation}: ${e.message}${requestId ? ` (request ${requestId})` : ''}`;
        }
        throw err;
      }
    },
    { step: 'initialize', name: 'ec2ManagerAnnotateErrors', override: true },
  );
}

/** A DryRun that would have succeeded answers DryRunOperation: that is no failure. */
function callOutcome(code: string | undefined): string {
  if (code === 'DryRunOperation') return 'dry-run';
  if (code === 'RequestLimitExceeded' || code === 'Throttling') return 'throttled';
  return code ? 'error' : 'failed';
}
