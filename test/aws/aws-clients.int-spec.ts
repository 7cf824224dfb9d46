import {
  DescribeAvailabilityZonesCommand,
  DescribeInstancesCommand,
  paginateDescribeInstances,
} from '@aws-sdk/client-ec2';
import { AwsClients } from '../../src/aws/aws-clients.service';
import { awsErrorCode, awsErrorFields } from '../../src/aws/aws-error';
import { Metrics } from '../../src/metrics/metrics.service';
import { AppHarness, createAppHarness } from '../app-harness';
import { clearThrottleAfterFirstHit } from '../throttle';

describe('AWS clients', () => {
  let h: AppHarness;
  let aws: AwsClients;

  beforeAll(async () => {
    h = await createAppHarness({ env: { AWS_MAX_ATTEMPTS: 5, REGIONS: 'us-east-1,us-west-2,eu-central-1' } });
    aws = h.get(AwsClients);
  });
  afterEach(() => h.sandbox.control.clearFaults());
  afterAll(() => h.close());

  it('reach each configured region of the sandbox through the real SDK', async () => {
    for (const region of h.config.regions) {
      const res = await aws.ec2(region).send(new DescribeAvailabilityZonesCommand({}));
      expect(res.AvailabilityZones!.map((z) => z.RegionName)).toEqual(expect.arrayContaining([region]));
      expect(res.AvailabilityZones!.every((z) => z.ZoneName!.startsWith(region))).toBe(true);
    }
  });

  it('refuse a region that is not configured', () => {
    expect(() => aws.ec2('ap-south-1')).toThrow('region ap-south-1 is not configured');
  });

  it('give errors that carry region, operation, EC2 code and request id', async () => {
    const err: unknown = await aws
      .ec2('us-west-2')
      .send(new DescribeInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] }))
      .catch((e: unknown) => e);
    expect(awsErrorCode(err)).toBe('InvalidInstanceID.NotFound');
    const fields = awsErrorFields(err);
    expect(fields).toMatchObject({
      region: 'us-west-2',
      operation: 'DescribeInstances',
      code: 'InvalidInstanceID.NotFound',
    });
    expect(fields.requestId).toEqual(expect.any(String));
    expect((err as Error).message).toMatch(/^us-west-2 DescribeInstances: /);
  });

  it('retry a throttled call with the adaptive strategy until it succeeds', async () => {
    h.sandbox.control.setFaults({ throttle: { fraction: 1, actions: ['DescribeAvailabilityZones'] } });
    const call = aws.ec2('us-west-2').send(new DescribeAvailabilityZonesCommand({}));
    await clearThrottleAfterFirstHit(h.sandbox, h.get(Metrics), 'us-west-2');
    const res = await call;
    expect(res.$metadata.attempts).toBeGreaterThan(1);
  });

  it('give up with RequestLimitExceeded once every attempt was throttled', async () => {
    h.sandbox.control.setFaults({ throttle: { fraction: 1, actions: ['DescribeAvailabilityZones'] } });
    const err = await aws
      .ec2('us-west-2')
      .send(new DescribeAvailabilityZonesCommand({}))
      .catch((e: unknown) => e);
    expect(awsErrorCode(err)).toBe('RequestLimitExceeded');
  });

  it('page through describes with the SDK paginator', async () => {
    await h.sandbox.control.reset();
    h.sandbox.control.seedInstances({ region: 'eu-central-1', count: 25 });
    const ids: string[] = [];
    for await (const page of paginateDescribeInstances({ client: aws.ec2('eu-central-1'), pageSize: 10 }, {})) {
      for (const r of page.Reservations ?? []) for (const i of r.Instances ?? []) ids.push(i.InstanceId!);
    }
    expect(new Set(ids).size).toBe(25);
  });
});
