import { DescribeInstancesCommand, DescribeSpotInstanceRequestsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { callControl, drain, failure, Harness, OTHER_REGION, queueWithRule, REGION, startHarness } from './support';

describe('sandbox control API over HTTP', () => {
  let h: Harness;
  let ec2: EC2Client;
  const call = (method: string, path: string, body?: unknown) => callControl(h, method, path, body);

  beforeAll(async () => {
    h = await startHarness({ startTime: Date.UTC(2025, 5, 1, 12) });
    ec2 = h.ec2();
  });
  afterAll(() => h.stop());
  beforeEach(async () => {
    expect((await call('POST', '/reset', { purgeQueues: true })).status).toBe(200);
  });

  it('should seed instances of any age, tagged or not, ours or not, and show them through DescribeInstances', async () => {
    const ours = await call('POST', '/instances', {
      region: REGION,
      count: 3,
      keyName: 'mgr:web:abc1234',
      instanceType: 'c5.large',
      ageSeconds: 7 * 24 * 3600,
      tags: { Owner: 'mgr', WorkerType: 'mgr/web' },
    });
    expect(ours.status).toBe(200);
    expect(ours.body.instanceIds).toHaveLength(3);
    const theirs = await call('POST', '/instances', {
      region: REGION,
      count: 2,
      keyName: 'someone-else:db:fffffff',
      state: 'pending',
      launchTime: '2025-05-01T00:00:00Z',
      spot: true,
    });
    expect(theirs.status).toBe(200);

    const res = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'key-name', Values: ['mgr:*'] }] }));
    const instances = res.Reservations!.flatMap((r) => r.Instances!);
    expect(instances.map((i) => i.InstanceId).sort()).toEqual([...ours.body.instanceIds].sort());
    expect(instances[0]).toMatchObject({
      State: { Name: 'running' },
      InstanceType: 'c5.large',
      LaunchTime: new Date(Date.UTC(2025, 4, 25, 12)),
      Tags: [
        { Key: 'Owner', Value: 'mgr' },
        { Key: 'WorkerType', Value: 'mgr/web' },
      ],
    });
    const spot = await ec2.send(new DescribeSpotInstanceRequestsCommand({}));
    expect(spot.SpotInstanceRequests!.map((r) => [r.State, r.LaunchSpecification!.KeyName]).sort()).toEqual([
      ['active', 'someone-else:db:fffffff'],
      ['active', 'someone-else:db:fffffff'],
    ]);
  });

  it('should seed spot requests frozen in a state unless asked to evaluate them', async () => {
    const seeded = await call('POST', '/spot-requests', {
      region: OTHER_REGION,
      count: 2,
      keyName: 'mgr:web:abc1234',
      state: 'open',
      statusCode: 'price-too-low',
      ageSeconds: 3600,
    });
    expect(seeded.body.spotInstanceRequestIds).toHaveLength(2);
    await h.advance(600);
    const requests = await h.ec2(OTHER_REGION).send(new DescribeSpotInstanceRequestsCommand({}));
    expect(requests.SpotInstanceRequests!.map((r) => [r.State, r.Status!.Code])).toEqual([
      ['open', 'price-too-low'],
      ['open', 'price-too-low'],
    ]);
    const evaluated = await call('POST', '/spot-requests', {
      region: OTHER_REGION,
      count: 1,
      spotPrice: '5',
      evaluate: true,
    });
    await h.advance(2);
    const [fulfilled] = (
      await h
        .ec2(OTHER_REGION)
        .send(
          new DescribeSpotInstanceRequestsCommand({ SpotInstanceRequestIds: evaluated.body.spotInstanceRequestIds }),
        )
    ).SpotInstanceRequests!;
    expect(fulfilled.State).toBe('active');
  });

  it('should read back the whole state, per region or as a summary', async () => {
    await call('POST', '/instances', { region: REGION, count: 2 });
    await call('POST', '/instances', { region: OTHER_REGION, count: 1, state: 'terminated' });
    const full = await call('GET', '/state');
    expect(Object.keys(full.body.regions)).toEqual([REGION, OTHER_REGION]);
    expect(full.body.regions[REGION].instances).toHaveLength(2);
    expect(full.body.regions[REGION].volumes).toHaveLength(2);
    expect(full.body.regions[REGION].zones).toHaveLength(3);
    expect(full.body.regions[OTHER_REGION].counts.instances.terminated).toBe(1);
    expect(full.body.clock).toMatchObject({ speed: 0 });

    await h.ec2(OTHER_REGION).send(new DescribeInstancesCommand({}));
    const one = await call('GET', `/state?region=${OTHER_REGION}&limit=1`);
    expect(one.body.regions[OTHER_REGION].calls).toEqual({ DescribeInstances: 1 });
    expect(Object.keys(one.body.regions)).toEqual([OTHER_REGION]);
    const summary = await call('GET', '/state?summary=true');
    expect(summary.body.regions[REGION]).toEqual({
      counts: {
        instances: { pending: 0, running: 2, 'shutting-down': 0, terminated: 0, stopping: 0, stopped: 0 },
        spotRequests: {},
        volumes: 2,
        keyPairs: 0,
        images: 2,
        launchTemplates: 0,
      },
      calls: {},
    });
    const limited = await call('GET', `/state?region=${REGION}&limit=1`);
    expect(limited.body.regions[REGION]).toMatchObject({ truncated: true });
    expect(limited.body.regions[REGION].instances).toHaveLength(1);
  });

  it('should set, advance and speed the clock', async () => {
    const set = await call('POST', '/clock', { time: '2030-01-01T00:00:00Z' });
    expect(set.body).toMatchObject({ now: '2030-01-01T00:00:00.000Z', speed: 0 });
    const advanced = await call('POST', '/clock', { advanceSeconds: 90 });
    expect(advanced.body.now).toBe('2030-01-01T00:01:30.000Z');
    const fast = await call('POST', '/clock', { speed: 1000 });
    expect(fast.body.speed).toBe(1000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const later = await call('GET', '/clock');
    expect(later.body.nowMs).toBeGreaterThan(advanced.body.nowMs);
    await call('POST', '/clock', { speed: 0 });
  });

  it('should set and read market prices and pool capacity', async () => {
    expect(
      (await call('POST', '/prices', { region: REGION, zone: 'us-east-1a', instanceType: 'm5.large', price: 0.42 }))
        .status,
    ).toBe(200);
    expect((await call('GET', '/prices?region=us-east-1&zone=us-east-1a&instanceType=m5.large')).body.price).toBe(0.42);
    await call('POST', '/prices', { region: REGION, zone: 'us-east-1a', instanceType: 'm5.large', price: null });
    expect((await call('GET', '/prices?region=us-east-1&zone=us-east-1a&instanceType=m5.large')).body.price).not.toBe(
      0.42,
    );
    expect((await call('POST', '/capacity', { region: REGION, instanceType: 'm5.large', capacity: 0 })).status).toBe(
      200,
    );
    expect((await call('POST', '/capacity', { region: REGION, instanceType: 'm5.large', capacity: -1 })).status).toBe(
      400,
    );
  });

  it('should interrupt an instance over HTTP and manage faults and events', async () => {
    const queue = await queueWithRule(h, REGION, 'control-events');
    const [id] = (await call('POST', '/instances', { region: REGION, count: 1, spot: true })).body
      .instanceIds as string[];
    const interrupted = await call('POST', `/instances/${id}/interrupt`, {});
    expect(interrupted.body).toMatchObject({ instanceId: id });
    expect((await call('POST', `/instances/${id}/interrupt`, { kind: 'rebalance' })).status).toBe(200);
    expect((await call('POST', '/events/flush')).status).toBe(200);
    const events = await drain(h, REGION, queue);
    expect(events.map((e) => e['detail-type'])).toEqual([
      'EC2 Spot Instance Interruption Warning',
      'EC2 Instance Rebalance Recommendation',
    ]);
    expect((await call('GET', '/events')).body.stats).toMatchObject({ emitted: 2, delivered: 2 });

    const faults = await call('POST', '/faults', { throttle: { fraction: 1 }, events: { delaySeconds: 3 } });
    expect(faults.body).toMatchObject({
      throttle: { fraction: 1, actions: [] },
      events: { delaySeconds: 3, duplicateFraction: 0 },
    });
    expect(await failure(ec2.send(new DescribeInstancesCommand({})))).toMatchObject({ name: 'RequestLimitExceeded' });
    expect((await call('GET', '/faults')).body.throttle.fraction).toBe(1);
    expect((await call('DELETE', '/faults')).body.throttle.fraction).toBe(0);
    await ec2.send(new DescribeInstancesCommand({}));
  });

  it('should answer bad control requests with 400, 404 and 405', async () => {
    expect((await call('POST', '/instances', { count: 1 })).status).toBe(400);
    expect((await call('POST', '/instances', { region: 'mars-1', count: 1 })).status).toBe(404);
    expect((await call('POST', '/instances', { region: REGION, count: 1, state: 'flying' })).status).toBe(400);
    expect((await call('POST', '/instances/i-0123456789abcdef0/interrupt', {})).status).toBe(404);
    expect((await call('POST', '/faults', { throttle: { fraction: 2 } })).status).toBe(400);
    expect((await call('GET', '/nowhere')).status).toBe(404);
    expect((await call('DELETE', '/clock')).status).toBe(405);
    const badJson = await fetch(`${h.sandbox.endpoints.control}/reset`, { method: 'POST', body: '{' });
    expect(badJson.status).toBe(400);
  });
});
