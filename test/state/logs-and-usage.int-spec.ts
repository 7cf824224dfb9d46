import { EventLogRepository } from '../../src/state/event-log.repository';
import { InstanceRepository } from '../../src/state/instance.repository';
import { TerminationNoticeRepository } from '../../src/state/termination-notice.repository';
import { EbsTotals, UsageRepository } from '../../src/state/usage.repository';
import { makeInstance } from '../factories';
import { Tx } from '../../src/state/tx.service';
import { createStateHarness, StateHarness } from '../state-harness';

describe('event log, usage and termination notices', () => {
  let h: StateHarness;

  beforeAll(async () => (h = await createStateHarness()));
  beforeEach(() => h.truncate());
  afterAll(() => h.close());

  it('logs an event once: a duplicate delivery is a no-op', async () => {
    const log = h.get(EventLogRepository);
    const entry = { id: 'i-1', region: 'us-east-1', state: 'running', generated: new Date('2026-01-01T00:00:00Z') };
    expect(await log.log(entry)).toBe(true);
    expect(await log.log({ ...entry })).toBe(false);
    expect(await log.log({ ...entry, state: 'terminated' })).toBe(true);
    expect(await log.log({ ...entry, region: 'us-west-2' })).toBe(true);
    expect(await log.forInstance('us-east-1', 'i-1')).toHaveLength(2);
  });

  it('records AMI usage, keeping the latest use', async () => {
    const usage = h.get(UsageRepository);
    const early = new Date('2026-01-01T00:00:00Z');
    const late = new Date('2026-01-02T00:00:00Z');
    await usage.recordAmiUsage('us-east-1', ['ami-1', 'ami-2', 'ami-1'], late);
    await usage.recordAmiUsage('us-east-1', ['ami-1'], early);
    await usage.recordAmiUsage('us-west-2', ['ami-1'], early);
    expect(await usage.listAmiUsage()).toEqual([
      { region: 'us-east-1', id: 'ami-1', lastUsed: late },
      { region: 'us-east-1', id: 'ami-2', lastUsed: late },
      { region: 'us-west-2', id: 'ami-1', lastUsed: early },
    ]);
  });

  it("replaces one region's EBS usage without touching another's", async () => {
    const usage = h.get(UsageRepository);
    const replaceEbsUsage = (region: string, totals: EbsTotals[]) =>
      h.get(Tx).run((m) => usage.replaceEbsUsage(region, totals, m));
    await replaceEbsUsage('us-east-1', [{ volumeType: 'gp3', state: 'active', totalCount: 3, totalGb: 300 }]);
    await replaceEbsUsage('us-west-2', [{ volumeType: 'gp2', state: 'unused', totalCount: 1, totalGb: 8 }]);
    await replaceEbsUsage('us-east-1', [
      { volumeType: 'gp3', state: 'unused', totalCount: 2, totalGb: 5_000_000_000 },
      { volumeType: 'io2', state: 'active', totalCount: 1, totalGb: 100 },
    ]);
    const rows = (await usage.listEbsUsage()).map(({ touched: _t, ...r }) => r);
    expect(rows).toEqual([
      { region: 'us-east-1', volumeType: 'gp3', state: 'unused', totalCount: 2, totalGb: 5_000_000_000 },
      { region: 'us-east-1', volumeType: 'io2', state: 'active', totalCount: 1, totalGb: 100 },
      { region: 'us-west-2', volumeType: 'gp2', state: 'unused', totalCount: 1, totalGb: 8 },
    ]);
  });

  it('records termination notices for instances in state, lists them by worker type, drops them with the instance', async () => {
    const notices = h.get(TerminationNoticeRepository);
    const instances = h.get(InstanceRepository);
    const ours = makeInstance({ workerType: 'builder' });
    const other = makeInstance({ workerType: 'tester' });
    await instances.upsertMany([ours, other]);
    const notBefore = new Date('2026-01-01T00:02:00Z');

    expect(
      await notices.record({
        region: ours.region,
        instanceId: ours.id,
        kind: 'spot-interruption',
        action: 'terminate',
        notBefore,
      }),
    ).toBe(true);
    expect(
      await notices.record({
        region: ours.region,
        instanceId: ours.id,
        kind: 'spot-interruption',
        action: 'stop',
        notBefore,
      }),
    ).toBe(true);
    await notices.record({
      region: ours.region,
      instanceId: ours.id,
      kind: 'rebalance-recommendation',
      action: null,
      notBefore: null,
    });
    await notices.record({
      region: other.region,
      instanceId: other.id,
      kind: 'scheduled-change',
      action: null,
      notBefore: null,
    });
    expect(
      await notices.record({
        region: 'us-east-1',
        instanceId: 'i-unknown',
        kind: 'spot-interruption',
        action: null,
        notBefore: null,
      }),
    ).toBe(false);

    const listed = await notices.listForWorkerType('builder');
    expect(listed.map((n) => [n.kind, n.action])).toEqual(
      expect.arrayContaining([
        ['spot-interruption', 'stop'],
        ['rebalance-recommendation', null],
      ]),
    );
    expect(listed).toHaveLength(2);

    await instances.remove(ours.region, ours.id);
    expect(await notices.listForWorkerType('builder')).toEqual([]);
    expect(await notices.remove(other.region, other.id)).toBe(1);
    expect(await notices.listForWorkerType('tester')).toEqual([]);
  });
});
