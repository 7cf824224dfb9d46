import {
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeSpotInstanceRequestsCommand,
  EC2Client,
  RequestSpotInstancesCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { AMI, drain, failure, Harness, queueWithRule, REGION, startHarness } from './support';

describe('sandbox fault injection', () => {
  let h: Harness;
  let ec2: EC2Client;
  let queue: string;

  beforeAll(async () => {
    h = await startHarness({ pendingToRunningSeconds: 10 });
    ec2 = h.ec2();
    queue = await queueWithRule(h, REGION, 'faults', { source: ['aws.ec2'] });
  });
  afterAll(() => h.stop());
  beforeEach(() => h.sandbox.control.reset({ purgeQueues: true }));

  const seedPending = (count: number) =>
    h.sandbox.control.seedInstances({ region: REGION, count, state: 'pending', emitEvents: true }).instanceIds;

  it('should throttle a fraction of EC2 calls with RequestLimitExceeded (503), optionally only some actions', async () => {
    h.sandbox.control.setFaults({ throttle: { fraction: 1 } });
    expect(await failure(ec2.send(new DescribeInstancesCommand({})))).toMatchObject({
      name: 'RequestLimitExceeded',
      status: 503,
    });
    h.sandbox.control.setFaults({ throttle: { actions: ['RunInstances'] } });
    await ec2.send(new DescribeInstancesCommand({}));
    expect(await failure(ec2.send(new RunInstancesCommand({ ImageId: AMI, MinCount: 1, MaxCount: 1 })))).toMatchObject({
      name: 'RequestLimitExceeded',
    });

    h.sandbox.control.setFaults({ throttle: { fraction: 0.5, actions: [] } });
    let throttled = 0;
    for (let i = 0; i < 40; i++) {
      try {
        await ec2.send(new DescribeKeyPairsCommand({}));
      } catch (err) {
        expect((err as Error).name).toBe('RequestLimitExceeded');
        throttled++;
      }
    }
    expect(throttled).toBeGreaterThan(5);
    expect(throttled).toBeLessThan(35);

    h.sandbox.control.clearFaults();
    await ec2.send(new DescribeKeyPairsCommand({}));
  });

  it('should let DescribeInstances lag behind events: NotFound for a new instance until it is N seconds old', async () => {
    h.sandbox.control.setFaults({ describeInstancesLagSeconds: 30 });
    const [id] = seedPending(1);
    const [event] = await drain(h, REGION, queue);
    expect(event.detail).toEqual({ 'instance-id': id, state: 'pending' });
    expect(await failure(ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] })))).toMatchObject({
      name: 'InvalidInstanceID.NotFound',
    });
    expect((await ec2.send(new DescribeInstancesCommand({}))).Reservations).toEqual([]);
    await h.advance(30);
    const found = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    expect(found.Reservations![0].Instances![0].State!.Name).toBe('running');
  });

  it('should let DescribeSpotInstanceRequests lag: NotFound by id, left out of listings until N seconds old', async () => {
    const {
      spotInstanceRequestIds: [older],
    } = h.sandbox.control.seedSpotRequests({ region: REGION, count: 1, ageSeconds: 3600 });
    await h.advance(15);
    const made = await ec2.send(
      new RequestSpotInstancesCommand({ LaunchSpecification: { ImageId: AMI, InstanceType: 'm5.large' } }),
    );
    const newer = made.SpotInstanceRequests![0].SpotInstanceRequestId!;
    h.sandbox.control.setFaults({ describeSpotRequestsLagSeconds: 20 });
    const listed = async (filters = [{ Name: 'state', Values: ['open', 'active'] }]) =>
      (await ec2.send(new DescribeSpotInstanceRequestsCommand({ Filters: filters }))).SpotInstanceRequests!.map(
        (r) => r.SpotInstanceRequestId,
      );

    // The seeded request is 3600 s old by its create time but only 15 s in the sandbox: the lag follows the latter.
    expect(await listed()).toEqual([]);
    await h.advance(5);
    expect(await listed()).toEqual([older]);
    expect(
      await failure(ec2.send(new DescribeSpotInstanceRequestsCommand({ SpotInstanceRequestIds: [newer] }))),
    ).toMatchObject({
      name: 'InvalidSpotInstanceRequestID.NotFound',
    });
    await h.advance(15);
    expect(await listed()).toEqual([older, newer]);
    const found = await ec2.send(new DescribeSpotInstanceRequestsCommand({ SpotInstanceRequestIds: [newer] }));
    expect(found.SpotInstanceRequests![0].State).toBe('active');
  });

  it('should delay events by simulated seconds', async () => {
    h.sandbox.control.setFaults({ events: { delaySeconds: 60 } });
    const [id] = seedPending(1);
    expect(await drain(h, REGION, queue)).toEqual([]);
    await h.advance(59);
    // the running transition (at 10 s) is delayed too
    expect(await drain(h, REGION, queue)).toEqual([]);
    await h.advance(1);
    expect((await drain(h, REGION, queue)).map((e) => e.detail)).toEqual([{ 'instance-id': id, state: 'pending' }]);
    await h.advance(10);
    expect((await drain(h, REGION, queue)).map((e) => e.detail.state)).toEqual(['running']);
  });

  it('should duplicate events with the same event id', async () => {
    h.sandbox.control.setFaults({ events: { duplicateFraction: 1 } });
    seedPending(1);
    const received = await drain(h, REGION, queue);
    expect(received).toHaveLength(2);
    expect(received[0]).toEqual(received[1]);
    expect(h.sandbox.control.deliveries().stats.duplicated).toBe(1);
  });

  it('should reorder events: a held event is delivered after its successor', async () => {
    h.sandbox.control.setFaults({ events: { reorderFraction: 1, reorderWindowSeconds: 15 } });
    const [id] = seedPending(1);
    await h.advance(10);
    const received = await drain(h, REGION, queue);
    expect(received.map((e) => [e.detail['instance-id'], e.detail.state])).toEqual([
      [id, 'running'],
      [id, 'pending'],
    ]);
    expect(Date.parse(received[0].time)).toBeGreaterThan(Date.parse(received[1].time));
  });

  it('should release a held event after a few seconds when no successor comes', async () => {
    h.sandbox.control.setFaults({ events: { reorderFraction: 1 } });
    const [id] = seedPending(1);
    expect(await drain(h, REGION, queue)).toEqual([]);
    await h.advance(5);
    expect((await drain(h, REGION, queue)).map((e) => e.detail)).toEqual([{ 'instance-id': id, state: 'pending' }]);
  });
});
