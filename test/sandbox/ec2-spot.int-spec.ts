import {
  CancelSpotInstanceRequestsCommand,
  DescribeInstancesCommand,
  DescribeSpotInstanceRequestsCommand,
  EC2Client,
  RequestSpotInstancesCommand,
  RequestSpotInstancesCommandInput,
  RunInstancesCommand,
  SpotInstanceRequest,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { AMI, failure, Harness, importKey, REGION, startHarness } from './support';

describe('sandbox EC2: spot requests', () => {
  let h: Harness;
  let ec2: EC2Client;
  const key = 'mgr:spot:abc1234';
  const request = async (input: Partial<RequestSpotInstancesCommandInput> = {}) =>
    (
      await ec2.send(
        new RequestSpotInstancesCommand({
          SpotPrice: '0.5',
          LaunchSpecification: { ImageId: AMI, InstanceType: 'c5.large', KeyName: key },
          ...input,
        }),
      )
    ).SpotInstanceRequests!;
  const describeRequest = async (id: string): Promise<SpotInstanceRequest> =>
    (await ec2.send(new DescribeSpotInstanceRequestsCommand({ SpotInstanceRequestIds: [id] })))
      .SpotInstanceRequests![0];
  const instanceState = async (id: string) =>
    (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0].Instances![0];

  beforeAll(async () => {
    h = await startHarness({ spotEvaluationSeconds: 2, spotRetrySeconds: 30, pendingToRunningSeconds: 10 });
    ec2 = h.ec2();
  });
  afterAll(() => h.stop());
  beforeEach(async () => {
    await h.sandbox.control.reset();
    await importKey(ec2, key);
  });

  it('should fulfil a request whose bid covers the market: open/pending-evaluation → active/fulfilled with an instance', async () => {
    const [created] = await request({
      TagSpecifications: [{ ResourceType: 'spot-instances-request', Tags: [{ Key: 'Owner', Value: 'mgr' }] }],
    });
    expect(created).toMatchObject({
      State: 'open',
      Status: { Code: 'pending-evaluation' },
      SpotPrice: '0.5',
      Type: 'one-time',
      LaunchSpecification: { ImageId: AMI, InstanceType: 'c5.large', KeyName: key },
      Tags: [{ Key: 'Owner', Value: 'mgr' }],
    });
    expect(created.SpotInstanceRequestId).toMatch(/^sir-[a-z0-9]{8}$/);
    await h.advance(2);
    const fulfilled = await describeRequest(created.SpotInstanceRequestId!);
    expect(fulfilled).toMatchObject({ State: 'active', Status: { Code: 'fulfilled' } });
    const instance = await instanceState(fulfilled.InstanceId!);
    expect(instance).toMatchObject({
      SpotInstanceRequestId: created.SpotInstanceRequestId,
      InstanceLifecycle: 'spot',
      KeyName: key,
      State: { Name: 'pending' },
    });
    expect(instance.Placement!.AvailabilityZone).toBe(fulfilled.LaunchedAvailabilityZone);
    const bySpotFilter = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: 'instance-lifecycle', Values: ['spot'] },
          { Name: 'spot-instance-request-id', Values: [created.SpotInstanceRequestId!] },
        ],
      }),
    );
    expect(bySpotFilter.Reservations!.flatMap((r) => r.Instances!.map((i) => i.InstanceId))).toEqual([
      fulfilled.InstanceId,
    ]);
  });

  it('should keep a request open on price-too-low until the market drops under the bid', async () => {
    h.sandbox.control.setPrice({ region: REGION, instanceType: 'c5.large', price: 0.2 });
    const [created] = await request({ SpotPrice: '0.1' });
    await h.advance(2);
    const low = await describeRequest(created.SpotInstanceRequestId!);
    expect(low).toMatchObject({ State: 'open', Status: { Code: 'price-too-low' } });
    expect(low.Status!.Message).toContain('0.100000');
    h.sandbox.control.setPrice({ region: REGION, zone: 'us-east-1b', instanceType: 'c5.large', price: 0.05 });
    const active = await describeRequest(created.SpotInstanceRequestId!);
    expect(active).toMatchObject({
      State: 'active',
      Status: { Code: 'fulfilled' },
      LaunchedAvailabilityZone: 'us-east-1b',
    });
  });

  it('should keep a request open on capacity-not-available and fulfil it on a later evaluation once room frees up', async () => {
    h.sandbox.control.setCapacity({ region: REGION, zone: 'us-east-1a', instanceType: 'c5.large', capacity: 1 });
    const spec = {
      ImageId: AMI,
      InstanceType: 'c5.large' as const,
      KeyName: key,
      Placement: { AvailabilityZone: 'us-east-1a' },
    };
    const [a, b] = await request({ InstanceCount: 2, LaunchSpecification: spec });
    await h.advance(2);
    const first = await describeRequest(a.SpotInstanceRequestId!);
    expect(first).toMatchObject({ State: 'active', Status: { Code: 'fulfilled' } });
    expect(await describeRequest(b.SpotInstanceRequestId!)).toMatchObject({
      State: 'open',
      Status: { Code: 'capacity-not-available' },
    });

    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [first.InstanceId!] }));
    await h.advance(29);
    expect((await describeRequest(b.SpotInstanceRequestId!)).State).toBe('open');
    await h.advance(1);
    expect(await describeRequest(b.SpotInstanceRequestId!)).toMatchObject({
      State: 'active',
      LaunchedAvailabilityZone: 'us-east-1a',
    });
  });

  it('should spread over zones: capacity is per pool (region, zone, instance type)', async () => {
    h.sandbox.control.setCapacity({ region: REGION, instanceType: 'c5.large', capacity: 1 });
    const created = await request({ InstanceCount: 4 });
    await h.advance(2);
    const states = await Promise.all(created.map((r) => describeRequest(r.SpotInstanceRequestId!)));
    expect(
      states
        .filter((s) => s.State === 'active')
        .map((s) => s.LaunchedAvailabilityZone)
        .sort(),
    ).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c']);
    expect(states.filter((s) => s.State === 'open').map((s) => s.Status!.Code)).toEqual(['capacity-not-available']);
  });

  it('should cancel: open → cancelled, active → cancelled with the instance still running', async () => {
    h.sandbox.control.setPrice({ region: REGION, instanceType: 'c5.large', price: 9 });
    const [open] = await request();
    h.sandbox.control.setPrice({ region: REGION, instanceType: 'm5.large', price: null });
    const [active] = await request({ LaunchSpecification: { ImageId: AMI, InstanceType: 'm5.large', KeyName: key } });
    await h.advance(12);
    const activeNow = await describeRequest(active.SpotInstanceRequestId!);
    const res = await ec2.send(
      new CancelSpotInstanceRequestsCommand({
        SpotInstanceRequestIds: [open.SpotInstanceRequestId!, active.SpotInstanceRequestId!],
      }),
    );
    expect(res.CancelledSpotInstanceRequests).toEqual([
      { SpotInstanceRequestId: open.SpotInstanceRequestId, State: 'cancelled' },
      { SpotInstanceRequestId: active.SpotInstanceRequestId, State: 'cancelled' },
    ]);
    expect((await describeRequest(open.SpotInstanceRequestId!)).Status!.Code).toBe('canceled-before-fulfillment');
    expect((await describeRequest(active.SpotInstanceRequestId!)).Status!.Code).toBe(
      'request-canceled-and-instance-running',
    );
    expect((await instanceState(activeNow.InstanceId!)).State!.Name).toBe('running');
  });

  it('should close a one-time request when its instance is terminated', async () => {
    const [created] = await request();
    await h.advance(2);
    const { InstanceId } = await describeRequest(created.SpotInstanceRequestId!);
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [InstanceId!] }));
    expect(await describeRequest(created.SpotInstanceRequestId!)).toMatchObject({
      State: 'closed',
      Status: { Code: 'instance-terminated-by-user' },
    });
  });

  it('should launch spot instances through RunInstances with InstanceMarketOptions', async () => {
    const res = await ec2.send(
      new RunInstancesCommand({
        ImageId: AMI,
        InstanceType: 'c5.large',
        KeyName: key,
        MinCount: 2,
        MaxCount: 2,
        InstanceMarketOptions: { MarketType: 'spot', SpotOptions: { MaxPrice: '0.5' } },
        TagSpecifications: [{ ResourceType: 'spot-instances-request', Tags: [{ Key: 'Owner', Value: 'mgr' }] }],
      }),
    );
    expect(res.Instances!.map((i) => i.InstanceLifecycle)).toEqual(['spot', 'spot']);
    const requests = (await ec2.send(new DescribeSpotInstanceRequestsCommand({}))).SpotInstanceRequests!;
    expect(requests.map((r) => [r.State, r.Status!.Code, r.Tags]).sort()).toEqual([
      ['active', 'fulfilled', [{ Key: 'Owner', Value: 'mgr' }]],
      ['active', 'fulfilled', [{ Key: 'Owner', Value: 'mgr' }]],
    ]);
    expect(requests.map((r) => r.InstanceId).sort()).toEqual(res.Instances!.map((i) => i.InstanceId).sort());

    h.sandbox.control.setPrice({ region: REGION, instanceType: 'c5.large', price: 1 });
    const low = await failure(
      ec2.send(
        new RunInstancesCommand({
          ImageId: AMI,
          InstanceType: 'c5.large',
          MinCount: 1,
          MaxCount: 1,
          InstanceMarketOptions: { MarketType: 'spot', SpotOptions: { MaxPrice: '0.5' } },
        }),
      ),
    );
    expect(low).toMatchObject({ name: 'SpotMaxPriceTooLow', status: 400 });
    h.sandbox.control.setPrice({ region: REGION, instanceType: 'c5.large', price: 0.01 });
    h.sandbox.control.setCapacity({ region: REGION, instanceType: 'c5.large', capacity: 0 });
    const full = await failure(
      ec2.send(
        new RunInstancesCommand({
          ImageId: AMI,
          InstanceType: 'c5.large',
          MinCount: 1,
          MaxCount: 1,
          InstanceMarketOptions: { MarketType: 'spot' },
        }),
      ),
    );
    expect(full).toMatchObject({ name: 'InsufficientInstanceCapacity', status: 500 });
  });

  it('should filter and page DescribeSpotInstanceRequests', async () => {
    h.sandbox.control.seedSpotRequests({
      region: REGION,
      count: 6,
      keyName: key,
      state: 'open',
      statusCode: 'price-too-low',
    });
    h.sandbox.control.seedSpotRequests({ region: REGION, count: 3, keyName: 'other:x:1234567', state: 'active' });
    h.sandbox.control.seedSpotRequests({
      region: REGION,
      count: 2,
      keyName: key,
      state: 'cancelled',
      tags: { Owner: 'mgr' },
    });
    const count = async (name: string, values: string[]) =>
      (await ec2.send(new DescribeSpotInstanceRequestsCommand({ Filters: [{ Name: name, Values: values }] })))
        .SpotInstanceRequests!.length;
    expect(await count('state', ['open'])).toBe(6);
    expect(await count('state', ['open', 'active'])).toBe(9);
    expect(await count('status-code', ['price-too-low'])).toBe(6);
    expect(await count('status-code', ['fulfilled'])).toBe(3);
    expect(await count('launch.key-name', ['mgr:*'])).toBe(8);
    expect(await count('launch.instance-type', ['m1.small'])).toBe(11);
    expect(await count('product-description', ['Linux/UNIX'])).toBe(11);
    expect(await count('tag:Owner', ['mgr'])).toBe(2);
    expect(await count('type', ['one-time'])).toBe(11);

    const page1 = await ec2.send(new DescribeSpotInstanceRequestsCommand({ MaxResults: 5 }));
    const page2 = await ec2.send(
      new DescribeSpotInstanceRequestsCommand({ MaxResults: 5, NextToken: page1.NextToken }),
    );
    const page3 = await ec2.send(
      new DescribeSpotInstanceRequestsCommand({ MaxResults: 5, NextToken: page2.NextToken }),
    );
    expect([page1, page2, page3].map((p) => p.SpotInstanceRequests!.length)).toEqual([5, 5, 1]);
    expect(page3.NextToken).toBeUndefined();
  });

  it('should honour ClientToken and DryRun on RequestSpotInstances', async () => {
    const first = await request({ ClientToken: 'spot-token' });
    const second = await request({ ClientToken: 'spot-token' });
    expect(second.map((r) => r.SpotInstanceRequestId)).toEqual(first.map((r) => r.SpotInstanceRequestId));
    expect(await failure(request({ ClientToken: 'spot-token', SpotPrice: '0.6' }))).toMatchObject({
      name: 'IdempotentParameterMismatch',
    });
    expect(await failure(request({ DryRun: true }))).toMatchObject({ name: 'DryRunOperation', status: 412 });
    expect(
      await failure(
        ec2.send(
          new CancelSpotInstanceRequestsCommand({
            SpotInstanceRequestIds: [first[0].SpotInstanceRequestId!],
            DryRun: true,
          }),
        ),
      ),
    ).toMatchObject({ name: 'DryRunOperation' });
    expect((await ec2.send(new DescribeSpotInstanceRequestsCommand({}))).SpotInstanceRequests).toHaveLength(1);
  });

  it('should answer spot request errors with EC2 codes', async () => {
    expect(await failure(describeRequest('sir-abcd1234'))).toMatchObject({
      name: 'InvalidSpotInstanceRequestID.NotFound',
      status: 400,
    });
    expect(
      await failure(ec2.send(new CancelSpotInstanceRequestsCommand({ SpotInstanceRequestIds: ['sir-zzzz9999'] }))),
    ).toMatchObject({ name: 'InvalidSpotInstanceRequestID.NotFound' });
    expect(await failure(describeRequest('sir-1'))).toMatchObject({ name: 'InvalidSpotInstanceRequestID.Malformed' });
    expect(await failure(request({ LaunchSpecification: { ImageId: AMI, KeyName: 'missing' } }))).toMatchObject({
      name: 'InvalidKeyPair.NotFound',
    });
    expect(await failure(request({ LaunchSpecification: { ImageId: 'ami-0000000000000000f' } }))).toMatchObject({
      name: 'InvalidAMIID.NotFound',
    });
    expect(await failure(request({ LaunchSpecification: { KeyName: key } }))).toMatchObject({
      name: 'MissingParameter',
    });
    expect(await failure(request({ SpotPrice: 'cheap' }))).toMatchObject({ name: 'InvalidParameterValue' });
    expect(await failure(request({ InstanceInterruptionBehavior: 'stop' }))).toMatchObject({
      name: 'InvalidParameterCombination',
    });
  });

  it('should reopen a persistent request when its instance ends', async () => {
    const [created] = await request({ Type: 'persistent' });
    await h.advance(2);
    const first = (await describeRequest(created.SpotInstanceRequestId!)).InstanceId!;
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [first] }));
    expect(await describeRequest(created.SpotInstanceRequestId!)).toMatchObject({
      State: 'open',
      Status: { Code: 'pending-evaluation' },
    });
    await h.advance(2);
    const again = await describeRequest(created.SpotInstanceRequestId!);
    expect(again.State).toBe('active');
    expect(again.InstanceId).not.toBe(first);
  });
});
