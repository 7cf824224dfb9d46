import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { AppHarness } from '../app-harness';
import { keyPairNameFor } from '../../src/ec2/naming';
import { EXAMPLE_IMAGE_ID } from '../../src/api/launch/launch-examples';
import { CapacityCooldownRepository } from '../../src/state/capacity-cooldown.repository';
import { InstanceRepository } from '../../src/state/instance.repository';
import { EventHandlerService } from '../../src/event-listener/event-handler.service';
import { PricingPoller } from '../../src/pricing/pricing-poller.service';
import { PriceSync } from '../../src/prices/price-sync.service';
import { api, bearer, createApiHarness, TOKENS } from './support';

const WT = 'builder';
const REGION = 'us-east-1';
const TYPES = ['m5.large', 'c5.large', 'm6i.large'];
const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
const auth = bearer(TOKENS.builder);

interface Answer {
  launched: { instanceId: string; instanceType: string; availabilityZone: string; lifecycle: string }[];
  errors: { instanceType: string; availabilityZone: string; lifecycle: string; code: string; message: string }[];
  skipped: { instanceType?: string; availabilityZone?: string; lifecycle: string; reason: string; until: string }[];
  trimmedByPolicy: number;
  fellBackToOnDemand: boolean;
}

describe('launchFleet (SPEC §11)', () => {
  let h: AppHarness;
  let token = 0;

  const body = (overrides: Record<string, unknown> = {}) => ({
    ClientToken: `fleet-${++token}`,
    Region: REGION,
    Count: 20,
    Capacity: 'spot',
    Candidates: TYPES.map((t) => ({ InstanceType: t })),
    LaunchSpecification: { ImageId: EXAMPLE_IMAGE_ID, KeyName: keyPairNameFor(h.config, WT) },
    ...overrides,
  });
  const fleet = (b: object) => api(h).post(`/v1/worker-types/${WT}/fleet`).set(auth).send(b);
  const ec2 = () => h.sandbox.control.state({ region: REGION, limit: 100000 }).regions[REGION];
  const ec2Instances = () => ec2().instances ?? [];
  const setSpotCapacity = (capacity: number | null) => {
    for (const t of TYPES) h.sandbox.control.setCapacity({ region: REGION, instanceType: t, capacity });
  };

  beforeAll(async () => {
    h = await createApiHarness({ sandbox: { clockSpeed: 0 } });
  });
  afterAll(() => h.close());
  beforeEach(async () => {
    await h.reset();
    await api(h).delete(`/v1/worker-types/${WT}/key-pair`).set(auth).expect(204);
    await api(h).get(`/v1/worker-types/${WT}/key-pair`).set(auth).expect(200);
  });

  it('launches a fleet of 20 over three types, each in state as pending, tagged, IMDSv2, terminating on shutdown', async () => {
    const request = body();
    const answer: Answer = (await fleet(request).expect(200)).body;

    expect(answer.launched).toHaveLength(20);
    expect(answer).toMatchObject({ errors: [], skipped: [], trimmedByPolicy: 0, fellBackToOnDemand: false });
    expect(new Set(answer.launched.map((i) => i.lifecycle))).toEqual(new Set(['spot']));
    for (const i of answer.launched) {
      expect(TYPES).toContain(i.instanceType);
      expect(ZONES).toContain(i.availabilityZone);
    }
    const rows = await h.get(InstanceRepository).list({ workerType: WT });
    expect(rows.map((r) => r.id).sort()).toEqual(answer.launched.map((i) => i.instanceId).sort());
    expect(new Set(rows.map((r) => r.state))).toEqual(new Set(['pending']));

    const tags = { Name: WT, Owner: h.config.managerId, WorkerType: `${h.config.managerId}/${WT}` };
    const instances = ec2Instances();
    expect(instances).toHaveLength(20);
    for (const i of instances)
      expect(i).toMatchObject({ shutdownBehavior: 'terminate', tags: expect.objectContaining(tags) });
    const volumes = ec2().volumes ?? [];
    expect(volumes.length).toBeGreaterThanOrEqual(20);
    for (const v of volumes) expect(v.tags).toMatchObject(tags);
    const client = new EC2Client({
      region: REGION,
      endpoint: h.sandbox.endpoints.ec2,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const described = await client.send(new DescribeInstancesCommand({ InstanceIds: [answer.launched[0].instanceId] }));
    expect(described.Reservations?.[0].Instances?.[0].MetadataOptions?.HttpTokens).toBe('required');
    client.destroy();

    // One launch template, named as documented, reused by a second fleet of the same specification.
    const templates = () => ec2().launchTemplates ?? [];
    expect(templates()).toHaveLength(1);
    expect(templates()[0].launchTemplateName).toMatch(new RegExp(`^${h.config.managerId}/${WT}/[0-9a-f]{16}$`));
    expect((await fleet(body({ Count: 2 })).expect(200)).body.launched).toHaveLength(2);
    expect(templates()).toHaveLength(1);

    // The same ClientToken and body: the same answer, nothing launched.
    const again = await fleet(request).expect(200);
    expect(again.body).toEqual(answer);
    expect(ec2Instances()).toHaveLength(22);
  });

  it('with no spot capacity in any pool and spot-then-on-demand, launches 20 on-demand and says it fell back', async () => {
    setSpotCapacity(0);
    const request = body({ Capacity: 'spot-then-on-demand' });
    const answer: Answer = (await fleet(request).expect(200)).body;

    expect(answer.launched).toHaveLength(20);
    expect(new Set(answer.launched.map((i) => i.lifecycle))).toEqual(new Set(['on-demand']));
    expect(answer.fellBackToOnDemand).toBe(true);
    expect(answer.errors.every((e) => e.lifecycle === 'spot' && e.code === 'InsufficientInstanceCapacity')).toBe(true);
    expect(ec2Instances().filter((i) => i.lifecycle === 'on-demand')).toHaveLength(20);
    expect(ec2Instances().filter((i) => i.lifecycle === 'spot')).toHaveLength(0);

    expect((await fleet(request).expect(200)).body).toEqual(answer);
    expect(ec2Instances()).toHaveLength(20);
  });

  it('with spot only and no capacity, launches nothing, names every pool, cools them down and skips them next time', async () => {
    setSpotCapacity(0);
    const request = body();
    const answer: Answer = (await fleet(request).expect(200)).body;

    expect(answer.launched).toEqual([]);
    const pools = TYPES.flatMap((t) => ZONES.map((z) => `${t}|${z}`)).sort();
    expect(answer.errors.map((e) => `${e.instanceType}|${e.availabilityZone}`).sort()).toEqual(pools);
    expect(new Set(answer.errors.map((e) => e.code))).toEqual(new Set(['InsufficientInstanceCapacity']));
    const cooldowns = await h.get(CapacityCooldownRepository).active({ region: REGION });
    expect(cooldowns.map((c) => `${c.instanceType}|${c.az}`).sort()).toEqual(pools);
    expect(new Set(cooldowns.map((c) => c.lifecycle))).toEqual(new Set(['spot']));
    expect(await h.get(CapacityCooldownRepository).activeQuota()).toEqual([]);
    const health = (await api(h).get(`/v1/worker-types/${WT}/health`).expect(200)).body;
    expect(health.capacityCooldowns).toHaveLength(9);

    // A second request leaves the cooled pools out before asking EC2.
    const second: Answer = (await fleet(body()).expect(200)).body;
    expect(second).toMatchObject({ launched: [], errors: [] });
    expect(second.skipped.map((s) => `${s.instanceType}|${s.availabilityZone}`).sort()).toEqual(pools);
    expect(new Set(second.skipped.map((s) => s.reason))).toEqual(new Set(['capacity-cooldown']));

    expect((await fleet(request).expect(200)).body).toEqual(answer);
    expect(ec2Instances()).toHaveLength(0);
  });

  it('with a spot vCPU quota of 8, puts the lifecycle in a quota cooldown, not a capacity one', async () => {
    h.sandbox.control.setQuota({ region: REGION, lifecycle: 'spot', vcpus: 8 });
    const request = body();
    const answer: Answer = (await fleet(request).expect(200)).body;

    // Two vCPUs each: four fit the quota.
    expect(answer.launched).toHaveLength(4);
    expect(answer.errors.length).toBeGreaterThan(0);
    expect(new Set(answer.errors.map((e) => e.code))).toEqual(new Set(['MaxSpotInstanceCountExceeded']));
    const repo = h.get(CapacityCooldownRepository);
    expect((await repo.activeQuota({ region: REGION })).map((q) => [q.lifecycle, q.reason])).toEqual([
      ['spot', 'MaxSpotInstanceCountExceeded'],
    ]);
    expect(await repo.active({ region: REGION })).toEqual([]);

    const second: Answer = (await fleet(body()).expect(200)).body;
    expect(second).toMatchObject({ launched: [], errors: [] });
    expect(second.skipped).toEqual([{ lifecycle: 'spot', reason: 'quota-cooldown', until: expect.any(String) }]);

    expect((await fleet(request).expect(200)).body).toEqual(answer);
    expect(ec2Instances()).toHaveLength(4);
  });

  it('shows cooldowns in workerTypeHealth, /v1/prices and metrics; a spot interruption warning cools its pool', async () => {
    h.sandbox.control.setQuota({ region: REGION, lifecycle: 'spot', vcpus: 8 });
    const answer: Answer = (await fleet(body()).expect(200)).body;
    const hit = answer.launched[0];
    await h.get(EventHandlerService).handle({
      kind: 'notice',
      eventId: 'interruption-1',
      region: REGION,
      notice: 'spot-interruption',
      instanceIds: [hit.instanceId],
      action: 'terminate',
      notBefore: new Date(Date.now() + 120_000),
      time: new Date(),
    });

    const health = (await api(h).get(`/v1/worker-types/${WT}/health`).expect(200)).body;
    expect(health.capacityCooldowns).toEqual([
      expect.objectContaining({
        region: REGION,
        az: hit.availabilityZone,
        instanceType: hit.instanceType,
        lifecycle: 'spot',
        reason: 'spot-interruption',
      }),
    ]);
    expect(health.quotaCooldowns).toEqual([
      expect.objectContaining({
        region: REGION,
        lifecycle: 'spot',
        reason: 'MaxSpotInstanceCountExceeded',
        workerType: WT,
      }),
    ]);

    await h.get(PricingPoller).pollOnce();
    await h.get(PriceSync).syncOnce();
    const prices: {
      region: string;
      zone: string;
      instanceType: string;
      capacityCooldown?: object;
      quotaCooldown?: object;
    }[] = (await api(h).get('/v1/prices').expect(200)).body;
    const east = prices.filter((p) => p.region === REGION);
    expect(east.length).toBeGreaterThan(0);
    expect(east.every((p) => p.quotaCooldown)).toBe(true);
    expect(prices.filter((p) => p.region !== REGION).some((p) => p.quotaCooldown)).toBe(false);
    expect(east.filter((p) => p.capacityCooldown).map((p) => `${p.zone}|${p.instanceType}`)).toEqual([
      `${hit.availabilityZone}|${hit.instanceType}`,
    ]);

    const metrics = (await api(h).get('/metrics').expect(200)).text;
    expect(metrics).toContain(`ec2_manager_cooldowns_active{kind="capacity",region="${REGION}",lifecycle="spot"} 1`);
    expect(metrics).toContain(`ec2_manager_cooldowns_active{kind="quota",region="${REGION}",lifecycle="spot"} 1`);
  });

  it("launches with each of the OpenAPI document's examples as they are", async () => {
    const doc = (await api(h).get('/api-json').expect(200)).body;
    const examples: Record<string, { value: { Count: number; Capacity: string } }> =
      doc.paths['/v1/worker-types/{workerType}/fleet'].post.requestBody.content['application/json'].examples;
    expect(Object.keys(examples).sort()).toEqual(['onDemand', 'spot', 'spotThenOnDemand']);
    for (const [name, { value }] of Object.entries(examples)) {
      const answer: Answer = (await fleet(value).expect(200)).body;
      expect({ name, launched: answer.launched.length, errors: answer.errors }).toEqual({
        name,
        launched: value.Count,
        errors: [],
      });
      const lifecycle = value.Capacity === 'on-demand' ? 'on-demand' : 'spot';
      expect(new Set(answer.launched.map((i) => i.lifecycle))).toEqual(new Set([lifecycle]));
    }
  });

  it('refuses bad input with one 400 naming every reason, launching nothing', async () => {
    await api(h)
      .put(`/v1/worker-types/${WT}/policy`)
      .set(auth)
      .send({ allowedInstanceTypes: ['m5.*', 'c5.*'] })
      .expect(200);
    const used = body({ Count: 1, Candidates: [{ InstanceType: 'm5.large' }] });
    await fleet(used).expect(200);
    const before = ec2Instances().length;

    const res = await fleet({
      ClientToken: used.ClientToken,
      Region: REGION,
      Count: 1001,
      Capacity: 'reserved',
      AllocationStrategy: 'cheapest',
      Candidates: [
        { InstanceType: 'm5.large', AvailabilityZone: 'us-west-2a' },
        { InstanceType: 'c5.large', AvailabilityZone: 'us-east-1a', SubnetId: 'subnet-0123456789abcdef0' },
        { InstanceType: 'r5.large' },
      ],
      LaunchSpecification: {
        ImageId: EXAMPLE_IMAGE_ID,
        KeyName: 'someone-else:builder:abcdef0',
        InstanceInitiatedShutdownBehavior: 'stop',
        InstanceType: 'm5.large',
      },
    }).expect(400);
    const reasons: { rule: string; path?: string }[] = res.body.details.reasons;
    expect(reasons.map((r) => `${r.rule} ${r.path}`).sort()).toEqual(
      [
        'schema Count',
        'schema Capacity',
        'schema AllocationStrategy',
        'schema LaunchSpecification.InstanceInitiatedShutdownBehavior',
        'key-name LaunchSpecification.KeyName',
        'allowed-keys LaunchSpecification.InstanceType',
        'availability-zone Candidates[0].AvailabilityZone',
        'candidates Candidates[1]',
        'policy Candidates[2].InstanceType',
        'client-token ClientToken',
      ].sort(),
    );

    const counts = await fleet(body({ Count: 0, Candidates: [] })).expect(400);
    expect(counts.body.details.reasons.map((r: { path: string }) => r.path).sort()).toEqual(['Candidates', 'Count']);
    const many = await fleet(
      body({ Candidates: Array.from({ length: 61 }, () => ({ InstanceType: 'm5.large' })) }),
    ).expect(400);
    expect(many.body.details.reasons.map((r: { path: string }) => r.path)).toEqual(['Candidates']);
    expect(ec2Instances()).toHaveLength(before);
  });

  it('asks EC2 for a DryRun first: an image EC2 does not know is a 400 and nothing is launched', async () => {
    const res = await fleet(
      body({ LaunchSpecification: { ImageId: 'ami-00000000000000000', KeyName: keyPairNameFor(h.config, WT) } }),
    ).expect(400);
    expect(res.body.details).toMatchObject({ reasons: [{ rule: 'dry-run' }], ec2Code: 'InvalidAMIID.NotFound' });
    expect(ec2Instances()).toHaveLength(0);
    expect(await h.get(InstanceRepository).list({ workerType: WT })).toEqual([]);
  });

  it("trims the count to the worker type's maxInstances and says so", async () => {
    await api(h).put(`/v1/worker-types/${WT}/policy`).set(auth).send({ maxInstances: 5 }).expect(200);
    const answer: Answer = (await fleet(body({ Count: 8 })).expect(200)).body;
    expect(answer.launched).toHaveLength(5);
    expect(answer.trimmedByPolicy).toBe(3);
    const full: Answer = (await fleet(body({ Count: 8 })).expect(200)).body;
    expect(full).toMatchObject({ launched: [], trimmedByPolicy: 8 });
    expect(ec2Instances()).toHaveLength(5);
  });
});
