import { EC2Client, ImportKeyPairCommand } from '@aws-sdk/client-ec2';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { Sandbox, SandboxOptions, startSandbox } from '../../src/sandbox';
import type { EventEnvelope } from '../../src/sandbox';

export const REGION = 'us-east-1';
export const OTHER_REGION = 'eu-central-1';
export const AMI = 'ami-0123456789abcdef0';
export const ARM_AMI = 'ami-0123456789abcdef1';
export const PUBLIC_KEY =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test@sandbox';
const credentials = { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox-secret' };

export interface Harness {
  sandbox: Sandbox;
  ec2(region?: string): EC2Client;
  sqs(region?: string): SQSClient;
  events(region?: string): EventBridgeClient;
  /** Advances the (frozen) simulated clock and waits for the events it produced to reach their queues. */
  advance(seconds: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A sandbox on free ports with the clock frozen: tests move time with `advance`, so lifecycles are deterministic
 * and no test waits on real time.
 */
export async function startHarness(options: Partial<SandboxOptions> = {}): Promise<Harness> {
  const sandbox = await startSandbox({ regions: [REGION, OTHER_REGION], clockSpeed: 0, seed: 42, ...options });
  const clients: { destroy(): void }[] = [];
  const track = <T extends { destroy(): void }>(client: T): T => {
    clients.push(client);
    return client;
  };
  return {
    sandbox,
    ec2: (region = REGION) =>
      track(new EC2Client({ region, endpoint: sandbox.endpoints.ec2, credentials, maxAttempts: 1 })),
    sqs: (region = REGION) => track(new SQSClient({ region, endpoint: sandbox.endpoints.sqs, credentials })),
    events: (region = REGION) =>
      track(new EventBridgeClient({ region, endpoint: sandbox.endpoints.events, credentials, maxAttempts: 1 })),
    advance: async (seconds) => {
      sandbox.control.setClock({ advanceSeconds: seconds });
      await sandbox.control.flushEvents();
    },
    stop: async () => {
      for (const c of clients) c.destroy();
      await sandbox.stop();
    },
  };
}

export async function importKey(ec2: EC2Client, keyName: string): Promise<void> {
  await ec2.send(new ImportKeyPairCommand({ KeyName: keyName, PublicKeyMaterial: Buffer.from(PUBLIC_KEY) }));
}

/** Creates a queue and a rule sending matching events to it, as the service's setup does (SPEC §9). */
export async function queueWithRule(
  h: Harness,
  region: string,
  name: string,
  pattern: Record<string, unknown> = { source: ['aws.ec2'] },
): Promise<string> {
  const sqs = h.sqs(region);
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  const events = h.events(region);
  await events.send(new PutRuleCommand({ Name: `${name}-rule`, EventPattern: JSON.stringify(pattern) }));
  await events.send(
    new PutTargetsCommand({ Rule: `${name}-rule`, Targets: [{ Id: 'queue', Arn: Attributes!.QueueArn }] }),
  );
  return QueueUrl!;
}

/** Every message currently in the queue, in queue order, deleted as read. */
export async function drain(h: Harness, region: string, queueUrl: string): Promise<EventEnvelope[]> {
  await h.sandbox.control.flushEvents();
  const sqs = h.sqs(region);
  const out: EventEnvelope[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return out;
    for (const m of Messages) {
      out.push(JSON.parse(m.Body!) as EventEnvelope);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  }
}

/** A control API call over HTTP. */
export async function callControl(
  h: Harness,
  method: string,
  path: string,
  body?: unknown,
  // Responses are asserted field by field; typing each route's JSON here would only restate the assertions.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${h.sandbox.endpoints.control}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** The error an SDK call rejects with, for asserting on its code and HTTP status. */
export async function failure(promise: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await promise;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}
