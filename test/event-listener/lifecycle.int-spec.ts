import { RequestSpotInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { DeleteQueueCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { Logger } from '@nestjs/common';
import { AwsClients } from '../../src/aws/aws-clients.service';
import { keyPairNameFor } from '../../src/ec2/naming';
import { SpotRequestRepository } from '../../src/state/spot-request.repository';
import { TerminationNoticeRepository } from '../../src/state/termination-notice.repository';
import { UsageRepository } from '../../src/state/usage.repository';
import { launchExamples } from '../../src/api/launch/launch-examples';
import { api, API_CLIENTS, bearer, TOKENS } from '../api/support';
import { captureSentryEvents, createEventsHarness, EventsHarness, REGION, waitFor } from './support';

Logger.overrideLogger(['error']);

describe('event listener: EC2 → EventBridge rule → SQS → consumer → Postgres', () => {
  const sentry = captureSentryEvents();
  let h: EventsHarness;
  const stateOf = async (id: string) => (await h.instances.find(REGION, id))?.state ?? 'absent';

  beforeAll(async () => {
    h = await createEventsHarness({ env: { API_CLIENTS } });
  });
  afterAll(() => h.close());
  beforeEach(async () => {
    await h.reset();
    sentry.length = 0;
  });

  it('should track a launch through pending and running, and forget it when it terminates', async () => {
    const [id] = await h.launch('web');
    await waitFor(
      () => stateOf(id),
      (s) => s === 'pending',
    );
    const row = await h.instances.find(REGION, id);
    expect(row).toMatchObject({ workerType: 'web', instanceType: 'm5.large', imageId: 'ami-0123456789abcdef0' });
    expect((await h.get(UsageRepository).listAmiUsage()).map((u) => u.id)).toEqual(['ami-0123456789abcdef0']);

    await h.advance(10);
    await waitFor(
      () => stateOf(id),
      (s) => s === 'running',
    );
    // Event times have second precision, and an event at the row's own time changes nothing (SPEC §3).
    await h.advance(1);
    await h.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await h.advance(1);
    await waitFor(
      () => stateOf(id),
      (s) => s === 'absent',
    );
    await h.advance(20);
    await waitFor(
      () => h.queueDepth(),
      (d) => d.visible + d.inFlight === 0,
    );
    expect(await stateOf(id)).toBe('absent');
    expect(h.counters.snapshot().handled).toMatchObject({
      'state-change/added': 1,
      'state-change/updated': 1,
      'state-change/removed': 2,
    });
    // The instance was launched untagged; adopting it tagged it as SPEC §2 says.
    expect(h.sandbox.control.instance(id)!.tags).toEqual(
      new Map([
        ['Name', 'web'],
        ['Owner', 'mgr'],
        ['WorkerType', 'mgr/web'],
      ]),
    );
    expect(sentry).toEqual([]);
  });

  it('should follow a spot request made through the API to its instance, running, and gone after the API terminates it', async () => {
    const auth = bearer(TOKENS.builder);
    await api(h).get('/v1/worker-types/builder/key-pair').set(auth).expect(200);
    await api(h).put('/v1/worker-types/builder/spot-request').set(auth).send(launchExamples(h.config).spot).expect(204);
    const spot = h.get(SpotRequestRepository);
    const [request] = await spot.list({ workerType: 'builder' });
    expect(request).toBeDefined();
    await h.advance(3); // the market fulfils it: the instance's pending event arrives
    const [row] = await waitFor(
      () => h.instances.list({ workerType: 'builder' }),
      (r) => r.length === 1,
    );
    expect(row).toMatchObject({ spotRequestId: request.id, state: 'pending' });
    expect(await spot.find(REGION, request.id)).toBeNull();
    await h.advance(10);
    await waitFor(
      () => stateOf(row.id),
      (s) => s === 'running',
    );
    await h.advance(1);
    await api(h)
      .delete(`/v1/region/${REGION}/instance/${row.id}`)
      .set(bearer(TOKENS.admin))
      .expect((res) => expect([200, 204]).toContain(res.status));
    await h.advance(20);
    await waitFor(
      () => stateOf(row.id),
      (s) => s === 'absent',
    );
  });

  it('should forget a spot request once its instance arrives', async () => {
    await h.launch('spot', 1); // imports the key pair
    const keyName = keyPairNameFor(h.config, 'spot');
    const out = await h.ec2.send(
      new RequestSpotInstancesCommand({
        SpotPrice: '10',
        InstanceCount: 1,
        LaunchSpecification: { ImageId: 'ami-0123456789abcdef0', InstanceType: 'm5.large', KeyName: keyName },
      }),
    );
    const requestId = out.SpotInstanceRequests![0].SpotInstanceRequestId!;
    const spot = h.get(SpotRequestRepository);
    await spot.upsert({
      region: REGION,
      id: requestId,
      workerType: 'spot',
      az: 'us-east-1a',
      instanceType: 'm5.large',
      state: 'open',
      status: 'pending-evaluation',
      imageId: 'ami-0123456789abcdef0',
      created: new Date(),
    });
    await h.advance(3);
    const rows = await waitFor(
      () => h.instances.list({ workerType: 'spot' }),
      (r) => r.some((i) => i.spotRequestId === requestId),
    );
    expect(rows.find((i) => i.spotRequestId === requestId)).toMatchObject({ state: 'pending' });
    expect(await spot.find(REGION, requestId)).toBeNull();
  });

  it('should show interruption warnings and rebalance recommendations, and drop them when the instance leaves', async () => {
    const [a, b] = await h.launch('notice', 2);
    await h.advance(10);
    await waitFor(
      () => h.instances.list({ workerType: 'notice', state: 'running' }),
      (r) => r.length === 2,
    );
    h.sandbox.control.interrupt(a, 'rebalance');
    h.sandbox.control.interrupt(b, 'spot-interruption');
    await h.sandbox.control.flushEvents();
    const notices = h.get(TerminationNoticeRepository);
    const listed = await waitFor(
      () => notices.listForWorkerType('notice'),
      (n) => n.length === 2,
    );
    expect(listed.map((n) => [n.instanceId, n.kind, n.action]).sort()).toEqual(
      [
        [a, 'rebalance-recommendation', null],
        [b, 'spot-interruption', 'terminate'],
      ].sort(),
    );
    const health = await api(h).get('/v1/worker-types/notice/health').expect(200);
    expect(
      (health.body as { terminationNotices: { instanceId: string; kind: string }[] }).terminationNotices
        .map((n) => [n.instanceId, n.kind])
        .sort(),
    ).toEqual(
      [
        [a, 'rebalance-recommendation'],
        [b, 'spot-interruption'],
      ].sort(),
    );
    const warning = listed.find((n) => n.kind === 'spot-interruption')!;
    expect(warning.notBefore!.getTime()).toBeGreaterThan(warning.received.getTime() - 1000);

    await h.advance(120); // the interruption terminates b
    await h.ec2.send(new TerminateInstancesCommand({ InstanceIds: [a] }));
    await h.sandbox.control.flushEvents();
    await waitFor(
      () => notices.listForWorkerType('notice'),
      (n) => n.length === 0,
    );
    await waitFor(
      () => h.instances.list({ workerType: 'notice' }),
      (r) => r.length === 0,
    );
    const after = await api(h).get('/v1/worker-types/notice/health').expect(200);
    expect((after.body as { terminationNotices: unknown[] }).terminationNotices).toEqual([]);
  });

  it('should record an AWS Health scheduled change for an instance, through the health rule', async () => {
    const [id] = await h.launch('scheduled');
    await waitFor(
      () => stateOf(id),
      (s) => s === 'pending',
    );
    h.sandbox.control.emitEvent({
      region: REGION,
      source: 'aws.health',
      detailType: 'AWS Health Event',
      resources: [id],
      detail: {
        service: 'EC2',
        eventTypeCategory: 'scheduledChange',
        eventTypeCode: 'AWS_EC2_INSTANCE_STOP_SCHEDULED',
        startTime: 'Wed, 25 Nov 2026 10:00:00 GMT',
        affectedEntities: [{ entityValue: id }],
      },
    });
    await h.sandbox.control.flushEvents();
    const [notice] = await waitFor(
      () => h.get(TerminationNoticeRepository).listForWorkerType('scheduled'),
      (n) => n.length === 1,
    );
    expect(notice).toMatchObject({
      instanceId: id,
      kind: 'scheduled-change',
      action: 'stop',
      notBefore: new Date('2026-11-25T10:00:00Z'),
    });
  });

  it('should ignore an instance of another manager', async () => {
    const [id] = await h.launch('web', 1, 'other-manager:web:abc1234');
    await h.advance(10);
    await waitFor(
      () => h.queueDepth(),
      (d) => d.visible + d.inFlight === 0,
    );
    expect(await stateOf(id)).toBe('absent');
    expect(h.counters.snapshot().handled['state-change/foreign']).toBeGreaterThanOrEqual(2);
    expect(h.sandbox.control.instance(id)!.tags.size).toBe(0);
  });

  it('should acknowledge a non-JSON body, a wrong shape and an unknown detail-type once each, count them and go on', async () => {
    const before = h.counters.snapshot().rejected;
    await h.send('this is not json');
    await h.send(JSON.stringify({ hello: 'world' }));
    await h.send(
      JSON.stringify({
        version: '0',
        id: 'e-1',
        'detail-type': 'EC2 AMI State Change',
        source: 'aws.ec2',
        account: '000000000000',
        time: new Date().toISOString(),
        region: REGION,
        resources: [],
        detail: {},
      }),
    );
    const [id] = await h.launch('after-poison');
    await waitFor(
      () => stateOf(id),
      (s) => s === 'pending',
    );
    await waitFor(
      () => h.queueDepth(),
      (d) => d.visible + d.inFlight === 0,
    );
    // A second of redelivery time: a message not deleted would come back and be counted again.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const after = h.counters.snapshot().rejected;
    expect((after.malformed ?? 0) - (before.malformed ?? 0)).toBe(2);
    expect((after.unknown ?? 0) - (before.unknown ?? 0)).toBe(1);
    expect(await h.queueDepth(true)).toEqual({ visible: 0, inFlight: 0 });
    expect(sentry.map((e) => e.message).sort()).toEqual([
      `ec2-manager: malformed event in ${REGION}: body is not JSON`,
      `ec2-manager: malformed event in ${REGION}: envelope has no id`,
      `ec2-manager: unknown event in ${REGION}: unknown event aws.ec2 / EC2 AMI State Change`,
    ]);
  });

  it('should be ready while its queues answer, and say which one does not', async () => {
    const ready = await api(h).get('/health/ready').expect(200);
    expect(ready.body.info).toMatchObject({ queues: { status: 'up' } });
    const other = h.get(AwsClients).sqs('us-west-2');
    const { QueueUrl } = await other.send(new GetQueueUrlCommand({ QueueName: h.config.queueName }));
    await other.send(new DeleteQueueCommand({ QueueUrl }));
    const res = await api(h).get('/health/ready').expect(503);
    expect(res.body.error.queues.message).toContain('events@us-west-2');
    expect(res.body.error.queues.message).not.toContain('us-east-1');
  });
});
