import {
  DeleteKeyPairCommand,
  DescribeAvailabilityZonesCommand,
  DescribeImagesCommand,
  DescribeKeyPairsCommand,
  DescribeSpotPriceHistoryCommand,
  EC2Client,
  ImportKeyPairCommand,
  paginateDescribeSpotPriceHistory,
  CreateTagsCommand,
} from '@aws-sdk/client-ec2';
import { AMI, ARM_AMI, failure, Harness, OTHER_REGION, PUBLIC_KEY, REGION, startHarness } from './support';

describe('sandbox EC2: key pairs, images, zones and spot prices', () => {
  let h: Harness;
  let ec2: EC2Client;
  const HOUR = 3600;

  beforeAll(async () => {
    // 2025-01-01T00:00:00Z: a round hour, so price steps fall on known timestamps.
    h = await startHarness({ startTime: Date.UTC(2025, 0, 1), priceIntervalSeconds: HOUR });
    ec2 = h.ec2();
  });
  afterAll(() => h.stop());
  beforeEach(async () => {
    await h.sandbox.control.reset();
    h.sandbox.control.setClock({ time: Date.UTC(2025, 0, 1) });
  });

  it('should import, describe and delete key pairs per region', async () => {
    const imported = await ec2.send(
      new ImportKeyPairCommand({
        KeyName: 'mgr:web:abc1234',
        PublicKeyMaterial: Buffer.from(PUBLIC_KEY),
        TagSpecifications: [{ ResourceType: 'key-pair', Tags: [{ Key: 'Owner', Value: 'mgr' }] }],
      }),
    );
    expect(imported).toMatchObject({ KeyName: 'mgr:web:abc1234', Tags: [{ Key: 'Owner', Value: 'mgr' }] });
    expect(imported.KeyPairId).toMatch(/^key-[0-9a-f]{17}$/);
    expect(imported.KeyFingerprint).toMatch(/^[A-Za-z0-9+/]{43}$/);
    await ec2.send(
      new ImportKeyPairCommand({
        KeyName: 'other:db:0000000',
        PublicKeyMaterial: Buffer.from('ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ'),
      }),
    );

    const all = await ec2.send(new DescribeKeyPairsCommand({}));
    expect(all.KeyPairs!.map((k) => [k.KeyName, k.KeyType])).toEqual([
      ['mgr:web:abc1234', 'ed25519'],
      ['other:db:0000000', 'rsa'],
    ]);
    const filtered = await ec2.send(
      new DescribeKeyPairsCommand({ Filters: [{ Name: 'key-name', Values: ['mgr:*'] }], IncludePublicKey: true }),
    );
    expect(filtered.KeyPairs!.map((k) => k.PublicKey)).toEqual([PUBLIC_KEY]);
    expect((await ec2.send(new DescribeKeyPairsCommand({ KeyPairIds: [imported.KeyPairId!] }))).KeyPairs).toHaveLength(
      1,
    );
    expect(
      (await ec2.send(new DescribeKeyPairsCommand({ Filters: [{ Name: 'tag:Owner', Values: ['mgr'] }] }))).KeyPairs,
    ).toHaveLength(1);
    expect((await h.ec2(OTHER_REGION).send(new DescribeKeyPairsCommand({}))).KeyPairs).toEqual([]);

    expect(
      await failure(
        ec2.send(new ImportKeyPairCommand({ KeyName: 'mgr:web:abc1234', PublicKeyMaterial: Buffer.from(PUBLIC_KEY) })),
      ),
    ).toMatchObject({ name: 'InvalidKeyPair.Duplicate', status: 400 });
    expect(
      await failure(
        ec2.send(new ImportKeyPairCommand({ KeyName: 'bad', PublicKeyMaterial: Buffer.from('not a key') })),
      ),
    ).toMatchObject({ name: 'InvalidKey.Format' });
    expect(await failure(ec2.send(new DescribeKeyPairsCommand({ KeyNames: ['nope'] })))).toMatchObject({
      name: 'InvalidKeyPair.NotFound',
    });

    const deleted = await ec2.send(new DeleteKeyPairCommand({ KeyName: 'mgr:web:abc1234' }));
    expect(deleted).toMatchObject({ Return: true, KeyPairId: imported.KeyPairId });
    expect((await ec2.send(new DeleteKeyPairCommand({ KeyName: 'mgr:web:abc1234' }))).Return).toBe(true);
    expect(await failure(ec2.send(new DeleteKeyPairCommand({ KeyPairId: imported.KeyPairId })))).toMatchObject({
      name: 'InvalidKeyPair.NotFound',
    });
    expect(await failure(ec2.send(new DeleteKeyPairCommand({})))).toMatchObject({ name: 'MissingParameter' });
    expect(await failure(ec2.send(new DeleteKeyPairCommand({ KeyName: 'x', DryRun: true })))).toMatchObject({
      name: 'DryRunOperation',
      status: 412,
    });
  });

  it('should describe the seeded and registered images, with filters', async () => {
    h.sandbox.control.registerImage({
      region: REGION,
      imageId: 'ami-0aaaaaaaaaaaaaaaa',
      name: 'worker-2025',
      architecture: 'arm64',
    });
    const all = await ec2.send(new DescribeImagesCommand({ Owners: ['self'] }));
    expect(all.Images!.map((i) => i.ImageId)).toEqual([AMI, ARM_AMI, 'ami-0aaaaaaaaaaaaaaaa']);
    expect(all.Images![0]).toMatchObject({
      State: 'available',
      Architecture: 'x86_64',
      RootDeviceType: 'ebs',
      OwnerId: '000000000000',
    });
    const arm = await ec2.send(
      new DescribeImagesCommand({
        Filters: [
          { Name: 'architecture', Values: ['arm64'] },
          { Name: 'name', Values: ['worker-*'] },
        ],
      }),
    );
    expect(arm.Images!.map((i) => i.ImageId)).toEqual(['ami-0aaaaaaaaaaaaaaaa']);
    expect((await ec2.send(new DescribeImagesCommand({ ImageIds: [AMI] }))).Images).toHaveLength(1);
    expect((await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images).toEqual([]);
    await ec2.send(new CreateTagsCommand({ Resources: [AMI], Tags: [{ Key: 'Release', Value: 'stable' }] }));
    expect(
      (
        await ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'tag:Release', Values: ['stable'] }] }))
      ).Images!.map((i) => i.ImageId),
    ).toEqual([AMI]);
    expect(await failure(ec2.send(new DescribeImagesCommand({ ImageIds: ['ami-0bbbbbbbbbbbbbbbb'] })))).toMatchObject({
      name: 'InvalidAMIID.NotFound',
    });
    expect(await failure(ec2.send(new DescribeImagesCommand({ ImageIds: ['ami-x'] })))).toMatchObject({
      name: 'InvalidAMIID.Malformed',
    });
  });

  it('should describe availability zones of the signing region', async () => {
    const zones = await h.ec2(OTHER_REGION).send(new DescribeAvailabilityZonesCommand({}));
    expect(zones.AvailabilityZones!.map((z) => [z.ZoneName, z.ZoneId, z.State, z.RegionName])).toEqual([
      ['eu-central-1a', 'euc1-az1', 'available', 'eu-central-1'],
      ['eu-central-1b', 'euc1-az2', 'available', 'eu-central-1'],
      ['eu-central-1c', 'euc1-az3', 'available', 'eu-central-1'],
    ]);
    const one = await ec2.send(
      new DescribeAvailabilityZonesCommand({ Filters: [{ Name: 'zone-name', Values: ['*b'] }] }),
    );
    expect(one.AvailabilityZones!.map((z) => z.ZoneName)).toEqual(['us-east-1b']);
    expect(
      (await ec2.send(new DescribeAvailabilityZonesCommand({ ZoneNames: ['us-east-1c'] }))).AvailabilityZones,
    ).toHaveLength(1);
    expect(
      await failure(ec2.send(new DescribeAvailabilityZonesCommand({ ZoneNames: ['eu-central-1a'] }))),
    ).toMatchObject({
      name: 'InvalidParameterValue',
    });
  });

  it('should give a moving market price history, newest first, per zone, type and product', async () => {
    await h.advance(5 * HOUR);
    const res = await ec2.send(
      new DescribeSpotPriceHistoryCommand({
        InstanceTypes: ['m5.large'],
        ProductDescriptions: ['Linux/UNIX'],
        AvailabilityZone: 'us-east-1a',
        StartTime: new Date(Date.UTC(2025, 0, 1, 1)),
      }),
    );
    const points = res.SpotPriceHistory!;
    const times = points.map((p) => p.Timestamp!.toISOString());
    expect(times[0]).toBe('2025-01-01T05:00:00.000Z');
    expect(times).toEqual([...times].sort().reverse());
    expect(new Set(points.map((p) => p.SpotPrice)).size).toBeGreaterThan(1);
    for (const p of points) {
      expect(p).toMatchObject({
        InstanceType: 'm5.large',
        ProductDescription: 'Linux/UNIX',
        AvailabilityZone: 'us-east-1a',
      });
      expect(Number(p.SpotPrice)).toBeGreaterThan(0);
      expect(Number(p.SpotPrice)).toBeLessThan(0.096 * 1.5);
    }

    const current = await ec2.send(
      new DescribeSpotPriceHistoryCommand({ InstanceTypes: ['m5.large'], ProductDescriptions: ['Linux/UNIX'] }),
    );
    expect(current.SpotPriceHistory!.map((p) => p.AvailabilityZone)).toEqual([
      'us-east-1a',
      'us-east-1b',
      'us-east-1c',
    ]);

    h.sandbox.control.setPrice({ region: REGION, zone: 'us-east-1b', instanceType: 'm5.large', price: 0.0123 });
    const pinned = await ec2.send(
      new DescribeSpotPriceHistoryCommand({
        InstanceTypes: ['m5.large'],
        ProductDescriptions: ['Linux/UNIX', 'Windows'],
        AvailabilityZone: 'us-east-1b',
      }),
    );
    expect(pinned.SpotPriceHistory!.map((p) => [p.ProductDescription, p.SpotPrice])).toEqual([
      ['Linux/UNIX', '0.012300'],
      ['Windows', '0.024600'],
    ]);
    expect(h.sandbox.control.price({ region: REGION, zone: 'us-east-1b', instanceType: 'm5.large' })).toBe(0.0123);

    const filtered = await ec2.send(
      new DescribeSpotPriceHistoryCommand({
        Filters: [
          { Name: 'spot-price', Values: ['0.012300'] },
          { Name: 'product-description', Values: ['Linux/UNIX'] },
        ],
      }),
    );
    expect(filtered.SpotPriceHistory!.map((p) => [p.AvailabilityZone, p.InstanceType])).toEqual([
      ['us-east-1b', 'm5.large'],
    ]);
  });

  it('should page the price history with a stable window', async () => {
    await h.advance(3 * HOUR);
    const seen: string[] = [];
    for await (const page of paginateDescribeSpotPriceHistory(
      { client: ec2, pageSize: 7 },
      {
        StartTime: new Date(Date.UTC(2025, 0, 1)),
        ProductDescriptions: ['Linux/UNIX (Amazon VPC)'],
        InstanceTypes: ['c5.large', 't3.micro'],
      },
    )) {
      expect(page.SpotPriceHistory!.length).toBeLessThanOrEqual(7);
      seen.push(
        ...page.SpotPriceHistory!.map((p) => `${p.AvailabilityZone}/${p.InstanceType}/${p.Timestamp!.toISOString()}`),
      );
      await h.advance(HOUR); // time moving between pages must not shift them
    }
    expect(new Set(seen).size).toBe(seen.length);
    const last = seen.map((s) => s.split('/')[2]).sort();
    expect(last[last.length - 1]).toBe('2025-01-01T03:00:00.000Z');
    expect(seen.length).toBeLessThanOrEqual(2 * 3 * 4);
    expect(seen.length).toBeGreaterThan(6);
    expect(
      await failure(ec2.send(new DescribeSpotPriceHistoryCommand({ InstanceTypes: ['z1.nope' as never] }))),
    ).toMatchObject({
      name: 'InvalidParameterValue',
    });
    expect(
      await failure(
        ec2.send(
          new DescribeSpotPriceHistoryCommand({
            StartTime: new Date(Date.UTC(2026, 0, 1)),
            EndTime: new Date(Date.UTC(2025, 0, 1)),
          }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidParameterValue' });
  });
});
