import {
  DescribeAvailabilityZonesCommand,
  DescribeInstancesCommand,
  paginateDescribeInstances,
} from '@aws-sdk/client-ec2';
import { awsErrorCode } from '../../src/aws/aws-error';
import { Ec2Clients } from '../../src/ec2/ec2-clients.service';
import { serializeError } from '../../src/logging/serialize-error';
import { Metrics } from '../../src/metrics/metrics.service';
import { AppHarness, createAppHarness } from '../app-harness';
import { clearThrottleAfterFirstHit } from '../throttle';

describe('EC2 clients (behind the gateway)', () => {
  let h: AppHarness;
  let ec2: Ec2Clients;

  beforeAll(async () => {
    h = await createAppHarness({ env: { AWS_MAX_ATTEMPTS: 5, REGIONS: 'us-east-1,us-west-2,eu-central-1' } });
    ec2 = h.get(Ec2Clients);
  });
  afterEach(() => h.sandbox.control.clearFaults());
  afterAll(() => h.close());

  it('reach each configured region of the sandbox through the real SDK', async () => {
    for (const region of h.config.regions) {
      const res = await ec2.client(region).send(new DescribeAvailabilityZonesCommand({}));
      expect(res.AvailabilityZones!.map((z) => z.RegionName)).toEqual(expect.arrayContaining([region]));
      expect(res.AvailabilityZones!.every((z) => z.ZoneName!.startsWith(region))).toBe(true);
    }
  });

  it('refuse a region that is not configured', () => {
    expect(() => ec2.client('ap-south-1')).toThrow('region ap-south-1 is not configured');
  });

  it('give errors that carry region, operation, EC2 code and request id', async () => {
    const err: unknown = await ec2
      .client('us-west-2')
      .send(new DescribeInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] }))
      .catch((e: unknown) => e);
    expect(awsErrorCode(err)).toBe('InvalidInstanceID.NotFound');
    // What a log line shows of it: AWS's request id under its own key, never as the line's requestId.
    expect(serializeError(err)).toMatchObject({
      name: 'InvalidInstanceID.NotFound',
      code: 'InvalidInstanceID.NotFound',
      region: 'us-west-2',
      operation: 'DescribeInstances',
      awsRequestId: expect.stringMatching(/.+/),
      httpStatusCode: 400,
    });
    expect(serializeError(err)).not.toHaveProperty('requestId');
    expect((err as Error).message).toMatch(/^us-west-2 DescribeInstances: /);
  });

  it('retry a throttled call with our retry strategy until it succeeds', async () => {
    h.sandbox.control.setFaults({ throttle: { fraction: 1, actions: ['DescribeAvailabilityZones'] } });
    const call = ec2.client('us-west-2').send(new DescribeAvailabilityZonesCommand({}));
    await clearThrottleAfterFirstHit(h.sandbox, h.get(Metrics), 'us-west-2');
    const res = await call;
    expect(res.$metadata.attempts).toBeGreaterThan(1);
  });

  it('give up with RequestLimitExceeded once every attempt was throttled', async () => {
    h.sandbox.control.setFaults({ throttle: { fraction: 1, actions: ['DescribeAvailabilityZones'] } });
    const err = await ec2
      .client('us-west-2')
      .send(new DescribeAvailabilityZonesCommand({}))
      .catch((e: unknown) => e);
    expect(awsErrorCode(err)).toBe('RequestLimitExceeded');
  });

  it('page through describes with the SDK paginator', async () => {
    await h.sandbox.control.reset();
    h.sandbox.control.seedInstances({ region: 'eu-central-1', count: 25 });
    const ids: string[] = [];
    for await (const page of paginateDescribeInstances({ client: ec2.client('eu-central-1'), pageSize: 10 }, {})) {
      for (const r of page.Reservations ?? []) for (const i of r.Instances ?? []) ids.push(i.InstanceId!);
    }
    expect(new Set(ids).size).toBe(25);
  });
});
