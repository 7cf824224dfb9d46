import {
  DescribeSpotInstanceRequestsCommand,
  EC2Client,
  RequestSpotInstancesCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  DeleteRuleCommand,
  DescribeRuleCommand,
  EventBridgeClient,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { AMI, drain, failure, Harness, importKey, OTHER_REGION, queueWithRule, REGION, startHarness } from './support';

const STATE_CHANGE = 'EC2 Instance State-change Notification';

describe('sandbox EventBridge', () => {
  let h: Harness;
  let ec2: EC2Client;
  let events: EventBridgeClient;
  const key = 'mgr:web:abc1234';

  beforeAll(async () => {
    h = await startHarness({
      pendingToRunningSeconds: 10,
      shuttingDownSeconds: 20,
      spotEvaluationSeconds: 2,
      interruptionNoticeSeconds: 120,
    });
    ec2 = h.ec2();
    events = h.events();
  });
  afterAll(() => h.stop());
  beforeEach(async () => {
    await h.sandbox.control.reset({ rules: true, purgeQueues: true });
    await importKey(ec2, key);
  });

  it('should manage rules and targets: PutRule, DescribeRule, ListRules, PutTargets, ListTargetsByRule, RemoveTargets, DeleteRule', async () => {
    const pattern = JSON.stringify({ source: ['aws.ec2'], 'detail-type': [STATE_CHANGE] });
    const put = await events.send(
      new PutRuleCommand({ Name: 'ec2-state', EventPattern: pattern, Description: 'state changes' }),
    );
    expect(put.RuleArn).toBe('arn:aws:events:us-east-1:000000000000:rule/ec2-state');
    for (const name of ['ec2-spot', 'ec2-rebalance', 'other']) {
      await events.send(new PutRuleCommand({ Name: name, EventPattern: pattern }));
    }
    expect(await events.send(new DescribeRuleCommand({ Name: 'ec2-state' }))).toMatchObject({
      Name: 'ec2-state',
      Arn: put.RuleArn,
      EventPattern: pattern,
      State: 'ENABLED',
      Description: 'state changes',
      EventBusName: 'default',
    });
    const listed = await events.send(new ListRulesCommand({ NamePrefix: 'ec2-', Limit: 2 }));
    expect(listed.Rules!.map((r) => r.Name)).toEqual(['ec2-rebalance', 'ec2-spot']);
    const rest = await events.send(new ListRulesCommand({ NamePrefix: 'ec2-', Limit: 2, NextToken: listed.NextToken }));
    expect(rest.Rules!.map((r) => r.Name)).toEqual(['ec2-state']);
    expect(rest.NextToken).toBeUndefined();
    expect((await h.events(OTHER_REGION).send(new ListRulesCommand({}))).Rules).toEqual([]);

    const targets = await events.send(
      new PutTargetsCommand({
        Rule: 'ec2-state',
        Targets: [
          { Id: 'queue', Arn: 'arn:aws:sqs:us-east-1:000000000000:events' },
          { Id: 'bad', Arn: 'not-an-arn' },
        ],
      }),
    );
    expect(targets.FailedEntryCount).toBe(1);
    expect(targets.FailedEntries![0].TargetId).toBe('bad');
    expect((await events.send(new ListTargetsByRuleCommand({ Rule: 'ec2-state' }))).Targets).toEqual([
      { Id: 'queue', Arn: 'arn:aws:sqs:us-east-1:000000000000:events' },
    ]);
    expect(await failure(events.send(new DeleteRuleCommand({ Name: 'ec2-state' })))).toMatchObject({
      name: 'ValidationException',
      status: 400,
    });
    await events.send(new RemoveTargetsCommand({ Rule: 'ec2-state', Ids: ['queue'] }));
    await events.send(new DeleteRuleCommand({ Name: 'ec2-state' }));
    expect(await failure(events.send(new DescribeRuleCommand({ Name: 'ec2-state' })))).toMatchObject({
      name: 'ResourceNotFoundException',
    });
    expect(
      await failure(events.send(new PutRuleCommand({ Name: 'broken', EventPattern: '{"source": "aws.ec2"}' }))),
    ).toMatchObject({
      name: 'InvalidEventPatternException',
    });
    expect(await failure(events.send(new PutRuleCommand({ Name: 'empty' })))).toMatchObject({
      name: 'ValidationException',
    });
    expect(await failure(events.send(new ListRulesCommand({ EventBusName: 'custom' })))).toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('should deliver the instance lifecycle as state-change envelopes through the rule to SQS', async () => {
    const queue = await queueWithRule(h, REGION, 'ec2-events', { source: ['aws.ec2'], 'detail-type': [STATE_CHANGE] });
    const run = await ec2.send(new RunInstancesCommand({ ImageId: AMI, MinCount: 1, MaxCount: 1, KeyName: key }));
    const id = run.Instances![0].InstanceId!;
    await h.advance(10);
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await h.advance(20);
    const received = await drain(h, REGION, queue);
    expect(received.map((e) => e.detail.state)).toEqual(['pending', 'running', 'shutting-down', 'terminated']);
    const [first] = received;
    expect(Object.keys(first).sort()).toEqual([
      'account',
      'detail',
      'detail-type',
      'id',
      'region',
      'resources',
      'source',
      'time',
      'version',
    ]);
    expect(first).toMatchObject({
      version: '0',
      'detail-type': STATE_CHANGE,
      source: 'aws.ec2',
      account: '000000000000',
      region: REGION,
      resources: [`arn:aws:ec2:us-east-1:000000000000:instance/${id}`],
      detail: { 'instance-id': id, state: 'pending' },
    });
    expect(first.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Date.parse(received[1].time) - Date.parse(first.time)).toBe(10_000);
    expect(new Set(received.map((e) => e.id)).size).toBe(4);
  });

  it('should deliver the spot lifecycle: fulfilment, interruption warning, then termination two minutes later', async () => {
    const queue = await queueWithRule(h, REGION, 'spot-events', { source: ['aws.ec2'] });
    const [request] = (
      await ec2.send(
        new RequestSpotInstancesCommand({
          SpotPrice: '1',
          LaunchSpecification: { ImageId: AMI, InstanceType: 'm5.large', KeyName: key },
        }),
      )
    ).SpotInstanceRequests!;
    await h.advance(12);
    const { SpotInstanceRequests } = await ec2.send(
      new DescribeSpotInstanceRequestsCommand({ SpotInstanceRequestIds: [request.SpotInstanceRequestId!] }),
    );
    const id = SpotInstanceRequests![0].InstanceId!;
    h.sandbox.control.interrupt(id, 'rebalance');
    const { terminatesAt } = h.sandbox.control.interrupt(id);
    expect((await ec2.send(new DescribeSpotInstanceRequestsCommand({}))).SpotInstanceRequests![0].Status!.Code).toBe(
      'marked-for-termination',
    );
    await h.advance(119);
    const before = await drain(h, REGION, queue);
    expect(before.map((e) => [e['detail-type'], e.detail])).toEqual([
      [STATE_CHANGE, { 'instance-id': id, state: 'pending' }],
      [STATE_CHANGE, { 'instance-id': id, state: 'running' }],
      ['EC2 Instance Rebalance Recommendation', { 'instance-id': id }],
      ['EC2 Spot Instance Interruption Warning', { 'instance-id': id, 'instance-action': 'terminate' }],
    ]);
    await h.advance(1 + 20);
    const after = await drain(h, REGION, queue);
    expect(after.map((e) => e.detail.state)).toEqual(['shutting-down', 'terminated']);
    expect(after[0].time).toBe(terminatesAt!.replace(/\.\d+Z$/, 'Z'));
    const closed = (await ec2.send(new DescribeSpotInstanceRequestsCommand({}))).SpotInstanceRequests![0];
    expect(closed).toMatchObject({ State: 'closed', Status: { Code: 'instance-terminated-no-capacity' } });
  });

  it("should route each region's events to that region's queue, even when queue names are equal", async () => {
    const east = await queueWithRule(h, REGION, 'ec2-manager');
    const west = await queueWithRule(h, OTHER_REGION, 'ec2-manager');
    expect(east).not.toBe(west);
    const [a] = h.sandbox.control.seedInstances({
      region: REGION,
      count: 1,
      state: 'pending',
      emitEvents: true,
    }).instanceIds;
    const [b] = h.sandbox.control.seedInstances({
      region: OTHER_REGION,
      count: 1,
      state: 'pending',
      emitEvents: true,
    }).instanceIds;
    const eastEvents = await drain(h, REGION, east);
    const westEvents = await drain(h, OTHER_REGION, west);
    expect(eastEvents.map((e) => [e.region, e.detail['instance-id']])).toEqual([[REGION, a]]);
    expect(westEvents.map((e) => [e.region, e.detail['instance-id']])).toEqual([[OTHER_REGION, b]]);
  });

  it('should match event patterns on detail fields, prefix and anything-but, and skip disabled rules', async () => {
    const sqs = h.sqs();
    const queueFor = async (name: string, pattern: object, state?: 'DISABLED') => {
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
      const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
      await events.send(new PutRuleCommand({ Name: name, EventPattern: JSON.stringify(pattern), State: state }));
      await events.send(new PutTargetsCommand({ Rule: name, Targets: [{ Id: 'q', Arn: Attributes!.QueueArn }] }));
      return QueueUrl!;
    };
    const running = await queueFor('running-only', { source: ['test.app'], detail: { state: ['running'] } });
    const prefixed = await queueFor('prefixed', {
      source: [{ prefix: 'test.' }],
      'detail-type': [{ 'anything-but': ['noise'] }],
    });
    const numeric = await queueFor('numeric', { source: ['test.app'], detail: { count: [{ numeric: ['>', 5] }] } });
    const disabled = await queueFor('disabled', { source: ['test.app'] }, 'DISABLED');
    const withInput = await queueFor('constant', { source: ['test.app'], detail: { state: ['stopped'] } });
    await events.send(
      new PutTargetsCommand({
        Rule: 'constant',
        Targets: [{ Id: 'q', Arn: 'arn:aws:sqs:us-east-1:000000000000:constant', Input: '{"fixed":true}' }],
      }),
    );

    const sent = await events.send(
      new PutEventsCommand({
        Entries: [
          { Source: 'test.app', DetailType: 'change', Detail: JSON.stringify({ state: 'running', count: 3 }) },
          { Source: 'test.app', DetailType: 'noise', Detail: JSON.stringify({ state: 'pending', count: 9 }) },
          { Source: 'test.app', DetailType: 'change', Detail: JSON.stringify({ state: 'stopped' }) },
          { Source: 'aws.ec2', DetailType: 'forged', Detail: '{}' },
          { Source: 'test.app', DetailType: 'bad', Detail: 'not json' },
        ],
      }),
    );
    expect(sent.FailedEntryCount).toBe(2);
    expect(sent.Entries!.map((e) => e.ErrorCode)).toEqual([
      undefined,
      undefined,
      undefined,
      'NotAuthorizedForSourceException',
      'MalformedDetail',
    ]);

    expect((await drain(h, REGION, running)).map((e) => e.detail)).toEqual([{ state: 'running', count: 3 }]);
    expect((await drain(h, REGION, prefixed)).map((e) => e.detail.state)).toEqual(['running', 'stopped']);
    expect((await drain(h, REGION, numeric)).map((e) => e.detail.count)).toEqual([9]);
    expect(await drain(h, REGION, disabled)).toEqual([]);
    expect(await drain(h, REGION, withInput)).toEqual([{ fixed: true }]);
  });

  it('should let the control API inject events EC2 itself would publish', async () => {
    const queue = await queueWithRule(h, REGION, 'health', {
      source: ['aws.health'],
      'detail-type': ['AWS Health Event'],
    });
    const { id } = h.sandbox.control.emitEvent({
      region: REGION,
      source: 'aws.health',
      detailType: 'AWS Health Event',
      detail: { service: 'EC2', eventTypeCategory: 'scheduledChange' },
      resources: ['i-0123456789abcdef0'],
    });
    const [event] = await drain(h, REGION, queue);
    expect(event).toMatchObject({
      id,
      source: 'aws.health',
      resources: ['i-0123456789abcdef0'],
      detail: { service: 'EC2' },
    });
    expect(h.sandbox.control.deliveries().stats).toMatchObject({ emitted: 1, delivered: 1, failed: 0 });
  });
});
