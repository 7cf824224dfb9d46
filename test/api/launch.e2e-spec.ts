import { createHash } from 'node:crypto';
import { AppHarness } from '../app-harness';
import { keyPairNameFor } from '../../src/ec2/naming';
import { launchExamples } from '../../src/api/launch/launch-examples';
import { Metrics } from '../../src/metrics/metrics.service';
import { InstanceRepository } from '../../src/state/instance.repository';
import { SpotRequestRepository } from '../../src/state/spot-request.repository';
import { UsageRepository } from '../../src/state/usage.repository';
import { api, bearer, createApiHarness, TOKENS } from './support';

const WT = 'builder';
const auth = bearer(TOKENS.builder);

describe('launch API', () => {
  let h: AppHarness;
  let keyName: string;
  let examples: ReturnType<typeof launchExamples>;

  /** Instances and spot requests in the sandbox, every region: what a refused launch must leave alone. */
  const ec2Resources = () =>
    Object.values(h.sandbox.control.state().regions).map((r) => ({
      instances: r.instances?.length,
      spotRequests: r.spotRequests?.length,
    }));

  const spot = (body: object) => api(h).put(`/v1/worker-types/${WT}/spot-request`).set(auth).send(body);
  const run = (body: object) => api(h).put(`/v1/worker-types/${WT}/instance`).set(auth).send(body);
  const ensureKeyPair = () => api(h).get(`/v1/worker-types/${WT}/key-pair`).set(auth).expect(200);

  beforeAll(async () => {
    h = await createApiHarness({ env: { AWS_MAX_ATTEMPTS: 10 }, sandbox: { seed: 42 } });
    keyName = keyPairNameFor(h.config, WT);
    examples = launchExamples(h.config);
  });
  afterAll(() => h.close());
  beforeEach(async () => {
    await h.reset();
    await api(h).delete(`/v1/worker-types/${WT}/key-pair`).set(auth).expect(204);
  });

  describe('key pairs', () => {
    const keyPairs = () =>
      Object.fromEntries(
        Object.entries(h.sandbox.control.state().regions).map(([region, r]) => [
          region,
          (r.keyPairs ?? []).map((k) => k.keyName),
        ]),
      );

    it('answers the name a launch must use, derived from the manager id and the public key', async () => {
      const res = await ensureKeyPair();
      expect(res.body).toEqual({ keyName, regions: ['us-east-1', 'us-west-2'] });
      const [type, base64] = h.config.instancePubkey.split(' ');
      const hash = createHash('sha256').update(`${type} ${base64}`).digest('hex').slice(0, 7);
      expect(keyName).toBe(`${h.config.managerId}:${WT}:${hash}`);
    });

    it('imports the derived key pair in every region, once, and removes it everywhere', async () => {
      await ensureKeyPair();
      expect(keyPairs()).toEqual({ 'us-east-1': [keyName], 'us-west-2': [keyName] });
      const tags = h.sandbox.control.state().regions['us-east-1'].keyPairs![0].tags;
      expect(tags).toMatchObject({ Owner: h.config.managerId, WorkerType: `${h.config.managerId}/${WT}` });
      await ensureKeyPair();
      expect(keyPairs()).toEqual({ 'us-east-1': [keyName], 'us-west-2': [keyName] });

      await api(h).delete(`/v1/worker-types/${WT}/key-pair`).set(auth).expect(204);
      expect(keyPairs()).toEqual({ 'us-east-1': [], 'us-west-2': [] });
      await api(h).delete(`/v1/worker-types/${WT}/key-pair`).set(auth).expect(204);

      // Removing forgets it: ensuring again imports it again.
      await ensureKeyPair();
      expect(keyPairs()).toEqual({ 'us-east-1': [keyName], 'us-west-2': [keyName] });
    });

    it('imports it only where it is missing', async () => {
      await ensureKeyPair();
      await h.sandbox.control.reset();
      await api(h).get(`/v1/worker-types/other/key-pair`).set(bearer(TOKENS.admin)).expect(200);
      expect(Object.values(keyPairs()).flat()).toEqual([
        keyPairNameFor(h.config, 'other'),
        keyPairNameFor(h.config, 'other'),
      ]);
    });
  });

  describe('with the key pair ensured', () => {
    beforeEach(ensureKeyPair);

    it('requests a spot instance with the Swagger example as it is, tagged, into state', async () => {
      await spot(examples.spot).expect(204);
      const [request] = h.sandbox.control.state().regions['us-east-1'].spotRequests!;
      expect(request).toMatchObject({
        keyName,
        instanceType: 'm5.large',
        type: 'one-time',
        tags: { Name: WT, Owner: h.config.managerId, WorkerType: `${h.config.managerId}/${WT}` },
      });
      const rows = await h.get(SpotRequestRepository).list({ workerType: WT });
      expect(rows).toEqual([
        expect.objectContaining({
          region: 'us-east-1',
          id: request.spotInstanceRequestId,
          state: 'open',
          instanceType: 'm5.large',
          imageId: 'ami-0123456789abcdef0',
        }),
      ]);
      expect((await h.get(UsageRepository).listAmiUsage()).map((u) => [u.region, u.id])).toEqual([
        ['us-east-1', 'ami-0123456789abcdef0'],
      ]);
      const stats = await api(h).get(`/v1/worker-types/${WT}/stats`).expect(200);
      expect(stats.body.pending).toEqual([{ instanceType: 'm5.large', count: 1, type: 'spot-request' }]);
    });

    it('launches an on-demand instance with the example, tagged with its volumes, into state', async () => {
      await run(examples.onDemand).expect(204);
      const region = h.sandbox.control.state().regions['us-east-1'];
      expect(region.instances).toHaveLength(1);
      const instance = region.instances![0] as {
        instanceId: string;
        tags: object;
        keyName: string;
        zone: string;
        volumeIds: string[];
      };
      const tags = { Name: WT, Owner: h.config.managerId, WorkerType: `${h.config.managerId}/${WT}` };
      // One that shuts itself down terminates instead of stopping and billing its volumes (SPEC §6.3b).
      expect(instance).toMatchObject({ keyName, zone: 'us-east-1a', tags, shutdownBehavior: 'terminate' });
      const volumes = region.volumes!.filter((v) => instance.volumeIds.includes(v.volumeId as string));
      expect(volumes.length).toBeGreaterThan(0);
      for (const v of volumes) expect(v.tags).toEqual(tags);
      const rows = await h.get(InstanceRepository).list({ workerType: WT });
      expect(rows).toEqual([
        expect.objectContaining({
          id: instance.instanceId,
          az: 'us-east-1a',
          state: 'pending',
          spotRequestId: null,
          instanceType: 'm5.large',
        }),
      ]);
    });

    it('launches a spot instance through RunInstances with the example', async () => {
      await run(examples.spotInstance).expect(204);
      const [row] = await h.get(InstanceRepository).list({ workerType: WT });
      expect(row.spotRequestId).toMatch(/^sir-/);
      const [request] = h.sandbox.control.state().regions['us-east-1'].spotRequests!;
      expect(request).toMatchObject({ spotInstanceRequestId: row.spotRequestId, state: 'active' });
      expect(await h.get(SpotRequestRepository).list()).toEqual([]);
      h.sandbox.control.setClock({ advanceSeconds: 15 });
      expect(h.sandbox.control.endInstance(row.id, 'instance-initiated')).toMatchObject({ state: 'shutting-down' });
    });

    it('launches nothing twice for a retried ClientToken, and answers 204 again', async () => {
      await spot(examples.spot).expect(204);
      await spot(examples.spot).expect(204);
      await run(examples.onDemand).expect(204);
      await run(examples.onDemand).expect(204);
      const region = h.sandbox.control.state().regions['us-east-1'];
      expect(region.spotRequests).toHaveLength(1);
      // Only on-demand: the sandbox's clock runs, so the spot request may have been fulfilled meanwhile.
      expect(region.instances?.filter((i) => i.lifecycle === 'on-demand')).toHaveLength(1);
      expect(await h.get(SpotRequestRepository).list()).toHaveLength(1);
      expect(await h.get(InstanceRepository).list()).toHaveLength(1);
    });

    it('refuses a reused ClientToken with other parameters (EC2 IdempotentParameterMismatch) as 400', async () => {
      await run(examples.onDemand).expect(204);
      const res = await run({
        ...examples.onDemand,
        LaunchInfo: { ...examples.onDemand.LaunchInfo, InstanceType: 'c5.large' },
      }).expect(400);
      expect(res.body.details).toMatchObject({ ec2Code: 'IdempotentParameterMismatch' });
    });

    const spec = () => examples.spot.LaunchSpecification;
    it.each([
      ['schema', 'ClientToken', () => ({ ...examples.spot, ClientToken: 'has spaces' })],
      ['schema', 'ClientToken', () => ({ ...examples.spot, ClientToken: 'x'.repeat(65) })],
      ['schema', 'ClientToken', () => ({ ...examples.spot, ClientToken: undefined })],
      ['schema', 'SpotPrice', () => ({ ...examples.spot, SpotPrice: -1 })],
      ['schema', 'SpotPrice', () => ({ ...examples.spot, SpotPrice: 0 })],
      ['schema', 'SpotPrice', () => ({ ...examples.spot, SpotPrice: '0.5' })],
      ['schema', 'Extra', () => ({ ...examples.spot, Extra: 1 })],
      ['schema', 'LaunchSpecification', () => ({ ...examples.spot, LaunchSpecification: 'm5.large' })],
      [
        'schema',
        'LaunchSpecification.EbsOptimized',
        () => ({ ...examples.spot, LaunchSpecification: { ...spec(), EbsOptimized: 'yes' } }),
      ],
      [
        'schema',
        'LaunchSpecification.Placement.Colour',
        () => ({ ...examples.spot, LaunchSpecification: { ...spec(), Placement: { Colour: 'red' } } }),
      ],
      ['region', 'Region', () => ({ ...examples.spot, Region: 'eu-west-1' })],
      [
        'key-name',
        'LaunchSpecification.KeyName',
        () => ({ ...examples.spot, LaunchSpecification: { ...spec(), KeyName: 'my-own-key' } }),
      ],
      [
        'key-name',
        'LaunchSpecification.KeyName',
        () => ({ ...examples.spot, LaunchSpecification: { ...spec(), KeyName: keyPairNameFor(h.config, 'other') } }),
      ],
      [
        'mandatory-keys',
        'LaunchSpecification.ImageId',
        () => ({ ...examples.spot, LaunchSpecification: { ...spec(), ImageId: undefined } }),
      ],
      [
        'mandatory-keys',
        'LaunchSpecification.KeyName',
        () => ({ ...examples.spot, LaunchSpecification: { ...spec(), KeyName: undefined } }),
      ],
      [
        'allowed-keys',
        'LaunchSpecification.InstanceInitiatedShutdownBehavior',
        () => ({ ...examples.spot, LaunchSpecification: { ...spec(), InstanceInitiatedShutdownBehavior: 'stop' } }),
      ],
      [
        'availability-zone',
        'LaunchSpecification.Placement.AvailabilityZone',
        () => ({ ...examples.spot, LaunchSpecification: { ...spec(), Placement: { AvailabilityZone: 'us-west-2a' } } }),
      ],
    ])('refuses a spot request breaking only %s (%s), before any EC2 mutation', async (rule, path, body) => {
      const before = ec2Resources();
      const res = await spot(body()).expect(400);
      expect(res.body.code).toBe('InputError');
      expect(res.body.details.reasons).toEqual([expect.objectContaining({ rule, path })]);
      expect(ec2Resources()).toEqual(before);
      expect(await h.get(SpotRequestRepository).list()).toEqual([]);
    });

    it.each([
      ['schema', 'RequestType', () => ({ ...examples.onDemand, RequestType: 'reserved' })],
      ['schema', 'SpotPrice', () => ({ ...examples.onDemand, SpotPrice: 0.5 })],
      ['schema', 'LaunchInfo', () => ({ ...examples.onDemand, LaunchInfo: undefined })],
      ['region', 'Region', () => ({ ...examples.onDemand, Region: 'mars-east-1' })],
      [
        'key-name',
        'LaunchInfo.KeyName',
        () => ({ ...examples.onDemand, LaunchInfo: { ...examples.onDemand.LaunchInfo, KeyName: 'x' } }),
      ],
      [
        'mandatory-keys',
        'LaunchInfo.InstanceType',
        () => ({ ...examples.onDemand, LaunchInfo: { ...examples.onDemand.LaunchInfo, InstanceType: undefined } }),
      ],
      [
        'allowed-keys',
        'LaunchInfo.MaxCount',
        () => ({ ...examples.onDemand, LaunchInfo: { ...examples.onDemand.LaunchInfo, MaxCount: 100 } }),
      ],
      [
        'availability-zone',
        'LaunchInfo.Placement.AvailabilityZone',
        () => ({
          ...examples.onDemand,
          LaunchInfo: { ...examples.onDemand.LaunchInfo, Placement: { AvailabilityZone: 'us-east-2a' } },
        }),
      ],
    ])('refuses an instance launch breaking only %s (%s), before any EC2 mutation', async (rule, path, body) => {
      const before = ec2Resources();
      const res = await run(body()).expect(400);
      expect(res.body.details.reasons).toEqual([expect.objectContaining({ rule, path })]);
      expect(ec2Resources()).toEqual(before);
      expect(await h.get(InstanceRepository).list()).toEqual([]);
    });

    it('names every broken rule at once, in the order of the SPEC', async () => {
      const res = await spot({
        ClientToken: '!',
        Region: 'us-east-1',
        SpotPrice: 1,
        LaunchSpecification: {
          InstanceType: 'm5.large',
          KeyName: 'wrong',
          Bogus: 1,
          Placement: { AvailabilityZone: 'eu-west-1a' },
        },
      }).expect(400);
      expect(res.body.details.reasons.map((r: { rule: string }) => r.rule)).toEqual([
        'schema',
        'key-name',
        'mandatory-keys',
        'allowed-keys',
        'availability-zone',
      ]);
      expect(res.body.message).toMatch(/KeyName must be/);
    });

    it('maps EC2 InvalidParameterValue on the DryRun to 400, launching nothing', async () => {
      const before = ec2Resources();
      const res = await spot({
        ...examples.spot,
        LaunchSpecification: { ...spec(), InstanceType: 'm5.gigantic' },
      }).expect(400);
      expect(res.body).toMatchObject({
        code: 'InputError',
        details: { ec2Code: 'InvalidParameterValue', reasons: [{ rule: 'dry-run' }] },
      });
      const arch = await run({
        ...examples.onDemand,
        LaunchInfo: { ...examples.onDemand.LaunchInfo, InstanceType: 'm6g.large' },
      }).expect(400);
      expect(arch.body.details.ec2Code).toBe('InvalidParameterValue');
      const image = await run({
        ...examples.onDemand,
        LaunchInfo: { ...examples.onDemand.LaunchInfo, ImageId: 'ami-00000000000000000' },
      }).expect(400);
      expect(image.body.details.ec2Code).toBe('InvalidAMIID.NotFound');
      expect(ec2Resources()).toEqual(before);
    });

    it('retries EC2 throttling until the launch goes through', async () => {
      const throttled = async () => (await h.get(Metrics).ec2Throttled.get()).values.reduce((n, v) => n + v.value, 0);
      const before = await throttled();
      h.sandbox.control.setFaults({ throttle: { fraction: 0.6, actions: ['RunInstances', 'RequestSpotInstances'] } });
      await run(examples.onDemand).expect(204);
      await spot(examples.spot).expect(204);
      h.sandbox.control.clearFaults();
      expect(await throttled()).toBeGreaterThan(before);
      expect(h.sandbox.control.state().regions['us-east-1'].instances).toHaveLength(1);
      expect(h.sandbox.control.state().regions['us-east-1'].spotRequests).toHaveLength(1);
    });
  });

  it('refuses a launch whose key pair was never imported, saying to ensure it', async () => {
    const res = await spot(examples.spot).expect(400);
    expect(res.body.details).toMatchObject({ ec2Code: 'InvalidKeyPair.NotFound' });
    expect(res.body.message).toMatch(/ensureKeyPair/);
  });
});
