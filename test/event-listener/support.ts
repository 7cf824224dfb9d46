import { EC2Client, ImportKeyPairCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import * as Sentry from '@sentry/nestjs';

import { AwsClients } from '../../src/aws/aws-clients.service';
import { Ec2Clients } from '../../src/ec2/ec2-clients.service';
import { keyPairNameFor } from '../../src/ec2/naming';
import { EventCounters } from '../../src/event-listener/event-counters.service';
import { InstanceRepository } from '../../src/state/instance.repository';
import { AppHarness, AppHarnessOptions, createAppHarness } from '../app-harness';

export const REGION = 'us-east-1';
export const MANAGER_ID = 'mgr';

/** Env of a service whose consumers run, with short timeouts so redeliveries take a second, not thirty. */
export const LISTENER_ENV = {
  EVENT_LISTENER_ENABLED: true,
  MANAGER_ID,
  SQS_VISIBILITY_TIMEOUT_SECONDS: 1,
  SQS_WAIT_TIME_SECONDS: 1,
  SQS_MAX_RECEIVE_COUNT: 3,
};

/** Sandbox with its clock frozen: the test moves time, the consumers run in real time. */
export const FROZEN_SANDBOX = { clockSpeed: 0, seed: 7, pendingToRunningSeconds: 10, shuttingDownSeconds: 20 };

export interface EventsHarness extends AppHarness {
  ec2: EC2Client;
  sqs: SQSClient;
  counters: EventCounters;
  instances: InstanceRepository;
  /** Launches instances of a worker type with its key pair, as a provisioner would through the API. */
  launch(workerType: string, count?: number, keyName?: string): Promise<string[]>;
  advance(seconds: number): Promise<void>;
  queueUrl(dead?: boolean): Promise<string>;
  queueDepth(dead?: boolean): Promise<{ visible: number; inFlight: number }>;
  send(body: string): Promise<void>;
}

export async function createEventsHarness(options: AppHarnessOptions = {}): Promise<EventsHarness> {
  const h = await createAppHarness({
    ...options,
    env: { ...LISTENER_ENV, ...options.env },
    sandbox: { ...FROZEN_SANDBOX, ...options.sandbox },
  });
  const ec2 = h.get(Ec2Clients).client(REGION);
  const sqs = h.get(AwsClients).sqs(REGION);
  const imported = new Set<string>();
  const queueUrl = async (dead = false) =>
    (await sqs.send(new GetQueueUrlCommand({ QueueName: dead ? h.config.deadLetterQueueName : h.config.queueName })))
      .QueueUrl!;
  const depth = async (dead: boolean) => {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: await queueUrl(dead), AttributeNames: ['All'] }),
    );
    return {
      visible: Number(Attributes.ApproximateNumberOfMessages),
      inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
    };
  };
  return {
    ...h,
    /**
     * Lets the consumers finish what the last test left in the queue before emptying the tables:
     * TRUNCATE against a running event transaction can deadlock.
     */
    async reset() {
      await h.sandbox.control.flushEvents();
      await waitFor(
        () => depth(false),
        (d) => d.visible + d.inFlight === 0,
      ).catch(() => undefined);
      await h.reset();
    },
    ec2,
    sqs,
    counters: h.get(EventCounters),
    instances: h.get(InstanceRepository),
    async launch(workerType, count = 1, keyName = keyPairNameFor(h.config, workerType)) {
      if (!imported.has(keyName)) {
        await ec2.send(
          new ImportKeyPairCommand({ KeyName: keyName, PublicKeyMaterial: Buffer.from(h.config.instancePubkey) }),
        );
        imported.add(keyName);
      }
      const out = await ec2.send(
        new RunInstancesCommand({
          ImageId: 'ami-0123456789abcdef0',
          InstanceType: 'm5.large',
          MinCount: count,
          MaxCount: count,
          KeyName: keyName,
        }),
      );
      await h.sandbox.control.flushEvents();
      return out.Instances!.map((i) => i.InstanceId!);
    },
    async advance(seconds) {
      h.sandbox.control.setClock({ advanceSeconds: seconds });
      await h.sandbox.control.flushEvents();
    },
    queueUrl,
    queueDepth: (dead = false) => depth(dead),
    async send(body) {
      await sqs.send(new SendMessageCommand({ QueueUrl: await queueUrl(), MessageBody: body }));
    },
  };
}

/** Polls until `read()` satisfies `done`, or fails showing the last value read. */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last = await read();
  while (!done(last)) {
    if (Date.now() > until) throw new Error(`condition not reached; last value: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    last = await read();
  }
  return last;
}

/**
 * Sentry as production initialises it, with the events it would send collected here instead
 * (`beforeSend` sees each finished event; returning null keeps it off the network).
 */
export function captureSentryEvents(): Sentry.ErrorEvent[] {
  const events: Sentry.ErrorEvent[] = [];
  Sentry.init({
    dsn: 'https://public@sentry.invalid/1',
    defaultIntegrations: false,
    beforeSend(event) {
      events.push(event);
      return null;
    },
  });
  return events;
}
