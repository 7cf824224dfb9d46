import { EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { InitializeHandlerOptions, InitializeMiddleware } from '@smithy/types';
import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { AppConfig } from '../config/app-config';
import { AwsCallError } from './aws-error';

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

  constructor(private readonly config: AppConfig) {}

  ec2(region: string): EC2Client {
    return this.client(this.ec2Clients, region, (c) => new EC2Client({ ...c, endpoint: this.config.endpoints.ec2 }));
  }

  sqs(region: string): SQSClient {
    return this.client(this.sqsClients, region, (c) => new SQSClient({ ...c, endpoint: this.config.endpoints.sqs }));
  }

  events(region: string): EventBridgeClient {
    return this.client(
      this.eventsClients,
      region,
      (c) => new EventBridgeClient({ ...c, endpoint: this.config.endpoints.events }),
    );
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
    create: (common: ReturnType<AwsClients['common']>) => T,
  ): T {
    if (!this.config.regions.includes(region)) throw new Error(`region ${region} is not configured`);
    let client = cache.get(region);
    if (!client) {
      client = create(this.common(region));
      annotateErrors(client, region);
      cache.set(region, client);
    }
    return client;
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
function annotateErrors(client: AnyClient, region: string): void {
  const stack = client.middlewareStack as unknown as {
    add(middleware: InitializeMiddleware<object, object>, options: InitializeHandlerOptions): void;
  };
  stack.add(
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
