import { CreateQueueCommand, GetQueueUrlCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { AppHarness } from '../app-harness';
import { AwsClients } from '../../src/aws/aws-clients.service';
import { api, bearer, createApiHarness, TOKENS } from './support';

describe('queue internals API', () => {
  let h: AppHarness;
  const internals = bearer(TOKENS.internals);
  beforeAll(async () => {
    h = await createApiHarness({ env: { REGIONS: 'us-east-1', QUEUE_NAME: 'api-test-events' } });
  });
  afterAll(() => h.close());

  it('reports a missing queue instead of failing', async () => {
    const res = await api(h).get('/v1/internal/sqs-stats').set(internals).expect(200);
    expect(res.body).toEqual([
      {
        region: 'us-east-1',
        queue: 'api-test-events',
        visible: null,
        inFlight: null,
        delayed: null,
        deadLettered: null,
        error: expect.stringContaining('does not exist'),
      },
    ]);
    await api(h).post('/v1/internal/purge-queues').set(internals).expect(204);
  });

  it('counts visible, delayed and dead-lettered messages, and purges the queue but not the dead letters', async () => {
    const sqs = h.get(AwsClients).sqs('us-east-1');
    // The setup command makes these in production; here the test does.
    const { QueueUrl: main } = await sqs.send(new CreateQueueCommand({ QueueName: 'api-test-events' }));
    const { QueueUrl: dead } = await sqs.send(new CreateQueueCommand({ QueueName: 'api-test-events-dead' }));
    for (let i = 0; i < 3; i++) await sqs.send(new SendMessageCommand({ QueueUrl: main, MessageBody: `m${i}` }));
    await sqs.send(new SendMessageCommand({ QueueUrl: main, MessageBody: 'later', DelaySeconds: 600 }));
    await sqs.send(new SendMessageCommand({ QueueUrl: dead, MessageBody: 'poison' }));

    const res = await api(h).get('/v1/internal/sqs-stats').set(internals).expect(200);
    expect(res.body).toEqual([
      { region: 'us-east-1', queue: 'api-test-events', visible: 3, inFlight: 0, delayed: 1, deadLettered: 1 },
    ]);

    await api(h).post('/v1/internal/purge-queues').set(internals).expect(204);
    const after = await api(h).get('/v1/internal/sqs-stats').set(internals).expect(200);
    expect(after.body[0]).toMatchObject({ visible: 0, inFlight: 0, delayed: 0, deadLettered: 1 });
    // A second purge within SQS's minute is what was asked too.
    await api(h).post('/v1/internal/purge-queues').set(internals).expect(204);
    expect((await sqs.send(new GetQueueUrlCommand({ QueueName: 'api-test-events' }))).QueueUrl).toBe(main);
  });
});
