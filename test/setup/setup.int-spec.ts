import { Logger } from '@nestjs/common';
import {
  PutRuleCommand,
  PutTargetsCommand,
  DescribeRuleCommand,
  ListTargetsByRuleCommand,
} from '@aws-sdk/client-eventbridge';
import { RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { AwsClients } from '../../src/aws/aws-clients.service';
import { Metrics } from '../../src/metrics/metrics.service';
import { AppConfig } from '../../src/config/app-config';
import { SetupReport, SetupService } from '../../src/setup/setup.service';
import { AMI, drain, Harness, importKey, OTHER_REGION, REGION, startHarness } from '../sandbox/support';

const summary = (r: SetupReport) => ({
  created: r.created.map((i) => `${i.region} ${i.kind} ${i.name}`),
  updated: r.updated.map((i) => `${i.region} ${i.kind} ${i.name} ${i.detail ?? ''}`.trim()),
  left: r.left.map((i) => `${i.region} ${i.kind} ${i.name}`),
});

Logger.overrideLogger(['error', 'warn']);

describe('setup', () => {
  let h: Harness;
  let aws: AwsClients;
  const configure = (env: Record<string, string | number> = {}) =>
    AppConfig.forTest({
      AWS_MODE: 'sandbox',
      EC2_ENDPOINT: h.sandbox.endpoints.ec2,
      SQS_ENDPOINT: h.sandbox.endpoints.sqs,
      EVENTS_ENDPOINT: h.sandbox.endpoints.events,
      REGIONS: `${REGION},${OTHER_REGION}`,
      MANAGER_ID: 'mgr',
      QUEUE_NAME: 'ev',
      ...env,
    });
  const setup = (config: AppConfig) => {
    aws = new AwsClients(config, new Metrics());
    return new SetupService(config, aws);
  };

  beforeAll(async () => {
    h = await startHarness();
  });
  afterEach(() => aws?.onApplicationShutdown());
  afterAll(() => h.stop());

  it('should create everything once, report nothing to do the second time, and update a changed setting', async () => {
    const first = await setup(configure()).run();
    const perRegion = (region: string) => [
      `${region} dead-letter-queue ev-dead`,
      `${region} queue ev`,
      `${region} queue-policy ev/ec2-manager-mgr-events`,
      `${region} rule ev-health`,
      `${region} rule ev-rebalance`,
      `${region} rule ev-spot-interruption`,
      `${region} rule ev-state-change`,
      `${region} rule-target ev-health/ec2-manager-queue`,
      `${region} rule-target ev-rebalance/ec2-manager-queue`,
      `${region} rule-target ev-spot-interruption/ec2-manager-queue`,
      `${region} rule-target ev-state-change/ec2-manager-queue`,
    ];
    expect(summary(first)).toEqual({
      created: [...perRegion(OTHER_REGION), ...perRegion(REGION)],
      updated: [],
      left: [],
    });

    const sqs = h.sqs(REGION);
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'ev' }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
    expect(Attributes!.VisibilityTimeout).toBe('30');
    expect(JSON.parse(Attributes!.RedrivePolicy!)).toEqual({
      deadLetterTargetArn: expect.stringMatching(/:ev-dead$/),
      maxReceiveCount: 5,
    });
    const policy = JSON.parse(Attributes!.Policy!) as { Statement: Record<string, unknown>[] };
    expect(policy.Statement).toEqual([
      expect.objectContaining({
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: Attributes!.QueueArn,
      }),
    ]);

    const second = await setup(configure()).run();
    expect(summary(second)).toEqual({ created: [], updated: [], left: [] });
    expect(second.unchanged).toHaveLength(22);

    aws.onApplicationShutdown();
    const third = await setup(configure({ SQS_MAX_RECEIVE_COUNT: 3, SQS_VISIBILITY_TIMEOUT_SECONDS: 7 })).run();
    expect(summary(third)).toEqual({
      created: [],
      updated: [
        `${OTHER_REGION} queue ev VisibilityTimeout, RedrivePolicy`,
        `${REGION} queue ev VisibilityTimeout, RedrivePolicy`,
      ],
      left: [],
    });
    const after = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
    expect(JSON.parse(after.Attributes!.RedrivePolicy!)).toMatchObject({ maxReceiveCount: 3 });
    expect(after.Attributes!.VisibilityTimeout).toBe('7');
  });

  it('should leave alone a rule it did not make, other targets and other policy statements', async () => {
    await h.sandbox.control.reset({ rules: true, purgeQueues: true });
    const events = h.events(REGION);
    const foreignPattern = JSON.stringify({ source: ['aws.ec2'], 'detail-type': ['something else'] });
    await events.send(
      new PutRuleCommand({ Name: 'other-rebalance', EventPattern: foreignPattern, Description: 'theirs' }),
    );
    await events.send(new PutRuleCommand({ Name: 'other-state-change', EventPattern: foreignPattern }));
    const config = configure({ QUEUE_NAME: 'other' });
    await setup(config).run();
    // Someone else adds their target to our rule and their statement to our queue's policy.
    await events.send(
      new PutTargetsCommand({
        Rule: 'other-spot-interruption',
        Targets: [{ Id: 'theirs', Arn: 'arn:aws:sqs:us-east-1:000000000000:theirs' }],
      }),
    );
    const sqs = h.sqs(REGION);
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'other' }));
    const before = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['Policy'] }));
    const policy = JSON.parse(before.Attributes!.Policy!) as { Statement: unknown[] };
    const theirs = {
      Sid: 'theirs',
      Effect: 'Allow',
      Principal: { Service: 'sns.amazonaws.com' },
      Action: 'sqs:SendMessage',
      Resource: '*',
    };
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl,
        Attributes: { Policy: JSON.stringify({ ...policy, Statement: [theirs, ...policy.Statement] }) },
      }),
    );

    aws.onApplicationShutdown();
    const again = await setup(config).run();
    expect(summary(again)).toEqual({
      created: [],
      updated: [],
      left: [`${REGION} rule other-rebalance`, `${REGION} rule other-state-change`],
    });
    expect(await events.send(new DescribeRuleCommand({ Name: 'other-rebalance' }))).toMatchObject({
      EventPattern: foreignPattern,
      Description: 'theirs',
    });
    expect((await events.send(new ListTargetsByRuleCommand({ Rule: 'other-rebalance' }))).Targets).toEqual([]);
    expect((await events.send(new ListTargetsByRuleCommand({ Rule: 'other-spot-interruption' }))).Targets).toHaveLength(
      2,
    );
    const after = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['Policy'] }));
    const statements = (JSON.parse(after.Attributes!.Policy!) as { Statement: { Sid: string; Condition?: unknown }[] })
      .Statement;
    expect(statements.map((s) => s.Sid)).toEqual(['theirs', 'ec2-manager-mgr-events']);
    // EventBridge may send only from our own rules: the foreign ones are not in the condition.
    expect(JSON.stringify(statements[1].Condition)).not.toContain('other-rebalance');
  });

  it('should make events of an instance launched in the sandbox arrive in the queue through the rules it created', async () => {
    await h.sandbox.control.reset({ rules: true, purgeQueues: true });
    await setup(configure({ QUEUE_NAME: 'flow' })).run();
    const ec2 = h.ec2(REGION);
    await importKey(ec2, 'mgr:web:abc1234');
    const run = await ec2.send(
      new RunInstancesCommand({ ImageId: AMI, MinCount: 1, MaxCount: 1, KeyName: 'mgr:web:abc1234' }),
    );
    const id = run.Instances![0].InstanceId!;
    await h.advance(10);
    h.sandbox.control.interrupt(id, 'rebalance');
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await h.advance(30);
    const { QueueUrl } = await h.sqs(REGION).send(new GetQueueUrlCommand({ QueueName: 'flow' }));
    const received = await drain(h, REGION, QueueUrl!);
    const states = received.filter((e) => e['detail-type'] === 'EC2 Instance State-change Notification');
    expect(states.map((e) => [e.detail['instance-id'], e.detail.state])).toEqual([
      [id, 'pending'],
      [id, 'running'],
      [id, 'shutting-down'],
      [id, 'terminated'],
    ]);
    expect(received.filter((e) => e['detail-type'] === 'EC2 Instance Rebalance Recommendation')).toHaveLength(1);
  });
});
