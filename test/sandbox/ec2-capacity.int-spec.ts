import {
  DescribeSpotInstanceRequestsCommand,
  EC2Client,
  RequestSpotInstancesCommand,
  RunInstancesCommand,
  RunInstancesCommandInput,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { AMI, callControl, failure, Harness, REGION, startHarness } from './support';

describe('sandbox EC2: pool capacity and quotas for RunInstances and RequestSpotInstances', () => {
  let h: Harness;
  let ec2: EC2Client;
  const run = (input: Partial<RunInstancesCommandInput> = {}) =>
    ec2.send(new RunInstancesCommand({ ImageId: AMI, InstanceType: 'm5.large', MinCount: 1, MaxCount: 1, ...input }));
  const spot: Partial<RunInstancesCommandInput> = { InstanceMarketOptions: { MarketType: 'spot' } };

  beforeAll(async () => {
    h = await startHarness();
    ec2 = h.ec2();
  });
  afterAll(() => h.stop());
  beforeEach(() => h.sandbox.control.reset());

  it('should honour on-demand pool capacity: fewer than MaxCount, another zone, or EC2’s capacity error', async () => {
    h.sandbox.control.setCapacity({
      region: REGION,
      zone: 'us-east-1a',
      instanceType: 'm5.large',
      capacity: 2,
      lifecycle: 'on-demand',
    });
    const some = await run({ MinCount: 1, MaxCount: 5, Placement: { AvailabilityZone: 'us-east-1a' } });
    expect(some.Instances).toHaveLength(2);
    const none = await failure(run({ Placement: { AvailabilityZone: 'us-east-1a' } }));
    expect(none).toMatchObject({ name: 'InsufficientInstanceCapacity', status: 500 });
    expect(none.message).toBe(
      'We currently do not have sufficient m5.large capacity in the Availability Zone you requested (us-east-1a). Our system will be working on provisioning additional capacity. You can currently get m5.large capacity by not specifying an Availability Zone in your request or choosing us-east-1b, us-east-1c.',
    );
    // Without a zone, EC2 goes where there is room.
    const zones = new Set<string>();
    for (let i = 0; i < 3; i++) zones.add((await run()).Instances![0].Placement!.AvailabilityZone!);
    expect(zones).toEqual(new Set(['us-east-1b', 'us-east-1c']));
    // Spot capacity is a separate pool.
    expect((await run({ ...spot, Placement: { AvailabilityZone: 'us-east-1a' } })).Instances).toHaveLength(1);
    h.sandbox.control.setCapacity({ region: REGION, instanceType: 'm5.large', capacity: 0, lifecycle: 'on-demand' });
    expect(await failure(run())).toMatchObject({ name: 'InsufficientInstanceCapacity' });
  });

  it('should answer vCPU and instance quotas in RunInstances, on-demand and spot', async () => {
    await callControl(h, 'POST', '/quotas', { region: REGION, lifecycle: 'on-demand', vcpus: 6 });
    expect((await run({ MaxCount: 10 })).Instances).toHaveLength(3);
    const over = await failure(run());
    expect(over).toMatchObject({ name: 'VcpuLimitExceeded', status: 400 });
    expect(over.message).toContain('current vCPU limit of 6');

    await callControl(h, 'POST', '/quotas', { region: REGION, lifecycle: 'spot', vcpus: 2 });
    const [spotInstance] = (await run({ ...spot, MaxCount: 4 })).Instances!;
    expect(spotInstance.InstanceLifecycle).toBe('spot');
    expect(await failure(run(spot))).toMatchObject({
      name: 'MaxSpotInstanceCountExceeded',
      message: 'Max spot instance count exceeded',
    });

    // Capacity comes back when instances end.
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [spotInstance.InstanceId!] }));
    expect((await run(spot)).Instances).toHaveLength(1);

    await callControl(h, 'POST', '/quotas', { region: REGION, lifecycle: 'on-demand', vcpus: null, instances: 4 });
    expect((await run({ InstanceType: 'c5.large', MaxCount: 5 })).Instances).toHaveLength(1);
    expect(await failure(run())).toMatchObject({ name: 'InstanceLimitExceeded' });
    const state = await callControl(h, 'GET', '/quotas');
    expect(state.body[REGION]['on-demand']).toEqual({ instances: 4, used: { vcpus: 8, instances: 4 } });
  });

  it('should count open spot requests against the spot quota, and honour spot pool capacity', async () => {
    await callControl(h, 'POST', '/quotas', { region: REGION, lifecycle: 'spot', vcpus: 6 });
    h.sandbox.control.setCapacity({ region: REGION, instanceType: 'm5.large', capacity: 0 });
    const request = (count: number) =>
      ec2.send(
        new RequestSpotInstancesCommand({
          InstanceCount: count,
          LaunchSpecification: { ImageId: AMI, InstanceType: 'm5.large' },
        }),
      );
    const open = await request(2);
    expect(await failure(request(2))).toMatchObject({ name: 'MaxSpotInstanceCountExceeded' });
    await h.advance(2);
    const described = await ec2.send(
      new DescribeSpotInstanceRequestsCommand({
        SpotInstanceRequestIds: open.SpotInstanceRequests!.map((r) => r.SpotInstanceRequestId!),
      }),
    );
    expect(described.SpotInstanceRequests!.map((r) => [r.State, r.Status!.Code])).toEqual([
      ['open', 'capacity-not-available'],
      ['open', 'capacity-not-available'],
    ]);
    expect((await callControl(h, 'GET', `/quotas?region=${REGION}`)).body[REGION].spot.used).toEqual({
      vcpus: 4,
      instances: 2,
    });
    // Capacity back: the open requests are fulfilled and still count, as running instances now.
    h.sandbox.control.setCapacity({ region: REGION, instanceType: 'm5.large', capacity: null });
    expect((await callControl(h, 'GET', `/quotas?region=${REGION}`)).body[REGION].spot.used).toEqual({
      vcpus: 4,
      instances: 2,
    });
    expect((await request(1)).SpotInstanceRequests).toHaveLength(1);
    expect(await failure(request(1))).toMatchObject({ name: 'MaxSpotInstanceCountExceeded' });
  });

  it('should refuse bad capacity and quota settings with 400', async () => {
    expect(
      (
        await callControl(h, 'POST', '/capacity', {
          region: REGION,
          instanceType: 'm5.large',
          capacity: 1,
          lifecycle: 'reserved',
        })
      ).status,
    ).toBe(400);
    expect((await callControl(h, 'POST', '/quotas', { region: REGION, lifecycle: 'spot', vcpus: -1 })).status).toBe(
      400,
    );
    expect((await callControl(h, 'POST', '/quotas', { region: REGION, lifecycle: 'spot', vcpus: 1.5 })).status).toBe(
      400,
    );
    expect((await callControl(h, 'POST', '/quotas', { region: 'mars-1', fleets: 1 })).status).toBe(404);
  });
});
