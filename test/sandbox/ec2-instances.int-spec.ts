import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  DescribeVolumesCommand,
  EC2Client,
  paginateDescribeInstances,
  RunInstancesCommand,
  RunInstancesCommandInput,
  TerminateInstancesCommand,
  _InstanceType,
} from '@aws-sdk/client-ec2';
import { AMI, failure, Harness, importKey, REGION, startHarness } from './support';

describe('sandbox EC2: instances', () => {
  let h: Harness;
  let ec2: EC2Client;
  const key = 'mgr:web:abc1234';
  const run = (input: Partial<RunInstancesCommandInput> = {}) =>
    ec2.send(
      new RunInstancesCommand({
        ImageId: AMI,
        MinCount: 1,
        MaxCount: 1,
        KeyName: key,
        InstanceType: 'm5.large',
        ...input,
      }),
    );
  const describe1 = async (id: string) =>
    (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0].Instances![0];

  beforeAll(async () => {
    h = await startHarness({ pendingToRunningSeconds: 10, shuttingDownSeconds: 20, terminatedRetentionSeconds: 3600 });
    ec2 = h.ec2();
  });
  afterAll(() => h.stop());
  beforeEach(async () => {
    await h.sandbox.control.reset();
    await importKey(ec2, key);
  });

  it('should launch instances with tags, placement and one volume per block device mapping', async () => {
    const res = await run({
      MinCount: 2,
      MaxCount: 2,
      Placement: { AvailabilityZone: 'us-east-1b' },
      BlockDeviceMappings: [
        { DeviceName: '/dev/sdf', Ebs: { VolumeSize: 100, VolumeType: 'gp3', DeleteOnTermination: false } },
      ],
      TagSpecifications: [
        { ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'web' }] },
        { ResourceType: 'volume', Tags: [{ Key: 'Owner', Value: 'mgr' }] },
      ],
    });
    expect(res.ReservationId).toMatch(/^r-[0-9a-f]{17}$/);
    expect(res.OwnerId).toBe('000000000000');
    expect(res.Instances).toHaveLength(2);
    const [first] = res.Instances!;
    expect(first).toMatchObject({
      ImageId: AMI,
      InstanceType: 'm5.large',
      KeyName: key,
      State: { Code: 0, Name: 'pending' },
      Placement: { AvailabilityZone: 'us-east-1b' },
      Tags: [{ Key: 'Name', Value: 'web' }],
    });
    expect(first.InstanceId).toMatch(/^i-[0-9a-f]{17}$/);
    expect(first.BlockDeviceMappings!.map((m) => m.DeviceName)).toEqual(['/dev/xvda', '/dev/sdf']);

    const { Volumes } = await ec2.send(
      new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [first.InstanceId!] }] }),
    );
    expect(Volumes!.map((v) => [v.Attachments![0].Device, v.Size, v.State]).sort()).toEqual([
      ['/dev/sdf', 100, 'in-use'],
      ['/dev/xvda', 8, 'in-use'],
    ]);
    expect(Volumes![0].Tags).toEqual([{ Key: 'Owner', Value: 'mgr' }]);
  });

  it('should move an instance pending → running → shutting-down → terminated and then forget it', async () => {
    const id = (await run()).Instances![0].InstanceId!;
    await h.advance(9);
    expect((await describe1(id)).State).toEqual({ Code: 0, Name: 'pending' });
    await h.advance(1);
    expect((await describe1(id)).State).toEqual({ Code: 16, Name: 'running' });

    const term = await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    expect(term.TerminatingInstances).toEqual([
      {
        InstanceId: id,
        CurrentState: { Code: 32, Name: 'shutting-down' },
        PreviousState: { Code: 16, Name: 'running' },
      },
    ]);
    await h.advance(20);
    const terminated = await describe1(id);
    expect(terminated.State).toEqual({ Code: 48, Name: 'terminated' });
    expect(terminated.StateReason?.Code).toBe('Client.UserInitiatedShutdown');
    expect(terminated.BlockDeviceMappings ?? []).toEqual([]);

    const again = await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    expect(again.TerminatingInstances![0].PreviousState!.Name).toBe('terminated');

    await h.advance(3600);
    expect(await failure(describe1(id))).toMatchObject({ name: 'InvalidInstanceID.NotFound', status: 400 });
  });

  it('should delete volumes marked delete-on-termination and keep the others available', async () => {
    const id = (
      await run({
        BlockDeviceMappings: [{ DeviceName: '/dev/sdf', Ebs: { VolumeSize: 20, DeleteOnTermination: false } }],
      })
    ).Instances![0].InstanceId!;
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    const during = await ec2.send(
      new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.status', Values: ['detaching'] }] }),
    );
    expect(during.Volumes).toHaveLength(2);
    await h.advance(30);
    const { Volumes } = await ec2.send(new DescribeVolumesCommand({}));
    expect(Volumes!.map((v) => [v.Size, v.State, v.Attachments])).toEqual([[20, 'available', []]]);
  });

  it('should answer each DescribeInstances filter', async () => {
    const reservationA = await run({
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'WorkerType', Value: 'mgr/web' }] }],
    });
    const a = reservationA.Instances![0];
    await importKey(ec2, 'other:db:0000000');
    const b = (
      await run({
        KeyName: 'other:db:0000000',
        InstanceType: 't3.micro',
        Placement: { AvailabilityZone: 'us-east-1c' },
      })
    ).Instances![0];
    await h.advance(10);
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [b.InstanceId!] }));

    const ids = async (name: string, values: string[]) => {
      const res = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: name, Values: values }] }));
      return res.Reservations!.flatMap((r) => r.Instances!.map((i) => i.InstanceId)).sort();
    };
    const both = [a.InstanceId, b.InstanceId].sort();
    expect(await ids('key-name', ['mgr:*'])).toEqual([a.InstanceId]);
    expect(await ids('key-name', ['*:*:*'])).toEqual(both);
    expect(await ids('key-name', ['other:db:0000000'])).toEqual([b.InstanceId]);
    expect(await ids('key-name', ['mgr:web:abc123?'])).toEqual([a.InstanceId]);
    expect(await ids('instance-state-name', ['running'])).toEqual([a.InstanceId]);
    expect(await ids('instance-state-name', ['pending', 'shutting-down'])).toEqual([b.InstanceId]);
    expect(await ids('instance-state-code', ['32'])).toEqual([b.InstanceId]);
    expect(await ids('instance-id', [a.InstanceId!])).toEqual([a.InstanceId]);
    expect(await ids('instance-type', ['t3.*'])).toEqual([b.InstanceId]);
    expect(await ids('availability-zone', ['us-east-1c'])).toEqual([b.InstanceId]);
    expect(await ids('image-id', [AMI])).toEqual(both);
    expect(await ids('tag:WorkerType', ['mgr/*'])).toEqual([a.InstanceId]);
    expect(await ids('tag-key', ['WorkerType'])).toEqual([a.InstanceId]);
    expect(await ids('tag-value', ['mgr/web'])).toEqual([a.InstanceId]);
    expect(await ids('reservation-id', [reservationA.ReservationId!])).toEqual([a.InstanceId]);
    expect(await ids('launch-time', [a.LaunchTime!.toISOString().slice(0, 10) + '*'])).toEqual(both);
    expect(await ids('private-ip-address', [a.PrivateIpAddress!])).toEqual([a.InstanceId]);

    const combined = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: 'key-name', Values: ['*'] },
          { Name: 'instance-state-name', Values: ['running'] },
        ],
      }),
    );
    expect(combined.Reservations!.flatMap((r) => r.Instances!.map((i) => i.InstanceId))).toEqual([a.InstanceId]);
    expect(await failure(ids('no-such-filter', ['x']))).toMatchObject({ name: 'InvalidParameterValue' });
  });

  it('should page DescribeInstances by instance count with MaxResults/NextToken', async () => {
    h.sandbox.control.seedInstances({ region: REGION, count: 23, keyName: key });
    h.sandbox.control.seedInstances({ region: REGION, count: 7, keyName: 'someone:else:1234567' });
    const seen: string[] = [];
    let pages = 0;
    for await (const page of paginateDescribeInstances(
      { client: ec2, pageSize: 5 },
      { Filters: [{ Name: 'key-name', Values: ['mgr:*'] }] },
    )) {
      const ids = page.Reservations!.flatMap((r) => r.Instances!.map((i) => i.InstanceId!));
      expect(ids.length).toBeLessThanOrEqual(5);
      seen.push(...ids);
      pages++;
    }
    expect(pages).toBe(5);
    expect(seen).toHaveLength(23);
    expect(new Set(seen).size).toBe(23);

    const first = await ec2.send(new DescribeInstancesCommand({ MaxResults: 1000 }));
    expect(first.NextToken).toBeUndefined();
    expect(first.Reservations!.flatMap((r) => r.Instances)).toHaveLength(30);

    expect(await failure(ec2.send(new DescribeInstancesCommand({ MaxResults: 4 })))).toMatchObject({
      name: 'InvalidParameterValue',
    });
    expect(await failure(ec2.send(new DescribeInstancesCommand({ NextToken: 'garbage' })))).toMatchObject({
      name: 'InvalidParameterValue',
    });
    expect(
      await failure(ec2.send(new DescribeInstancesCommand({ MaxResults: 5, InstanceIds: [seen[0]] }))),
    ).toMatchObject({ name: 'InvalidParameterCombination', status: 400 });
  });

  it('should honour ClientToken: same token and parameters return the same reservation, launching nothing new', async () => {
    const first = await run({ ClientToken: 'token-1', MinCount: 2, MaxCount: 2 });
    const second = await run({ ClientToken: 'token-1', MinCount: 2, MaxCount: 2 });
    expect(second.ReservationId).toBe(first.ReservationId);
    expect(second.Instances!.map((i) => i.InstanceId)).toEqual(first.Instances!.map((i) => i.InstanceId));
    expect((await ec2.send(new DescribeInstancesCommand({}))).Reservations!.flatMap((r) => r.Instances)).toHaveLength(
      2,
    );
    expect(await failure(run({ ClientToken: 'token-1', MinCount: 1, MaxCount: 1 }))).toMatchObject({
      name: 'IdempotentParameterMismatch',
    });
  });

  it('should validate a DryRun request fully and then answer DryRunOperation (412) without launching', async () => {
    expect(await failure(run({ DryRun: true }))).toMatchObject({ name: 'DryRunOperation', status: 412 });
    expect(await failure(run({ DryRun: true, KeyName: 'missing' }))).toMatchObject({ name: 'InvalidKeyPair.NotFound' });
    expect((await ec2.send(new DescribeInstancesCommand({}))).Reservations).toEqual([]);
    const id = (await run()).Instances![0].InstanceId!;
    for (const call of [
      ec2.send(new TerminateInstancesCommand({ InstanceIds: [id], DryRun: true })),
      ec2.send(new DescribeInstancesCommand({ DryRun: true })),
      ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'a', Value: 'b' }], DryRun: true })),
    ]) {
      expect(await failure(call)).toMatchObject({ name: 'DryRunOperation', status: 412 });
    }
    expect((await describe1(id)).State!.Name).toBe('pending');
    expect((await describe1(id)).Tags).toBeUndefined();
  });

  it('should refuse bad launches with EC2 error codes', async () => {
    expect(await failure(run({ ImageId: 'ami-00000000000000000' }))).toMatchObject({
      name: 'InvalidAMIID.NotFound',
      status: 400,
    });
    expect(await failure(run({ ImageId: 'ami-xyz' }))).toMatchObject({ name: 'InvalidAMIID.Malformed' });
    expect(await failure(run({ KeyName: 'nope' }))).toMatchObject({ name: 'InvalidKeyPair.NotFound' });
    expect(await failure(run({ MinCount: 3, MaxCount: 2 }))).toMatchObject({ name: 'InvalidParameterValue' });
    expect(await failure(run({ InstanceType: 'x9.huge' as _InstanceType }))).toMatchObject({
      name: 'InvalidParameterValue',
    });
    expect(await failure(run({ InstanceType: 'm6g.large' }))).toMatchObject({ name: 'InvalidParameterValue' });
    expect(await failure(run({ Placement: { AvailabilityZone: 'eu-west-1a' } }))).toMatchObject({
      name: 'InvalidParameterValue',
    });
    expect(await failure(run({ ImageId: undefined }))).toMatchObject({ name: 'MissingParameter' });
    expect(
      await failure(
        run({
          InstanceMarketOptions: {
            MarketType: 'spot',
            SpotOptions: { SpotInstanceType: 'persistent', InstanceInterruptionBehavior: 'terminate' },
          },
        }),
      ),
    ).toMatchObject({ name: 'InvalidParameterCombination' });
  });

  it('should answer InvalidInstanceID.Malformed and .NotFound for ids', async () => {
    expect(await failure(ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-123'] })))).toMatchObject({
      name: 'InvalidInstanceID.Malformed',
      status: 400,
    });
    const missing = await failure(ec2.send(new TerminateInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })));
    expect(missing).toMatchObject({ name: 'InvalidInstanceID.NotFound', status: 400 });
    expect(missing.message).toContain('i-0123456789abcdef0');
    expect(await failure(ec2.send(new TerminateInstancesCommand({ InstanceIds: [] })))).toMatchObject({
      name: 'MissingParameter',
    });
  });

  it('should refuse a parameter the operation does not define with UnknownParameter', async () => {
    const client = h.ec2();
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { body?: string; headers: Record<string, string> };
        request.body = `${request.body ?? ''}&Bogus=1`;
        request.headers['content-length'] = String(Buffer.byteLength(request.body));
        return next(args);
      },
      { step: 'build', name: 'addBogusParameter' },
    );
    expect(await failure(client.send(new DescribeInstancesCommand({})))).toMatchObject({
      name: 'UnknownParameter',
      status: 400,
    });
  });

  it('should tag instances and volumes with CreateTags', async () => {
    const instance = (await run()).Instances![0];
    const volumeId = instance.BlockDeviceMappings![0].Ebs!.VolumeId!;
    await ec2.send(
      new CreateTagsCommand({
        Resources: [instance.InstanceId!, volumeId],
        Tags: [
          { Key: 'Owner', Value: 'mgr' },
          { Key: 'Name', Value: 'web' },
        ],
      }),
    );
    await ec2.send(
      new CreateTagsCommand({ Resources: [instance.InstanceId!], Tags: [{ Key: 'Name', Value: 'renamed' }] }),
    );
    expect((await describe1(instance.InstanceId!)).Tags).toEqual([
      { Key: 'Owner', Value: 'mgr' },
      { Key: 'Name', Value: 'renamed' },
    ]);
    const { Volumes } = await ec2.send(
      new DescribeVolumesCommand({ Filters: [{ Name: 'tag:Owner', Values: ['mgr'] }] }),
    );
    expect(Volumes!.map((v) => v.VolumeId)).toEqual([volumeId]);
    expect(
      await failure(
        ec2.send(new CreateTagsCommand({ Resources: ['i-0123456789abcdef0'], Tags: [{ Key: 'a', Value: 'b' }] })),
      ),
    ).toMatchObject({ name: 'InvalidInstanceID.NotFound' });
    expect(
      await failure(ec2.send(new CreateTagsCommand({ Resources: ['xyz-1'], Tags: [{ Key: 'a', Value: 'b' }] }))),
    ).toMatchObject({
      name: 'InvalidID',
    });
    expect(
      await failure(ec2.send(new CreateTagsCommand({ Resources: [instance.InstanceId!], Tags: [] }))),
    ).toMatchObject({
      name: 'MissingParameter',
    });
  });

  it('should filter and page DescribeVolumes', async () => {
    const ids = h.sandbox.control.seedInstances({ region: REGION, count: 12 }).instanceIds;
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: ids.slice(0, 2) }));
    const page1 = await ec2.send(new DescribeVolumesCommand({ MaxResults: 5 }));
    expect(page1.Volumes).toHaveLength(5);
    const rest = await ec2.send(new DescribeVolumesCommand({ MaxResults: 500, NextToken: page1.NextToken }));
    expect(rest.Volumes).toHaveLength(7);
    expect(rest.NextToken).toBeUndefined();
    const inUse = await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'status', Values: ['in-use'] }] }));
    expect(inUse.Volumes).toHaveLength(12);
    const volumeId = page1.Volumes![0].VolumeId!;
    expect(
      (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }))).Volumes!.map((v) => v.VolumeId),
    ).toEqual([volumeId]);
    expect(await failure(ec2.send(new DescribeVolumesCommand({ VolumeIds: ['vol-0123456789abcdef0'] })))).toMatchObject(
      {
        name: 'InvalidVolume.NotFound',
      },
    );
  });
});
