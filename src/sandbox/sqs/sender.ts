import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';

/** Sends to queues by ARN through the SQS API of the emulator, like EventBridge's SQS target does. */
export class SqsSender {
  private readonly clients = new Map<string, SQSClient>();
  private readonly urls = new Map<string, string>();

  constructor(private readonly endpoint: string) {}

  async send(queueArn: string, body: string): Promise<void> {
    const { region, name } = parseQueueArn(queueArn);
    const client = this.client(region);
    let url = this.urls.get(queueArn);
    if (!url) {
      const found = await client.send(new GetQueueUrlCommand({ QueueName: name }));
      if (!found.QueueUrl) throw new Error(`no URL for queue ${queueArn}`);
      url = found.QueueUrl;
      this.urls.set(queueArn, url);
    }
    try {
      await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
    } catch (err) {
      // The queue may have been deleted and recreated under a new URL; look it up again next time.
      this.urls.delete(queueArn);
      throw err;
    }
  }

  forget(): void {
    this.urls.clear();
  }

  close(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }

  private client(region: string): SQSClient {
    let client = this.clients.get(region);
    if (!client) {
      client = new SQSClient({
        region,
        endpoint: this.endpoint,
        credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
        maxAttempts: 3,
      });
      this.clients.set(region, client);
    }
    return client;
  }
}

export function parseQueueArn(arn: string): { region: string; account: string; name: string } {
  const parts = arn.split(':');
  if (parts.length !== 6 || parts[0] !== 'arn' || parts[2] !== 'sqs') throw new Error(`not an SQS queue ARN: ${arn}`);
  return { region: parts[3], account: parts[4], name: parts[5] };
}
