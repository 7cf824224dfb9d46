import {
  CreateFleetCommand,
  CreateFleetCommandInput,
  CreateFleetCommandOutput,
  CreateLaunchTemplateCommand,
  DescribeInstancesCommand,
  DescribeSpotInstanceRequestsCommand,
  DescribeVolumesCommand,
  EC2Client,
  FleetLaunchTemplateOverridesRequest,
} from '@aws-sdk/client-ec2';
import { AMI, callControl, drain, failure, Harness, importKey, queueWithRule, REGION, startHarness } from './support';

describe('sandbox EC2: CreateFleet (instant)', () => {
  let h: Harness;
  let ec2: EC2Client;
  let queue: string;
  const key = 'mgr:web:abc1234';
  const TEMPLATE = 'mgr/web/abc1234';
  const TYPES = ['m5.large', 'c5.large', 'm6i.large'] as const;

  const fleet = (
    target: Partial<CreateFleetCommandInput['TargetCapacitySpecification']> & { TotalTargetCapacity: number },
    overrides: FleetLaunchTemplateOverridesRequest[] = TYPES.map((InstanceType) => ({ InstanceType })),
    input: Partial<CreateFleetCommandInput> = {},
  ) =>
    ec2.send(
      new CreateFleetCommand({
        Type: 'instant',
        LaunchTemplateConfigs: [
          { LaunchTemplateSpecification: { LaunchTemplateName: TEMPLATE, Version: '$Latest' }, Overrides: overrides },
        ],
        TargetCapacitySpecification: { DefaultTargetCapacityType: 'spot', ...target },
        ...input,
      }),
    );
  const launched = (res: CreateFleetCommandOutput) =>
    res.Instances!.flatMap((i) =>
      i.InstanceIds!.map(() => [
        i.Lifecycle,
        i.InstanceType,
        i.LaunchTemplateAndOverrides!.Overrides!.AvailabilityZone,
      ]),
    );
  const count = (res: CreateFleetCommandOutput) => res.Instances!.reduce((n, i) => n + i.InstanceIds!.length, 0);
  const errors = (res: CreateFleetCommandOutput) =>
    res.Errors!.map((e) => [
      e.Lifecycle,
      e.ErrorCode,
      e.LaunchTemplateAndOverrides!.Overrides!.InstanceType,
      e.LaunchTemplateAndOverrides!.Overrides!.AvailabilityZone,
    ]);
  /** Every pool of the three types × three zones at a known spot price: m5 < c5 < m6i, zone a < b < c. */
  const pinPrices = () => {
    TYPES.forEach((instanceType, t) =>
      ['a', 'b', 'c'].forEach((z, i) =>
        h.sandbox.control.setPrice({
          region: REGION,
          zone: `${REGION}${z}`,
          instanceType,
          price: 0.02 + t * 0.01 + i * 0.001,
        }),
      ),
    );
  };

  beforeAll(async () => {
    h = await startHarness({ startTime: Date.UTC(2025, 5, 1, 12) });
    ec2 = h.ec2();
    queue = await queueWithRule(h, REGION, 'fleet-events');
  });
  afterAll(() => h.stop());
  beforeEach(async () => {
    await h.sandbox.control.reset({ purgeQueues: true });
    await importKey(ec2, key);
    await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: TEMPLATE,
        LaunchTemplateData: {
          ImageId: AMI,
          KeyName: key,
          MetadataOptions: { HttpTokens: 'required' },
          InstanceInitiatedShutdownBehavior: 'terminate',
          TagSpecifications: [
            { ResourceType: 'instance', Tags: [{ Key: 'WorkerType', Value: 'mgr/web' }] },
            { ResourceType: 'volume', Tags: [{ Key: 'WorkerType', Value: 'mgr/web' }] },
          ],
        },
      }),
    );
    pinPrices();
  });

  it('should launch a spot fleet over three types: spot instances with requests, tags and events like any other', async () => {
    const res = await fleet({ TotalTargetCapacity: 20 }, undefined, {
      SpotOptions: { AllocationStrategy: 'price-capacity-optimized' },
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Owner', Value: 'mgr' }] }],
    });
    expect(res.FleetId).toMatch(/^fleet-[0-9a-f-]{36}$/);
    expect(res.Errors).toEqual([]);
    expect(count(res)).toBe(20);
    // Unlimited capacity everywhere: the cheapest pool (m5.large in zone a) takes it all.
    expect(launched(res)).toEqual(Array(20).fill(['spot', 'm5.large', 'us-east-1a']));

    const ids = res.Instances!.flatMap((i) => i.InstanceIds!);
    const described = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }))).Reservations!.flatMap(
      (r) => r.Instances!,
    );
    expect(described).toHaveLength(20);
    for (const i of described) {
      expect(i).toMatchObject({ InstanceLifecycle: 'spot', KeyName: key, MetadataOptions: { HttpTokens: 'required' } });
      expect(Object.fromEntries(i.Tags!.map((t) => [t.Key, t.Value]))).toMatchObject({
        WorkerType: 'mgr/web',
        Owner: 'mgr',
        'aws:ec2:fleet-id': res.FleetId,
      });
    }
    const requests = await ec2.send(
      new DescribeSpotInstanceRequestsCommand({ Filters: [{ Name: 'instance-id', Values: ids }] }),
    );
    expect(requests.SpotInstanceRequests!.map((r) => [r.State, r.Type, r.Status!.Code])).toEqual(
      Array(20).fill(['active', 'one-time', 'fulfilled']),
    );
    const volumes = await ec2.send(
      new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [ids[0]] }] }),
    );
    expect(volumes.Volumes![0].Tags).toEqual([{ Key: 'WorkerType', Value: 'mgr/web' }]);
    const events = await drain(h, REGION, queue);
    expect(
      events
        .filter((e) => e.detail.state === 'pending')
        .map((e) => e.detail['instance-id'])
        .sort(),
    ).toEqual([...ids].sort());
  });

  it('should fill the cheapest pools first (lowest-price) and report the empty ones it tried', async () => {
    h.sandbox.control.setCapacity({ region: REGION, zone: `${REGION}a`, instanceType: 'm5.large', capacity: 0 });
    h.sandbox.control.setCapacity({ region: REGION, zone: `${REGION}b`, instanceType: 'm5.large', capacity: 3 });
    const res = await fleet({ TotalTargetCapacity: 5 }, undefined, {
      SpotOptions: { AllocationStrategy: 'lowest-price' },
    });
    expect(launched(res)).toEqual([
      ...Array(3).fill(['spot', 'm5.large', 'us-east-1b']),
      ...Array(2).fill(['spot', 'm5.large', 'us-east-1c']),
    ]);
    expect(errors(res)).toEqual([
      ['spot', 'InsufficientInstanceCapacity', 'm5.large', 'us-east-1a'],
      ['spot', 'InsufficientInstanceCapacity', 'm5.large', 'us-east-1b'],
    ]);
    expect(res.Errors![0].ErrorMessage).toBe('There is no Spot capacity available that matches your request.');
  });

  it('should fulfil part of a fleet when capacity runs out, naming every failed pool', async () => {
    for (const instanceType of TYPES) h.sandbox.control.setCapacity({ region: REGION, instanceType, capacity: 1 });
    const res = await fleet({ TotalTargetCapacity: 12 });
    expect(count(res)).toBe(9);
    expect(res.Errors).toHaveLength(9);
    expect(new Set(res.Errors!.map((e) => e.ErrorCode))).toEqual(new Set(['InsufficientInstanceCapacity']));
    const empty = await fleet({ TotalTargetCapacity: 2 });
    expect(count(empty)).toBe(0);
    expect(empty.Instances).toEqual([]);
    expect(errors(empty)).toHaveLength(9);
  });

  it('should follow capacity-optimized, price-capacity-optimized and diversified', async () => {
    const pools: FleetLaunchTemplateOverridesRequest[] = [
      { InstanceType: 'm5.large', AvailabilityZone: `${REGION}a` }, // cheapest, little room
      { InstanceType: 'c5.large', AvailabilityZone: `${REGION}a` }, // middle, most room
      { InstanceType: 'm6i.large', AvailabilityZone: `${REGION}a` }, // dearest, more room
    ];
    const cap = (instanceType: string, capacity: number | null) =>
      h.sandbox.control.setCapacity({ region: REGION, zone: `${REGION}a`, instanceType, capacity });
    cap('m5.large', 5);
    cap('c5.large', 50);
    cap('m6i.large', 20);
    const co = await fleet({ TotalTargetCapacity: 4 }, pools, {
      SpotOptions: { AllocationStrategy: 'capacity-optimized' },
    });
    expect(launched(co)).toEqual(Array(4).fill(['spot', 'c5.large', 'us-east-1a']));

    await h.sandbox.control.reset();
    await importKey(ec2, key);
    await ec2.send(
      new CreateLaunchTemplateCommand({ LaunchTemplateName: TEMPLATE, LaunchTemplateData: { ImageId: AMI } }),
    );
    pinPrices();
    cap('m5.large', 5);
    cap('c5.large', 50);
    cap('m6i.large', 200);
    // The cheaper half of three pools is m5 and c5; c5 has the most room among them, though m6i has more overall.
    const pco = await fleet({ TotalTargetCapacity: 4 }, pools, {
      SpotOptions: { AllocationStrategy: 'price-capacity-optimized' },
    });
    expect(launched(pco)).toEqual(Array(4).fill(['spot', 'c5.large', 'us-east-1a']));

    const diversified = await fleet({ TotalTargetCapacity: 7 }, pools, {
      SpotOptions: { AllocationStrategy: 'diversified' },
    });
    const perType = new Map<string, number>();
    for (const [, type] of launched(diversified)) perType.set(type!, (perType.get(type!) ?? 0) + 1);
    expect(Object.fromEntries(perType)).toEqual({ 'm5.large': 3, 'c5.large': 2, 'm6i.large': 2 });
  });

  it('should launch on-demand by lowest price or by priority, against on-demand capacity', async () => {
    const pools: FleetLaunchTemplateOverridesRequest[] = [
      { InstanceType: 'm6i.large', AvailabilityZone: `${REGION}a`, Priority: 1 },
      { InstanceType: 'c5.large', AvailabilityZone: `${REGION}a`, Priority: 2 },
    ];
    const cheapest = await fleet({ TotalTargetCapacity: 2, DefaultTargetCapacityType: 'on-demand' }, pools);
    expect(launched(cheapest)).toEqual(Array(2).fill(['on-demand', 'c5.large', 'us-east-1a']));
    const prioritized = await fleet({ TotalTargetCapacity: 2, DefaultTargetCapacityType: 'on-demand' }, pools, {
      OnDemandOptions: { AllocationStrategy: 'prioritized' },
    });
    expect(launched(prioritized)).toEqual(Array(2).fill(['on-demand', 'm6i.large', 'us-east-1a']));
    const described = await ec2.send(
      new DescribeInstancesCommand({ InstanceIds: prioritized.Instances![0].InstanceIds }),
    );
    expect(described.Reservations![0].Instances![0].InstanceLifecycle).toBeUndefined();

    expect(
      (
        await callControl(h, 'POST', '/capacity', {
          region: REGION,
          instanceType: 'm6i.large',
          capacity: 1,
          lifecycle: 'on-demand',
        })
      ).status,
    ).toBe(200);
    const capped = await fleet({ TotalTargetCapacity: 2, DefaultTargetCapacityType: 'on-demand' }, pools.slice(0, 1));
    expect(count(capped)).toBe(0);
    expect(errors(capped)).toEqual([['on-demand', 'InsufficientInstanceCapacity', 'm6i.large', 'us-east-1a']]);
    expect(capped.Errors![0].ErrorMessage).toContain('We currently do not have sufficient m6i.large capacity');
  });

  it('should split spot and on-demand targets and stop at MaxTotalPrice', async () => {
    const mixed = await fleet({ TotalTargetCapacity: 5, OnDemandTargetCapacity: 2 }, [{ InstanceType: 'm5.large' }]);
    expect(
      launched(mixed)
        .map(([lifecycle]) => lifecycle)
        .sort(),
    ).toEqual(['on-demand', 'on-demand', 'spot', 'spot', 'spot']);
    // m5.large in zone a is pinned at 0.02: a ceiling of 0.05 buys two.
    const capped = await fleet(
      { TotalTargetCapacity: 5 },
      [{ InstanceType: 'm5.large', AvailabilityZone: `${REGION}a` }],
      {
        SpotOptions: { MaxTotalPrice: '0.05' },
      },
    );
    expect(count(capped)).toBe(2);
    expect(capped.Errors).toEqual([]);
    const tooLow = await fleet({ TotalTargetCapacity: 1 }, [
      { InstanceType: 'm5.large', AvailabilityZone: `${REGION}a`, MaxPrice: '0.01' },
    ]);
    expect(errors(tooLow)).toEqual([['spot', 'SpotMaxPriceTooLow', 'm5.large', 'us-east-1a']]);
  });

  it('should answer quotas as EC2 does, per pool', async () => {
    expect((await callControl(h, 'POST', '/quotas', { region: REGION, lifecycle: 'spot', vcpus: 8 })).status).toBe(200);
    const spot = await fleet({ TotalTargetCapacity: 10 }, [{ InstanceType: 'm5.large' }]);
    expect(count(spot)).toBe(4);
    expect(new Set(spot.Errors!.map((e) => [e.Lifecycle, e.ErrorCode].join(' ')))).toEqual(
      new Set(['spot MaxSpotInstanceCountExceeded']),
    );
    const quotas = await callControl(h, 'GET', `/quotas?region=${REGION}`);
    expect(quotas.body[REGION].spot).toEqual({ vcpus: 8, used: { vcpus: 8, instances: 4 } });

    await callControl(h, 'POST', '/quotas', { region: REGION, lifecycle: 'on-demand', vcpus: 4 });
    const od = await fleet({ TotalTargetCapacity: 3, DefaultTargetCapacityType: 'on-demand' }, [
      { InstanceType: 'm5.large', AvailabilityZone: `${REGION}a` },
    ]);
    expect(count(od)).toBe(2);
    expect(errors(od)).toEqual([['on-demand', 'VcpuLimitExceeded', 'm5.large', 'us-east-1a']]);
    expect(od.Errors![0].ErrorMessage).toContain('current vCPU limit of 4');

    await callControl(h, 'POST', '/quotas', { region: REGION, lifecycle: 'on-demand', vcpus: null, instances: 3 });
    const byCount = await fleet({ TotalTargetCapacity: 3, DefaultTargetCapacityType: 'on-demand' }, [
      { InstanceType: 'c5.large', AvailabilityZone: `${REGION}b` },
    ]);
    expect(count(byCount)).toBe(1);
    expect(byCount.Errors![0].ErrorCode).toBe('InstanceLimitExceeded');

    await callControl(h, 'POST', '/quotas', { region: REGION, fleets: 0 });
    expect(await failure(fleet({ TotalTargetCapacity: 1 }))).toMatchObject({ name: 'MaxFleetCountExceeded' });
    await callControl(h, 'POST', '/quotas', { region: REGION, fleets: null });
    expect((await callControl(h, 'POST', '/quotas', { region: REGION, vcpus: 4 })).status).toBe(400);
  });

  it('should answer the same ClientToken with the same answer and launch nothing new', async () => {
    const first = await fleet({ TotalTargetCapacity: 3 }, undefined, { ClientToken: 'build-4711' });
    const again = await fleet({ TotalTargetCapacity: 3 }, undefined, { ClientToken: 'build-4711' });
    expect(again.FleetId).toBe(first.FleetId);
    expect(again.Instances).toEqual(first.Instances);
    const all = await ec2.send(new DescribeInstancesCommand({}));
    expect(all.Reservations!.flatMap((r) => r.Instances!)).toHaveLength(3);
    expect(await failure(fleet({ TotalTargetCapacity: 4 }, undefined, { ClientToken: 'build-4711' }))).toMatchObject({
      name: 'IdempotentParameterMismatch',
    });
  });

  it('should honour DryRun and report a broken template per pool', async () => {
    expect(await failure(fleet({ TotalTargetCapacity: 3 }, undefined, { DryRun: true }))).toMatchObject({
      name: 'DryRunOperation',
      status: 412,
    });
    expect((await ec2.send(new DescribeInstancesCommand({}))).Reservations).toEqual([]);
    const missing = await ec2.send(
      new CreateFleetCommand({
        Type: 'instant',
        LaunchTemplateConfigs: [
          {
            LaunchTemplateSpecification: { LaunchTemplateName: 'gone/away', Version: '1' },
            Overrides: [{ InstanceType: 'm5.large' }],
          },
          {
            LaunchTemplateSpecification: { LaunchTemplateName: TEMPLATE, Version: '1' },
            Overrides: [{ InstanceType: 'c5.large' }],
          },
        ],
        TargetCapacitySpecification: { TotalTargetCapacity: 1, DefaultTargetCapacityType: 'spot' },
      }),
    );
    expect(count(missing)).toBe(1);
    expect(
      missing.Errors!.map((e) => [
        e.ErrorCode,
        e.LaunchTemplateAndOverrides!.LaunchTemplateSpecification!.LaunchTemplateName,
      ]),
    ).toEqual([['InvalidLaunchTemplateName.NotFoundException', 'gone/away']]);
    expect(
      await failure(
        ec2.send(
          new CreateFleetCommand({
            Type: 'instant',
            DryRun: true,
            LaunchTemplateConfigs: [{ LaunchTemplateSpecification: { LaunchTemplateName: 'gone/away', Version: '1' } }],
            TargetCapacitySpecification: { TotalTargetCapacity: 1, DefaultTargetCapacityType: 'spot' },
          }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidLaunchTemplateName.NotFoundException' });
  });

  it('should refuse what EC2 refuses for instant fleets', async () => {
    expect(await failure(fleet({ TotalTargetCapacity: 1 }, undefined, { Type: 'maintain' }))).toMatchObject({
      name: 'InvalidParameterValue',
    });
    expect(
      await failure(
        fleet({ TotalTargetCapacity: 1 }, undefined, {
          TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'a', Value: 'b' }] }],
        }),
      ),
    ).toMatchObject({ name: 'InvalidParameterValue' });
    expect(
      await failure(
        ec2.send(
          new CreateFleetCommand({
            Type: 'instant',
            LaunchTemplateConfigs: [{ LaunchTemplateSpecification: { LaunchTemplateName: TEMPLATE } }],
            TargetCapacitySpecification: { TotalTargetCapacity: 1 },
          }),
        ),
      ),
    ).toMatchObject({ name: 'MissingParameter' });
    expect(
      await failure(fleet({ TotalTargetCapacity: 2, SpotTargetCapacity: 2, OnDemandTargetCapacity: 1 })),
    ).toMatchObject({
      name: 'InvalidParameterCombination',
    });
    expect(await failure(fleet({ TotalTargetCapacity: 1 }, [{ InstanceType: 'x9.huge' as never }]))).toMatchObject({
      name: 'InvalidParameterValue',
    });
    expect((await ec2.send(new DescribeInstancesCommand({}))).Reservations).toEqual([]);
  });
});
