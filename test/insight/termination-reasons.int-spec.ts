import { Ec2Gateway } from '../../src/ec2/ec2-gateway.service';
import { OurInstance } from '../../src/ec2/ec2-rows';
import { keyPairNameFor } from '../../src/ec2/naming';
import { TerminationReasons, TerminationReasonsError } from '../../src/insight/termination-reasons.service';
import { Tx } from '../../src/state/tx.service';
import { InstanceRepository } from '../../src/state/instance.repository';
import { TerminationRepository } from '../../src/state/termination.repository';
import { AppHarness, createAppHarness } from '../app-harness';
import { makeInstance } from '../factories';

const REGION = 'us-east-1';
const WT = 'reasons-wt';

/** SPEC §12: EC2's StateReason, fetched off the event path for instances that just ended. */
describe('termination reasons from EC2', () => {
  let h: AppHarness;
  let ec2: Ec2Gateway;
  let instances: InstanceRepository;
  let terminations: TerminationRepository;
  let reasons: TerminationReasons;

  beforeAll(async () => {
    h = await createAppHarness({ env: { AWS_TIMEOUT_MS: 500, AWS_MAX_ATTEMPTS: 2 }, sandbox: { clockSpeed: 0 } });
    ec2 = h.get(Ec2Gateway);
    instances = h.get(InstanceRepository);
    terminations = h.get(TerminationRepository);
    reasons = h.get(TerminationReasons);
  });
  afterAll(() => h.close());

  const launch = async (n: number): Promise<OurInstance> => {
    await ec2.ensureKeyPair(REGION, WT);
    const [i] = await ec2.runInstances(REGION, {
      workerType: WT,
      clientToken: `reasons-${n}`,
      spec: { ImageId: 'ami-0123456789abcdef0', InstanceType: 'm5.large', KeyName: keyPairNameFor(h.config, WT) },
    });
    await instances.upsert(i.row!);
    return i;
  };
  const byId = async () =>
    new Map((await terminations.list({ workerType: WT, limit: 100 })).terminations.map((t) => [t.instanceId, t]));

  it('gives each ended instance its reason; EC2 unreachable leaves them unresolved until a later run', async () => {
    const [shutdown, capacity, interrupted, byConsole, stillRunning] = await Promise.all(
      [1, 2, 3, 4, 5].map((n) => launch(n)),
    );
    const seeded = h.sandbox.control.seedInstances({ region: REGION, count: 1, keyName: keyPairNameFor(h.config, WT) });
    const stopper = seeded.instanceIds[0];
    await instances.upsert(makeInstance({ id: stopper, workerType: WT, state: 'running' }));
    h.sandbox.control.endInstance(shutdown.id, 'instance-initiated');
    h.sandbox.control.endInstance(capacity.id, 'insufficient-capacity');
    h.sandbox.control.endInstance(interrupted.id, 'interruption');
    h.sandbox.control.endInstance(stopper, 'instance-initiated'); // shutdown behaviour `stop`: it stops
    await ec2.terminateInstances(REGION, [byConsole]); // not through our API: EC2 says "user initiated"
    const gone = makeInstance({ id: 'i-0123456789abcdef9', workerType: WT });
    await instances.upsert(gone);
    const now = new Date();
    for (const id of [shutdown.id, capacity.id, interrupted.id, byConsole.id, stillRunning.id, stopper]) {
      await h
        .get(Tx)
        .run((m) => instances.applyEvent(REGION, id, id === stopper ? 'stopped' : 'shutting-down', now, m));
    }
    // Ended hours ago: EC2 has forgotten it.
    await h
      .get(Tx)
      .run((m) => instances.removeWithCause(REGION, [gone.id], { at: new Date(Date.now() - 3 * 3600_000) }, m));

    h.sandbox.control.setFaults({ ec2: { outage: 'refuse' } });
    await h.sandbox.control.settled();
    await expect(reasons.runOnce()).rejects.toThrow(TerminationReasonsError);
    expect([...(await byId()).values()].every((t) => t.reason === 'unresolved')).toBe(true);
    h.sandbox.control.clearFaults();
    await h.sandbox.control.settled();

    const outcome = await reasons.runOnce();
    expect(outcome.regions).toEqual([{ region: REGION, resolved: 6, unknown: 1, notEnded: 1 }]);
    const t = await byId();
    expect(t.get(shutdown.id)).toMatchObject({
      reason: 'instance-initiated',
      code: 'Client.InstanceInitiatedShutdown',
    });
    expect(t.get(capacity.id)).toMatchObject({
      reason: 'insufficient-capacity',
      code: 'Server.InsufficientInstanceCapacity',
    });
    expect(t.get(interrupted.id)).toMatchObject({
      reason: 'spot-interruption',
      code: 'Server.SpotInstanceTermination',
    });
    expect(t.get(byConsole.id)).toMatchObject({ reason: 'user-initiated', code: 'Client.UserInitiatedShutdown' });
    expect(t.get(stopper)).toMatchObject({ reason: 'instance-initiated', code: 'Client.InstanceInitiatedShutdown' });
    expect(t.get(gone.id)).toMatchObject({ reason: 'unknown', code: null });
    // Removed from state while EC2 still runs it: not a termination.
    expect(t.has(stillRunning.id)).toBe(false);
    expect(
      h.sandbox.control.state({ region: REGION }).regions[REGION].instances?.find((i) => i.instanceId === stopper),
    ).toMatchObject({ state: 'stopping' });
  });
});
