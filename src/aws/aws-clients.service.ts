import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type {
  AbsoluteLocation,
  InitializeHandlerOptions,
  InitializeMiddleware,
  RelativeMiddlewareOptions,
} from '@smithy/types';
import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics.service';
import { awsErrorCode, AwsCallError } from './aws-error';

/** Credentials the sandbox accepts; it never checks them, but the SDK signs every request. */
export const SANDBOX_CREDENTIALS = { accessKeyId: 'AKIASANDBOX', secretAccessKey: 'sandbox-secret' };

/** What the shared middlewares need of a client: its middleware stack (every SDK v3 client has one). */
interface AnyClient {
  middlewareStack: unknown;
  destroy(): void;
}

/**
 * One SQS and EventBridge client per configured region, with the SDK's adaptive retry strategy, a
 * timeout on every call, and errors that name their region and operation. EC2 has its own clients,
 * behind the gateway (`src/ec2`).
 */
@Injectable()
export class AwsClients implements OnApplicationShutdown {
  private readonly sqsClients = new Map<string, SQSClient>();
  private readonly eventsClients = new Map<string, EventBridgeClient>();

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

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

  onApplicationShutdown(): void {
    for (const map of [this.sqsClients, this.eventsClients] as Map<string, AnyClient>[]) {
      for (const client of map.values()) client.destroy();
      map.clear();
    }
  }

  private client<T extends AnyClient>(
    cache: Map<string, T>,
    region: string,
    service: string,
    create: (common: ReturnType<typeof clientOptions> & { retryMode: 'adaptive'; maxAttempts: number }) => T,
  ): T {
    if (!this.config.regions.includes(region)) throw new Error(`region ${region} is not configured`);
    let client = cache.get(region);
    if (!client) {
      client = create({
        ...clientOptions(this.config, region),
        retryMode: 'adaptive',
        maxAttempts: this.config.awsMaxAttempts,
      });
      instrument(client, service, region, this.metrics);
      cache.set(region, client);
    }
    return client;
  }
}

/**
 * The SDK options every client shares: region, a timeout on every call, sandbox credentials, pooled
 * sockets. `throwOnRequestTimeout` makes a request that gets no answer fail instead of only warning.
 */
export function clientOptions(config: AppConfig, region: string, opts: { throwOnRequestTimeout?: boolean } = {}) {
  const timeout = config.awsTimeoutMs;
  return {
    region,
    credentials: config.awsMode === 'sandbox' ? SANDBOX_CREDENTIALS : undefined,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: Math.min(timeout, 5000),
      requestTimeout: timeout,
      throwOnRequestTimeout: opts.throwOnRequestTimeout,
      httpAgent: new Agent({ keepAlive: true, maxSockets: 50 }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 50 }),
    }),
  };
}

/** Errors that name their region and operation, and a count and timing of every call (after its retries). */
export function instrument(client: AnyClient, service: string, region: string, metrics: Metrics): void {
  annotateErrors(client, region);
  stackOf(client).add(
    (next, context) => async (args) => {
      const operation = context.commandName?.replace(/Command$/, '') ?? 'unknown';
      const stop = metrics.awsCallDuration.startTimer({ service, region, operation });
      let outcome = 'success';
      try {
        return await next(args);
      } catch (err) {
        outcome = callOutcome(awsErrorCode(err));
        throw err;
      } finally {
        stop();
        metrics.awsCalls.inc({ service, region, operation, outcome });
      }
    },
    { step: 'initialize', name: 'ec2ManagerMetrics', override: true },
  );
}

export interface Stack {
  add(middleware: InitializeMiddleware<object, object>, options: InitializeHandlerOptions & AbsoluteLocation): void;
  addRelativeTo(middleware: InitializeMiddleware<object, object>, options: RelativeMiddlewareOptions): void;
}

/** The clients' stacks differ only in their input/output types, which these middlewares don't read. */
export function stackOf(client: AnyClient): Stack {
  return client.middlewareStack as Stack;
}

/** Every error leaving the client names the region and the operation, in its fields and its message. */
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
  // An answer, not a failure: setup asking whether a queue or rule exists yet, EC2's describe lagging its
  // launches, an id already gone. An alert on `error` must not fire on them.
  if (code && NOT_FOUND.test(code)) return 'not-found';
  return code ? 'error' : 'failed';
}

/** `InvalidInstanceID.NotFound`, `QueueDoesNotExist`, `AWS.SimpleQueueService.NonExistentQueue`, `ResourceNotFoundException`... */
const NOT_FOUND = /NotFound|DoesNotExist|NonExistent/;
