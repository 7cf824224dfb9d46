import { DescribeInstancesCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { AMI, drain, Harness, queueWithRule, REGION, startHarness } from './support';

describe('sandbox clock running on its own', () => {
  let h: Harness;

  beforeAll(async () => {
    // 1000 simulated seconds per real second: a 10 s pending phase takes 10 ms of real time.
    h = await startHarness({ clockSpeed: 1000, pendingToRunningSeconds: 10 });
  });
  afterAll(() => h.stop());

  it('should run lifecycles from real timers when the clock is not frozen', async () => {
    const queue = await queueWithRule(h, REGION, 'realtime', { source: ['aws.ec2'] });
    const ec2 = h.ec2();
    const id = (await ec2.send(new RunInstancesCommand({ ImageId: AMI, MinCount: 1, MaxCount: 1 }))).Instances![0]
      .InstanceId!;
    let state: string | undefined;
    for (let attempt = 0; attempt < 200 && state !== 'running'; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      const res = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
      state = res.Reservations![0].Instances![0].State!.Name;
    }
    expect(state).toBe('running');
    expect((await drain(h, REGION, queue)).map((e) => e.detail.state)).toEqual(['pending', 'running']);
  });
});
