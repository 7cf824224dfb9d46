import {
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateCommandInput,
  CreateLaunchTemplateVersionCommand,
  DeleteLaunchTemplateCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSubnetsCommand,
  DescribeVolumesCommand,
  EC2Client,
  ModifyLaunchTemplateCommand,
  paginateDescribeLaunchTemplates,
  RequestLaunchTemplateData,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { AMI, ARM_AMI, callControl, failure, Harness, importKey, REGION, startHarness } from './support';

describe('sandbox EC2: launch templates, subnets and launch settings', () => {
  let h: Harness;
  let ec2: EC2Client;
  const key = 'mgr:web:abc1234';
  const data: RequestLaunchTemplateData = {
    ImageId: AMI,
    InstanceType: 't3.medium',
    KeyName: key,
    SecurityGroupIds: ['sg-0123456789abcdef0'],
    UserData: Buffer.from('#!/bin/sh\necho hi').toString('base64'),
    BlockDeviceMappings: [
      { DeviceName: '/dev/sdf', Ebs: { VolumeSize: 50, VolumeType: 'gp3', DeleteOnTermination: true } },
    ],
    IamInstanceProfile: { Name: 'worker' },
    MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 2 },
    CreditSpecification: { CpuCredits: 'unlimited' },
    InstanceInitiatedShutdownBehavior: 'terminate',
    TagSpecifications: [
      { ResourceType: 'instance', Tags: [{ Key: 'WorkerType', Value: 'mgr/web' }] },
      { ResourceType: 'volume', Tags: [{ Key: 'Owner', Value: 'mgr' }] },
    ],
    NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: 'subnet-0123456789abcdef1', Groups: ['sg-0123456789abcdef1'] }],
  };
  const create = (input: Partial<CreateLaunchTemplateCommandInput> = {}) =>
    ec2.send(
      new CreateLaunchTemplateCommand({ LaunchTemplateName: 'mgr/web/abc', LaunchTemplateData: data, ...input }),
    );

  beforeAll(async () => {
    h = await startHarness({ startTime: Date.UTC(2025, 5, 1, 12) });
    ec2 = h.ec2();
  });
  afterAll(() => h.stop());
  beforeEach(async () => {
    await h.sandbox.control.reset();
    await importKey(ec2, key);
  });

  it('should create a template and describe it back, data and all', async () => {
    const { LaunchTemplate: created } = await create({
      VersionDescription: 'first',
      TagSpecifications: [{ ResourceType: 'launch-template', Tags: [{ Key: 'ManagedBy', Value: 'mgr' }] }],
    });
    expect(created).toMatchObject({
      LaunchTemplateName: 'mgr/web/abc',
      DefaultVersionNumber: 1,
      LatestVersionNumber: 1,
      CreatedBy: 'arn:aws:iam::000000000000:root',
      CreateTime: new Date(Date.UTC(2025, 5, 1, 12)),
      Tags: [{ Key: 'ManagedBy', Value: 'mgr' }],
    });
    expect(created!.LaunchTemplateId).toMatch(/^lt-[0-9a-f]{17}$/);

    const byId = await ec2.send(
      new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [created!.LaunchTemplateId!] }),
    );
    expect(byId.LaunchTemplates).toEqual([created]);
    const { LaunchTemplateVersions } = await ec2.send(
      new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: 'mgr/web/abc', Versions: ['$Latest'] }),
    );
    expect(LaunchTemplateVersions).toHaveLength(1);
    expect(LaunchTemplateVersions![0]).toMatchObject({
      VersionNumber: 1,
      VersionDescription: 'first',
      DefaultVersion: true,
      LaunchTemplateData: {
        ...data,
        BlockDeviceMappings: [
          { DeviceName: '/dev/sdf', Ebs: { VolumeSize: 50, VolumeType: 'gp3', DeleteOnTermination: true } },
        ],
        MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 2 },
      },
    });
  });

  it('should filter by name and tag and page through templates', async () => {
    for (const name of ['mgr/web/a', 'mgr/web/b', 'mgr/db/c', 'other-team']) {
      await create({
        LaunchTemplateName: name,
        TagSpecifications: [{ ResourceType: 'launch-template', Tags: [{ Key: 'Team', Value: name.split('/')[0] }] }],
      });
    }
    const named = await ec2.send(
      new DescribeLaunchTemplatesCommand({ Filters: [{ Name: 'launch-template-name', Values: ['mgr/web/*'] }] }),
    );
    expect(named.LaunchTemplates!.map((t) => t.LaunchTemplateName)).toEqual(['mgr/web/a', 'mgr/web/b']);
    const tagged = await ec2.send(
      new DescribeLaunchTemplatesCommand({ Filters: [{ Name: 'tag:Team', Values: ['mgr'] }] }),
    );
    expect(tagged.LaunchTemplates).toHaveLength(3);
    const names: string[] = [];
    for await (const page of paginateDescribeLaunchTemplates({ client: ec2, pageSize: 1 }, {})) {
      expect(page.LaunchTemplates!.length).toBeLessThanOrEqual(1);
      names.push(...page.LaunchTemplates!.map((t) => t.LaunchTemplateName!));
    }
    expect(names).toEqual(['mgr/web/a', 'mgr/web/b', 'mgr/db/c', 'other-team']);
  });

  it('should answer template errors as EC2 does', async () => {
    const { LaunchTemplate } = await create();
    expect(await failure(create())).toMatchObject({ name: 'InvalidLaunchTemplateName.AlreadyExistsException' });
    // EC2's name pattern has no colon: the SPEC §11 style `<managerId>:<wt>:<hash>` is refused.
    expect(await failure(create({ LaunchTemplateName: 'mgr:web:abc' }))).toMatchObject({
      name: 'InvalidLaunchTemplateName.MalformedException',
    });
    expect(await failure(create({ LaunchTemplateName: 'ab' }))).toMatchObject({
      name: 'InvalidLaunchTemplateName.MalformedException',
    });
    expect(
      await failure(ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: ['nope/nope'] }))),
    ).toMatchObject({ name: 'InvalidLaunchTemplateName.NotFoundException' });
    expect(
      await failure(ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: ['lt-0123456789abcdef0'] }))),
    ).toMatchObject({ name: 'InvalidLaunchTemplateId.NotFound' });
    expect(await failure(ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: ['lt-x'] })))).toMatchObject({
      name: 'InvalidLaunchTemplateId.Malformed',
    });
    expect(
      await failure(
        ec2.send(
          new DescribeLaunchTemplateVersionsCommand({
            LaunchTemplateId: LaunchTemplate!.LaunchTemplateId,
            Versions: ['7'],
          }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidLaunchTemplateId.VersionNotFound' });
    expect(
      await failure(create({ LaunchTemplateName: 'x/y/z', LaunchTemplateData: { InstanceType: 'm9.huge' as never } })),
    ).toMatchObject({
      name: 'InvalidParameterValue',
    });
    expect(await failure(create({ LaunchTemplateName: 'x/y/z', DryRun: true }))).toMatchObject({
      name: 'DryRunOperation',
    });
    expect((await ec2.send(new DescribeLaunchTemplatesCommand({}))).LaunchTemplates).toHaveLength(1);
  });

  it('should replay a ClientToken and refuse it with other parameters', async () => {
    const first = await create({ ClientToken: 'tok-1' });
    const again = await create({ ClientToken: 'tok-1' });
    expect(again.LaunchTemplate).toEqual(first.LaunchTemplate);
    expect(await failure(create({ ClientToken: 'tok-1', LaunchTemplateName: 'mgr/web/other' }))).toMatchObject({
      name: 'IdempotentParameterMismatch',
    });
  });

  it('should add versions, switch the default, resolve $Latest/$Default and delete', async () => {
    const { LaunchTemplate } = await create();
    const id = LaunchTemplate!.LaunchTemplateId!;
    const v2 = await ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: id,
        SourceVersion: '1',
        LaunchTemplateData: { InstanceType: 'c5.large' },
      }),
    );
    expect(v2.LaunchTemplateVersion).toMatchObject({
      VersionNumber: 2,
      DefaultVersion: false,
      LaunchTemplateData: { InstanceType: 'c5.large', ImageId: AMI, KeyName: key },
    });
    const versions = async (v: string) =>
      (await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id, Versions: [v] })))
        .LaunchTemplateVersions![0].VersionNumber;
    expect([await versions('$Latest'), await versions('$Default')]).toEqual([2, 1]);
    const modified = await ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: id, DefaultVersion: '2' }));
    expect(modified.LaunchTemplate).toMatchObject({ DefaultVersionNumber: 2, LatestVersionNumber: 2 });
    expect(await versions('$Default')).toBe(2);
    const all = await ec2.send(new DescribeLaunchTemplateVersionsCommand({ Versions: ['$Latest'] }));
    expect(all.LaunchTemplateVersions!.map((v) => [v.LaunchTemplateId, v.VersionNumber])).toEqual([[id, 2]]);

    const deleted = await ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateName: 'mgr/web/abc' }));
    expect(deleted.LaunchTemplate!.LaunchTemplateId).toBe(id);
    expect(await failure(ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [id] })))).toMatchObject({
      name: 'InvalidLaunchTemplateId.NotFound',
    });
    expect((await callControl(h, 'GET', '/state?summary=true')).body.regions[REGION].counts.launchTemplates).toBe(0);
  });

  it('should launch from a template, with the request overriding it and EC2 tagging the template in', async () => {
    const { LaunchTemplate } = await create();
    const run = await ec2.send(
      new RunInstancesCommand({
        MinCount: 1,
        MaxCount: 1,
        LaunchTemplate: { LaunchTemplateName: 'mgr/web/abc', Version: '$Latest' },
        InstanceType: 'm5.large',
      }),
    );
    const [instance] = run.Instances!;
    expect(instance).toMatchObject({
      ImageId: AMI,
      InstanceType: 'm5.large',
      KeyName: key,
      SubnetId: 'subnet-0123456789abcdef1',
      Placement: { AvailabilityZone: 'us-east-1b' },
      SecurityGroups: [{ GroupId: 'sg-0123456789abcdef0' }],
      IamInstanceProfile: { Arn: 'arn:aws:iam::000000000000:instance-profile/worker' },
      MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 2, HttpEndpoint: 'enabled' },
    });
    expect(Object.fromEntries(instance.Tags!.map((t) => [t.Key, t.Value]))).toEqual({
      WorkerType: 'mgr/web',
      'aws:ec2launchtemplate:id': LaunchTemplate!.LaunchTemplateId,
      'aws:ec2launchtemplate:version': '1',
    });
    const { Volumes } = await ec2.send(
      new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [instance.InstanceId!] }] }),
    );
    expect(Volumes!.map((v) => [v.Attachments![0].Device, v.Size, v.Tags])).toEqual([
      ['/dev/xvda', 8, [{ Key: 'Owner', Value: 'mgr' }]],
      ['/dev/sdf', 50, [{ Key: 'Owner', Value: 'mgr' }]],
    ]);
    const shutdown = await ec2.send(
      new DescribeInstanceAttributeCommand({
        InstanceId: instance.InstanceId,
        Attribute: 'instanceInitiatedShutdownBehavior',
      }),
    );
    expect(shutdown.InstanceInitiatedShutdownBehavior).toEqual({ Value: 'terminate' });
    expect(
      await failure(
        ec2.send(
          new RunInstancesCommand({ MinCount: 1, MaxCount: 1, LaunchTemplate: { LaunchTemplateName: 'missing' } }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidLaunchTemplateName.NotFoundException' });
  });

  it('should echo MetadataOptions and default the shutdown behaviour to stop, as EC2 does', async () => {
    const plain = await ec2.send(new RunInstancesCommand({ ImageId: AMI, MinCount: 1, MaxCount: 1 }));
    const id = plain.Instances![0].InstanceId!;
    const described = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]
      .Instances![0];
    expect(described.MetadataOptions).toEqual({
      State: 'pending',
      HttpTokens: 'optional',
      HttpPutResponseHopLimit: 1,
      HttpEndpoint: 'enabled',
      HttpProtocolIpv6: 'disabled',
      InstanceMetadataTags: 'disabled',
    });
    await h.advance(10);
    const running = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]
      .Instances![0];
    expect(running.MetadataOptions!.State).toBe('applied');
    const attr = await ec2.send(
      new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: 'instanceInitiatedShutdownBehavior' }),
    );
    expect(attr.InstanceInitiatedShutdownBehavior).toEqual({ Value: 'stop' });
    const strict = await ec2.send(
      new RunInstancesCommand({
        ImageId: ARM_AMI,
        InstanceType: 'm6g.large',
        MinCount: 1,
        MaxCount: 1,
        MetadataOptions: { HttpTokens: 'required' },
        InstanceInitiatedShutdownBehavior: 'terminate',
      }),
    );
    expect(strict.Instances![0].MetadataOptions).toMatchObject({ HttpTokens: 'required' });
    expect(
      await failure(
        ec2.send(
          new RunInstancesCommand({
            ImageId: AMI,
            MinCount: 1,
            MaxCount: 1,
            MetadataOptions: { HttpTokens: 'sometimes' as never },
          }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidParameterValue' });
  });

  it('should know one default subnet per zone, place instances in their subnet zone and refuse unknown subnets', async () => {
    const { Subnets } = await ec2.send(new DescribeSubnetsCommand({}));
    expect(Subnets!.map((s) => [s.SubnetId, s.AvailabilityZone, s.DefaultForAz])).toEqual([
      ['subnet-0123456789abcdef0', 'us-east-1a', true],
      ['subnet-0123456789abcdef1', 'us-east-1b', true],
      ['subnet-0123456789abcdef2', 'us-east-1c', true],
    ]);
    const added = await callControl(h, 'POST', '/subnets', { region: REGION, zone: 'us-east-1c' });
    expect(added.body).toMatchObject({ zone: 'us-east-1c', defaultForAz: false });
    const run = await ec2.send(
      new RunInstancesCommand({ ImageId: AMI, MinCount: 1, MaxCount: 1, SubnetId: added.body.subnetId }),
    );
    expect(run.Instances![0]).toMatchObject({
      SubnetId: added.body.subnetId,
      Placement: { AvailabilityZone: 'us-east-1c' },
    });
    expect(
      await failure(
        ec2.send(
          new RunInstancesCommand({ ImageId: AMI, MinCount: 1, MaxCount: 1, SubnetId: 'subnet-0000000000000000f' }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidSubnetID.NotFound' });
    expect(
      await failure(
        ec2.send(
          new RunInstancesCommand({
            ImageId: AMI,
            MinCount: 1,
            MaxCount: 1,
            SubnetId: 'subnet-0123456789abcdef0',
            Placement: { AvailabilityZone: 'us-east-1b' },
          }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidParameterValue' });
  });
});
