import { DescribeInstancesCommand, DescribeKeyPairsCommand, EC2Client, EC2ClientConfig } from '@aws-sdk/client-ec2';
import { ListQueuesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { callControl, drain, failure, Harness, queueWithRule, REGION, startHarness } from './support';

const credentials = { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox-secret' };
// Under jest, Node's network errors come from another realm and the SDK wraps them: only the message survives.
const RESET = /ECONNRESET|EPIPE|socket hang up/;

describe('sandbox outages: SQS and EC2 unreachable', () => {
  let h: Harness;
  let sqs: SQSClient;
  let queue: string;
  const clients: { destroy(): void }[] = [];

  beforeAll(async () => {
    h = await startHarness();
    // One attempt: the SDK would otherwise retry a refused connection with back-off.
    sqs = new SQSClient({ region: REGION, endpoint: h.sandbox.endpoints.sqs, credentials, maxAttempts: 1 });
    clients.push(sqs);
    queue = await queueWithRule(h, REGION, 'outages');
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await h.stop();
  });
  beforeEach(() => h.sandbox.control.reset({ purgeQueues: true }));

  const seedWithEvents = (count: number) =>
    h.sandbox.control.seedInstances({ region: REGION, count, state: 'pending', emitEvents: true }).instanceIds;
  const receive = () => sqs.send(new ReceiveMessageCommand({ QueueUrl: queue, WaitTimeSeconds: 0 }));

  it('should refuse SQS connections while keeping queued messages and events emitted meanwhile', async () => {
    const before = seedWithEvents(2);
    await h.sandbox.control.flushEvents();
    const set = await callControl(h, 'POST', '/faults', { sqs: { outage: 'refuse' } });
    expect(set.body.sqs).toEqual({ outage: 'refuse', errorStatus: 500 });
    expect(await failure(receive())).toMatchObject({ message: expect.stringContaining('ECONNREFUSED') });
    expect(await failure(sqs.send(new ListQueuesCommand({})))).toMatchObject({
      message: expect.stringContaining('ECONNREFUSED'),
    });

    const during = seedWithEvents(1);
    await h.sandbox.control.flushEvents();
    expect(h.sandbox.control.deliveries().stats).toMatchObject({ delivered: 3, failed: 0 });

    expect((await callControl(h, 'DELETE', '/faults')).body.sqs.outage).toBe('none');
    const events = await drain(h, REGION, queue);
    expect(events.map((e) => e.detail['instance-id'])).toEqual([...before, ...during]);
  });

  it('should answer every SQS call with a 5xx while the outage is `error`, then recover on the same URL', async () => {
    const [id] = seedWithEvents(1);
    await h.sandbox.control.flushEvents();
    h.sandbox.control.setFaults({ sqs: { outage: 'error' } });
    await h.sandbox.control.settled();
    expect(await failure(receive())).toMatchObject({ name: 'InternalError', status: 500 });
    h.sandbox.control.setFaults({ sqs: { errorStatus: 503 } });
    expect(await failure(receive())).toMatchObject({ name: 'ServiceUnavailable', status: 503 });

    h.sandbox.control.clearFaults();
    await h.sandbox.control.settled();
    const { Messages = [] } = await receive();
    expect(Messages.map((m) => (JSON.parse(m.Body!) as { detail: { 'instance-id': string } }).detail)).toEqual([
      { 'instance-id': id, state: 'pending' },
    ]);
  });

  const ec2Client = (options: Partial<EC2ClientConfig> = {}) => {
    const client = new EC2Client({
      region: REGION,
      endpoint: h.sandbox.endpoints.ec2,
      credentials,
      maxAttempts: 1,
      ...options,
    });
    clients.push(client);
    return client;
  };

  it('should refuse EC2 connections while the control API answers, and serve EC2 again after', async () => {
    const pooled = ec2Client();
    await pooled.send(new DescribeKeyPairsCommand({}));
    expect((await callControl(h, 'POST', '/faults', { ec2: { outage: 'refuse' } })).status).toBe(200);
    // An open keep-alive connection is cut (a reset, if the client reuses it before noticing); new ones are refused.
    expect((await failure(pooled.send(new DescribeInstancesCommand({})))).message).toMatch(
      /ECONNREFUSED|ECONNRESET|socket hang up/,
    );
    expect((await failure(ec2Client().send(new DescribeInstancesCommand({})))).message).toMatch(/ECONNREFUSED/);
    expect((await callControl(h, 'GET', '/health')).body).toEqual({ ok: true });
    // EC2 answered on the main port too (for clients configured with it) fails as a reset.
    const viaMain = ec2Client({ endpoint: h.sandbox.endpoints.events });
    expect((await failure(viaMain.send(new DescribeInstancesCommand({})))).message).toMatch(RESET);

    expect((await callControl(h, 'DELETE', '/faults')).status).toBe(200);
    await pooled.send(new DescribeInstancesCommand({}));
    await viaMain.send(new DescribeInstancesCommand({}));
  });

  it('should reset EC2 connections, or hang until the client times out', async () => {
    const ec2 = ec2Client();
    h.sandbox.control.setFaults({ ec2: { outage: 'reset' } });
    await h.sandbox.control.settled();
    expect((await failure(ec2.send(new DescribeInstancesCommand({})))).message).toMatch(RESET);

    h.sandbox.control.setFaults({ ec2: { outage: 'hang' } });
    await h.sandbox.control.settled();
    const held = failure(ec2.send(new DescribeKeyPairsCommand({})));
    while (h.sandbox.control.state({ summary: true }).heldEc2Requests === 0) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const impatient = ec2Client({
      requestHandler: new NodeHttpHandler({ requestTimeout: 200, throwOnRequestTimeout: true }),
    });
    expect(await failure(impatient.send(new DescribeInstancesCommand({})))).toMatchObject({ name: 'TimeoutError' });
    h.sandbox.control.clearFaults();
    await h.sandbox.control.settled();
    // A request held by the hang is cut when it ends, never answered late.
    expect((await held).message).toMatch(RESET);
    await impatient.send(new DescribeInstancesCommand({}));
  });

  it('should refuse bad outage settings with 400', async () => {
    expect((await callControl(h, 'POST', '/faults', { sqs: { outage: 'down' } })).status).toBe(400);
    expect((await callControl(h, 'POST', '/faults', { sqs: { errorStatus: 502 } })).status).toBe(400);
    expect((await callControl(h, 'POST', '/faults', { ec2: { outage: 'maybe' } })).status).toBe(400);
    expect((await callControl(h, 'GET', '/faults')).body.ec2.outage).toBe('none');
  });
});
