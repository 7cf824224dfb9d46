import { CreateLaunchTemplateCommand, EC2Client, ImportKeyPairCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import type { InitializeHandlerOptions, InitializeMiddleware } from '@smithy/types';
import { Ec2Clients } from '../../src/ec2/ec2-clients.service';
import { Ec2Gateway } from '../../src/ec2/ec2-gateway.service';
import { Ec2FleetGateway } from '../../src/ec2/fleet-gateway.service';
import { LaunchTemplateRepository } from '../../src/state/launch-template.repository';
import { WorkerTypePolicyRepository } from '../../src/state/worker-type-policy.repository';
import { keyPairNameFor } from '../../src/ec2/naming';
import { HousekeepingService } from '../../src/housekeeping/housekeeping.service';
import { HousekeepingRepository } from '../../src/state/housekeeping.repository';
import { InstanceRepository } from '../../src/state/instance.repository';
import { SpotRequestRepository } from '../../src/state/spot-request.repository';
import { Tx } from '../../src/state/tx.service';
import { UsageRepository } from '../../src/state/usage.repository';
import { AppHarness, createAppHarness } from '../app-harness';
import { makeInstance, makeSpotRequest } from '../factories';

const REGION = 'us-east-1';
const OTHER_REGION = 'us-west-2';
const WT = 'hk-wt';
const HOURS = 3600;
const hoursAgo = (n: number): Date => new Date(Date.now() - n * HOURS * 1000);

describe('housekeeping (SPEC §6)', () => {
  let h: AppHarness;
  let hk: HousekeepingService;
  let instances: InstanceRepository;
  const applyEvent = (region: string, id: string, state: string, time: Date) =>
    h.get(Tx).run((m) => instances.applyEvent(region, id, state, time, m));
  let requests: SpotRequestRepository;
  let key: string;

  beforeAll(async () => {
    h = await createAppHarness({ env: { MAX_INSTANCE_LIFE_HOURS: 96 }, sandbox: { clockSpeed: 0, seed: 3 } });
    hk = h.get(HousekeepingService);
    instances = h.get(InstanceRepository);
    requests = h.get(SpotRequestRepository);
    key = keyPairNameFor(h.config, WT);
  });
  afterAll(() => h.close());
  beforeEach(() => h.reset());

  const sandboxInstances = (region = REGION) =>
    h.sandbox.control.state({ region, limit: 100000 }).regions[region].instances ?? [];
  const sandboxRequests = (region = REGION) =>
    h.sandbox.control.state({ region, limit: 100000 }).regions[region].spotRequests ?? [];
  const sandboxVolumes = (region = REGION) =>
    h.sandbox.control.state({ region, limit: 100000 }).regions[region].volumes ?? [];
  const tagsOf = (wt: string) => ({ Name: wt, Owner: h.config.managerId, WorkerType: `${h.config.managerId}/${wt}` });

  it('should terminate and forget instances past their maximum lifetime, tagging them too', async () => {
    const { instanceIds: zombies } = h.sandbox.control.seedInstances({
      region: REGION,
      count: 3,
      keyName: key,
      ageSeconds: 100 * HOURS,
    });
    const { instanceIds: young } = h.sandbox.control.seedInstances({
      region: REGION,
      count: 2,
      keyName: key,
      ageSeconds: 90 * HOURS,
    });
    await instances.upsertMany(
      zombies.map((id) =>
        makeInstance({ id, region: REGION, workerType: WT, launched: new Date(Date.now() - 100 * HOURS * 1000) }),
      ),
    );

    const outcome = await hk.sweepRegion(REGION);

    expect(outcome).toMatchObject({ zombiesKilled: 3, missingInstances: 2, error: null });
    const byId = new Map(sandboxInstances().map((i) => [i.instanceId, i]));
    for (const id of zombies) {
      expect(byId.get(id)).toMatchObject({ state: 'shutting-down', tags: tagsOf(WT) });
    }
    for (const id of young) expect(byId.get(id)).toMatchObject({ state: 'running' });
    expect((await instances.list({ region: REGION })).map((i) => i.id).sort()).toEqual([...young].sort());
  });

  it("should apply a worker type's own lifetime, and never kill an instance tagged do-not-disrupt", async () => {
    const short = 'hk-short';
    await h.get(WorkerTypePolicyRepository).put(short, {
      maxInstances: null,
      maxInstanceLifeHours: 2,
      allowedInstanceTypes: null,
    });
    const seed = (wt: string, hours: number, tags?: Record<string, string>) =>
      h.sandbox.control.seedInstances({
        region: REGION,
        count: 1,
        keyName: keyPairNameFor(h.config, wt),
        ageSeconds: hours * HOURS,
        tags,
      }).instanceIds[0];
    const shortOld = seed(short, 3);
    const shortYoung = seed(short, 1);
    const globalAge = seed(WT, 3);
    const spared = seed(WT, 100, { 'ec2-manager:do-not-disrupt': 'true' });
    const sparedShort = seed(short, 3, { 'ec2-manager:do-not-disrupt': 'true' });
    const notSpared = seed(WT, 100, { 'ec2-manager:do-not-disrupt': 'false' });

    const outcome = await hk.sweepRegion(REGION);

    expect(outcome).toMatchObject({ zombiesKilled: 2, error: null });
    const state = new Map(sandboxInstances().map((i) => [i.instanceId, i.state]));
    expect(Object.fromEntries([shortOld, notSpared].map((id) => [id, state.get(id)]))).toEqual({
      [shortOld]: 'shutting-down',
      [notSpared]: 'shutting-down',
    });
    for (const id of [shortYoung, globalAge, spared, sparedShort]) expect(state.get(id)).toBe('running');
    // Spared, but still ours and on the bill: in state like any live instance.
    expect((await instances.list({ region: REGION })).map((i) => i.id).sort()).toEqual(
      [shortYoung, globalAge, spared, sparedShort].sort(),
    );
    // An explicit terminate still works on it.
    await h.get(Ec2Gateway).terminateInstances(REGION, [{ id: spared, workerType: WT }]);
    expect(sandboxInstances().find((i) => i.instanceId === spared)?.state).toBe('shutting-down');
  });

  it('should terminate instances of ours that stopped themselves, tagged first, and no look-alike (SPEC §6.3b)', async () => {
    const mgr = h.config.managerId;
    // Two stopped a while ago, one stopping itself now (the clock is left alone: later tests rely on it).
    const ours = [
      ...h.sandbox.control.seedInstances({ region: REGION, count: 2, keyName: key, state: 'stopped' }).instanceIds,
      ...h.sandbox.control.seedInstances({ region: REGION, count: 1, keyName: key }).instanceIds,
    ];
    h.sandbox.control.endInstance(ours[2], 'instance-initiated');
    const [spared] = h.sandbox.control.seedInstances({
      region: REGION,
      count: 1,
      keyName: key,
      state: 'stopped',
      tags: { 'ec2-manager:do-not-disrupt': 'true' },
    }).instanceIds;
    const lookAlikes = [`${mgr}:${WT}:other:team`, `${mgr}:${WT}:`].flatMap(
      (keyName) => h.sandbox.control.seedInstances({ region: REGION, count: 1, keyName, state: 'stopped' }).instanceIds,
    );
    // A row the stop event has not removed yet goes too.
    await instances.upsert(makeInstance({ id: ours[0], region: REGION, workerType: WT, state: 'running' }));
    const states = () => new Map(sandboxInstances().map((i) => [i.instanceId, i]));
    expect(ours.map((id) => states().get(id)?.state)).toEqual(['stopped', 'stopped', 'stopping']);

    const outcome = await hk.sweepRegion(REGION);

    expect(outcome).toMatchObject({ stoppedKilled: 3, missingInstances: 0, error: null });
    for (const id of ours) expect(states().get(id)).toMatchObject({ state: 'shutting-down', tags: tagsOf(WT) });
    for (const id of lookAlikes) expect(states().get(id)).toMatchObject({ state: 'stopped', tags: {} });
    expect(states().get(spared)?.state).toBe('stopped');
    expect(await instances.list({ region: REGION })).toEqual([]);
    expect(await h.get(HousekeepingRepository).listOutcomes()).toEqual([
      expect.objectContaining({ region: REGION, stoppedKilled: 3 }),
    ]);
    // Each is recorded as ended by us for having stopped (SPEC §12), whether or not it was ever in state.
    const recorded: { instance_id: string; reason: string }[] = await h.dataSource.query(
      `SELECT instance_id, reason FROM terminations WHERE region = $1 ORDER BY instance_id`,
      [REGION],
    );
    expect(recorded).toEqual([...ours].sort().map((id) => ({ instance_id: id, reason: 'stopped' })));
  });

  it('should delete our launch templates unused for a day, and never one that only looks like ours', async () => {
    const fleets = h.get(Ec2FleetGateway);
    const used = h.get(LaunchTemplateRepository);
    const spec = (ImageId: string) => ({ ImageId, KeyName: key });
    const stale = await fleets.ensureLaunchTemplate(REGION, WT, spec('ami-0123456789abcdef0'));
    const fresh = await fleets.ensureLaunchTemplate(REGION, WT, spec('ami-0123456789abcdef1'));
    for (const t of [stale, fresh])
      await used.recordUse({ region: REGION, name: t.name, templateId: t.id, workerType: WT });
    // Named exactly like ours, but it launches with another team's key pair.
    const client = new EC2Client({
      region: REGION,
      endpoint: h.sandbox.endpoints.ec2,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const foreign = await client.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: `${h.config.managerId}/${WT}/0123456789abcdef`,
        LaunchTemplateData: { ImageId: 'ami-0123456789abcdef0', KeyName: `other-team:${WT}:abcdef0` },
      }),
    );
    client.destroy();
    const foreignId = foreign.LaunchTemplate!.LaunchTemplateId!;
    await used.recordUse({ region: REGION, name: 'mixed-up', templateId: foreignId, workerType: WT });
    await h.dataSource.query(
      `UPDATE launch_templates SET last_used = now() - interval '25 hours' WHERE template_id = ANY($1)`,
      [[stale.id, foreignId]],
    );

    expect(await hk.sweepRegion(REGION)).toMatchObject({ error: null });

    const left = (h.sandbox.control.state({ region: REGION }).regions[REGION].launchTemplates ?? []).map(
      (t) => t.launchTemplateId,
    );
    expect(left.sort()).toEqual([fresh.id, foreignId].sort());
    expect((await used.lastUsed(REGION)).has(stale.id)).toBe(false);
    // Used again: found by its name, made again where it was deleted.
    const again = await fleets.ensureLaunchTemplate(REGION, WT, spec('ami-0123456789abcdef0'));
    expect(again).toMatchObject({ name: stale.name, created: true });
  });

  it('should add what EC2 has and state lacks, and remove what state has and EC2 lacks', async () => {
    const { instanceIds } = h.sandbox.control.seedInstances({
      region: REGION,
      count: 5,
      keyName: key,
      ageSeconds: 600,
    });
    const { spotInstanceRequestIds } = h.sandbox.control.seedSpotRequests({ region: REGION, count: 4, keyName: key });
    const known = makeInstance({ id: instanceIds[0], region: REGION, workerType: WT });
    await instances.upsert(known);
    const ghostInstances = [
      makeInstance({ region: REGION, launched: hoursAgo(2) }),
      makeInstance({ region: REGION, launched: hoursAgo(2) }),
    ];
    const ghostRequest = makeSpotRequest({ region: REGION, created: hoursAgo(2) });
    const otherRegionRow = makeInstance({ region: OTHER_REGION });
    await instances.upsertMany([...ghostInstances, otherRegionRow]);
    await requests.upsert(ghostRequest);

    const outcome = await hk.sweepRegion(REGION);

    expect(outcome).toMatchObject({
      missingInstances: 4,
      extraneousInstances: 2,
      missingSpotRequests: 4,
      extraneousSpotRequests: 1,
      zombiesKilled: 0,
    });
    const inState = await instances.list({ region: REGION });
    expect(inState.map((i) => i.id).sort()).toEqual([...instanceIds].sort());
    const seeded = new Map(sandboxInstances().map((i) => [i.instanceId, i]));
    // Rows already in state are left as the events made them; the added ones are EC2's picture.
    for (const row of inState.filter((i) => i.id !== known.id)) {
      const ec2 = seeded.get(row.id)!;
      expect(row).toMatchObject({
        workerType: WT,
        state: 'running',
        az: ec2.zone,
        instanceType: ec2.instanceType,
        imageId: ec2.imageId,
      });
    }
    expect((await requests.list({ region: REGION })).map((r) => r.id).sort()).toEqual(
      [...spotInstanceRequestIds].sort(),
    );
    expect(await instances.find(OTHER_REGION, otherRegionRow.id)).not.toBeNull();
    expect(await h.get(HousekeepingRepository).listOutcomes()).toEqual([
      expect.objectContaining({ region: REGION, missingInstances: 4, extraneousInstances: 2, error: null }),
    ]);
  });

  it('should leave alone a row written while the sweep was running', async () => {
    const raced = makeInstance({ region: REGION, workerType: WT });
    // Write the row in the middle of the sweep: when it asks EC2 for the region's volumes.
    onCommand(h.get(Ec2Clients).client(REGION), 'DescribeVolumesCommand', () => instances.upsert(raced));
    const stale = makeInstance({ region: REGION, launched: hoursAgo(1) });
    await instances.upsert(stale);

    const outcome = await hk.sweepRegion(REGION);

    expect(outcome.extraneousInstances).toBe(1);
    expect(await instances.find(REGION, raced.id)).not.toBeNull();
    expect(await instances.find(REGION, stale.id)).toBeNull();
  });

  it('should not bring back an instance whose end was already logged from an event', async () => {
    const { instanceIds } = h.sandbox.control.seedInstances({ region: REGION, count: 2, keyName: key });
    await h.dataSource.query(
      `INSERT INTO cloudwatch_log (id, region, state, generated) VALUES ($1, $2, 'shutting-down', now())`,
      [instanceIds[0], REGION],
    );
    const outcome = await hk.sweepRegion(REGION);
    expect(outcome.missingInstances).toBe(1);
    expect((await instances.list({ region: REGION })).map((i) => i.id)).toEqual([instanceIds[1]]);
  });

  it("should keep a row EC2's describe does not list yet while it is younger than the grace, remove it after", async () => {
    h.sandbox.control.setFaults({ describeInstancesLagSeconds: 90 });
    const ec2 = h.get(Ec2Clients).client(REGION);
    await ec2.send(new ImportKeyPairCommand({ KeyName: key, PublicKeyMaterial: Buffer.from(h.config.instancePubkey) }));
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-0123456789abcdef0',
        InstanceType: 'm5.large',
        MinCount: 1,
        MaxCount: 1,
        KeyName: key,
      }),
    );
    const launched = run.Instances![0];
    // As the launch endpoint records it.
    await instances.upsert(
      makeInstance({
        id: launched.InstanceId!,
        region: REGION,
        workerType: WT,
        launched: launched.LaunchTime!,
        lastEvent: launched.LaunchTime!,
      }),
    );
    const youngRequest = makeSpotRequest({ region: REGION, created: new Date(Date.now() - 60_000) });
    const oldRow = makeInstance({ region: REGION, launched: new Date(Date.now() - 601_000) });
    const oldRequest = makeSpotRequest({ region: REGION, created: new Date(Date.now() - 601_000) });
    await instances.upsert(oldRow);
    await requests.upsertMany([youngRequest, oldRequest]);

    const outcome = await hk.sweepRegion(REGION);

    expect(outcome).toMatchObject({ missingInstances: 0, extraneousInstances: 1, extraneousSpotRequests: 1 });
    expect((await instances.list({ region: REGION })).map((i) => i.id)).toEqual([launched.InstanceId]);
    expect((await requests.list({ region: REGION })).map((r) => r.id)).toEqual([youngRequest.id]);
  });

  it('should correct a row whose state lags EC2, and no event older than the sweep undoes it', async () => {
    const { instanceIds } = h.sandbox.control.seedInstances({
      region: REGION,
      count: 3,
      keyName: key,
      state: 'running',
    });
    const [lagging, raced, current] = instanceIds;
    const eventTime = new Date(Date.now() - 30_000);
    for (const id of instanceIds) {
      await instances.upsert(
        makeInstance({ id, region: REGION, workerType: WT, state: 'pending', lastEvent: eventTime }),
      );
    }
    await applyEvent(REGION, current, 'running', eventTime);
    // `raced` gets its running event while the sweep is describing: the sweep leaves it as the event made it.
    const racedEvent = new Date(eventTime.getTime() + 1000);
    onCommand(h.get(Ec2Clients).client(REGION), 'DescribeVolumesCommand', async () => {
      await applyEvent(REGION, raced, 'running', racedEvent);
    });
    const before = new Date();

    const outcome = await hk.sweepRegion(REGION);

    expect(outcome).toMatchObject({ correctedInstances: 1, missingInstances: 0, extraneousInstances: 0, error: null });
    const row = (await instances.find(REGION, lagging))!;
    expect(row.state).toBe('running');
    expect(row.lastEvent.getTime()).toBeGreaterThanOrEqual(before.getTime() - 1000);
    expect(row.lastEvent.getTime()).toBeLessThanOrEqual(Date.now());
    expect(await instances.find(REGION, raced)).toMatchObject({ state: 'running', lastEvent: racedEvent });
    // The pending event, redelivered late, is older than the correction.
    expect(await applyEvent(REGION, lagging, 'pending', eventTime)).toBe('out-of-order');
    expect((await h.get(HousekeepingRepository).listOutcomes())[0]).toMatchObject({ correctedInstances: 1 });
    expect((await hk.sweepRegion(REGION)).correctedInstances).toBe(0);
  });

  it('should re-add an instance stopped and started again, but not one logged leaving after its launch', async () => {
    const launchTime = Date.now() - 60_000;
    const { instanceIds } = h.sandbox.control.seedInstances({ region: REGION, count: 2, keyName: key, launchTime });
    const [restarted, ended] = instanceIds;
    const log = (id: string, state: string, at: number) =>
      h.dataSource.query(`INSERT INTO cloudwatch_log (id, region, state, generated) VALUES ($1, $2, $3, $4)`, [
        id,
        REGION,
        state,
        new Date(at),
      ]);
    // Stopped before its current launch time (a stop, then a start): its exits say nothing about now.
    await log(restarted, 'stopping', launchTime - 120_000);
    await log(restarted, 'stopped', launchTime - 100_000);
    await log(ended, 'shutting-down', launchTime + 10_000);

    const outcome = await hk.sweepRegion(REGION);

    expect(outcome.missingInstances).toBe(1);
    expect((await instances.list({ region: REGION })).map((i) => i.id)).toEqual([restarted]);
  });

  it('should tag untagged instances, spot requests and volumes per worker type, and record EBS and AMI usage', async () => {
    const other = 'hk-other';
    const a = h.sandbox.control.seedInstances({
      region: REGION,
      count: 3,
      keyName: key,
      imageId: 'ami-0123456789abcdef0',
    });
    const b = h.sandbox.control.seedInstances({
      region: REGION,
      count: 2,
      keyName: keyPairNameFor(h.config, other),
      instanceType: 'm6g.large',
    });
    const tagged = h.sandbox.control.seedInstances({ region: REGION, count: 1, keyName: key, tags: tagsOf(WT) });
    const r = h.sandbox.control.seedSpotRequests({ region: REGION, count: 2, keyName: key });

    const outcome = await hk.sweepRegion(REGION);

    // 5 untagged instances, their 5 root volumes, 2 requests; the already tagged instance and its volume were
    // left as they were... except that seeding tags only the instance, so its volume is tagged now.
    expect(outcome.tagged).toBe(5 + 6 + 2);
    const byId = new Map(sandboxInstances().map((i) => [i.instanceId, i]));
    for (const id of [...a.instanceIds, ...tagged.instanceIds]) expect(byId.get(id)!.tags).toEqual(tagsOf(WT));
    for (const id of b.instanceIds) expect(byId.get(id)!.tags).toEqual(tagsOf(other));
    for (const req of sandboxRequests().filter((x) =>
      r.spotInstanceRequestIds.includes(x.spotInstanceRequestId as string),
    )) {
      expect(req.tags).toEqual(tagsOf(WT));
    }
    for (const v of sandboxVolumes()) {
      const owner = byId.get(v.instanceId)!;
      expect(v.tags).toEqual(b.instanceIds.includes(owner.instanceId as string) ? tagsOf(other) : tagsOf(WT));
    }

    const volumes = sandboxVolumes();
    const ebs = (await h.get(UsageRepository).listEbsUsage()).filter((u) => u.region === REGION);
    expect(
      ebs.map((u) => ({ volumeType: u.volumeType, state: u.state, totalCount: u.totalCount, totalGb: u.totalGb })),
    ).toEqual([
      {
        volumeType: 'gp3',
        state: 'active',
        totalCount: volumes.length,
        totalGb: volumes.reduce((n, v) => n + (v.size as number), 0),
      },
    ]);
    const images = [...new Set(sandboxInstances().map((i) => i.imageId as string))].sort();
    expect(images.length).toBeGreaterThanOrEqual(2);
    const ami = (await h.get(UsageRepository).listAmiUsage()).filter((u) => u.region === REGION);
    expect(ami.map((u) => u.id).sort()).toEqual(images);

    // A second sweep has nothing left to tag and the same totals.
    expect((await hk.sweepRegion(REGION)).tagged).toBe(0);
  });

  it('should cancel an open request of ours that EC2 will never fulfil, instead of adding it', async () => {
    const stuck = h.sandbox.control.seedSpotRequests({
      region: REGION,
      count: 2,
      keyName: key,
      statusCode: 'capacity-not-available',
      instanceType: 'c5.large',
    }).spotInstanceRequestIds;
    const waiting = h.sandbox.control.seedSpotRequests({
      region: REGION,
      count: 1,
      keyName: key,
    }).spotInstanceRequestIds;

    const outcome = await hk.sweepRegion(REGION);

    expect(outcome).toMatchObject({ missingSpotRequests: 1, error: null });
    const byId = new Map(sandboxRequests().map((x) => [x.spotInstanceRequestId, x]));
    for (const id of stuck) expect(byId.get(id)).toMatchObject({ state: 'cancelled' });
    expect((await requests.list({ region: REGION })).map((x) => x.id)).toEqual(waiting);
  });

  it("should never touch another manager's resources, however old or untagged", async () => {
    const foreignKeys = [
      'ec2-manager-other:wt:abc1234',
      `${h.config.managerId}-2:wt:abc1234`,
      `${h.config.managerId}:wt:abc1234:extra`,
    ];
    const foreign = foreignKeys.flatMap(
      (keyName) =>
        h.sandbox.control.seedInstances({ region: REGION, count: 2, keyName, ageSeconds: 500 * HOURS }).instanceIds,
    );
    const foreignRequests = foreignKeys.flatMap(
      (keyName) => h.sandbox.control.seedSpotRequests({ region: REGION, count: 1, keyName }).spotInstanceRequestIds,
    );
    const nokey = h.sandbox.control.seedInstances({ region: REGION, count: 1, ageSeconds: 500 * HOURS }).instanceIds;
    const ours = h.sandbox.control.seedInstances({ region: REGION, count: 1, keyName: key }).instanceIds;

    const outcome = await hk.sweepRegion(REGION);

    expect(outcome).toMatchObject({ zombiesKilled: 0, missingInstances: 1, missingSpotRequests: 0, tagged: 2 });
    const byId = new Map(sandboxInstances().map((i) => [i.instanceId, i]));
    for (const id of [...foreign, ...nokey]) expect(byId.get(id)).toMatchObject({ state: 'running', tags: {} });
    for (const req of sandboxRequests().filter((x) => foreignRequests.includes(x.spotInstanceRequestId as string))) {
      expect(req).toMatchObject({ state: 'open', tags: {} });
    }
    expect((await instances.list()).map((i) => i.id)).toEqual(ours);
    expect(await requests.list()).toEqual([]);
  });

  it('should sweep every region in one run and keep each outcome', async () => {
    h.sandbox.control.seedInstances({ region: REGION, count: 2, keyName: key });
    h.sandbox.control.seedInstances({ region: OTHER_REGION, count: 3, keyName: key });
    const run = await hk.runOnce();
    expect(run.regions.map((r) => [r.region, r.missingInstances])).toEqual([
      [REGION, 2],
      [OTHER_REGION, 3],
    ]);
    expect((await h.get(HousekeepingRepository).listOutcomes()).map((o) => o.region)).toEqual(
      [REGION, OTHER_REGION].sort(),
    );
  });

  it('should prune history older than HISTORY_RETENTION_DAYS (14), and say so', async () => {
    await h.dataSource.query(
      `INSERT INTO cloudwatch_log (id, region, state, generated, received) VALUES
         ('i-0000000000000000a', $1, 'terminated', now() - interval '15 days', now() - interval '15 days'),
         ('i-0000000000000000b', $1, 'terminated', now() - interval '13 days', now() - interval '13 days')`,
      [REGION],
    );
    const mark = h.logs.mark();
    await hk.runOnce();
    const rows: { id: string }[] = await h.dataSource.query(`SELECT id FROM cloudwatch_log`);
    expect(rows).toEqual([{ id: 'i-0000000000000000b' }]);
    expect(h.logs.find('history pruned', mark)).toEqual([
      expect.objectContaining({ retentionDays: 14, cloudwatchLog: 1, failedSpotRequests: 0 }),
    ]);
  });
});

/** Runs `fn` (once) when the client sends `command`, before the call goes out. */
function onCommand(client: EC2Client, command: string, fn: () => Promise<void>): void {
  let done = false;
  const stack = client.middlewareStack as unknown as {
    add(middleware: InitializeMiddleware<object, object>, options: InitializeHandlerOptions): void;
  };
  stack.add(
    (next, context) => async (args) => {
      if (!done && context.commandName === command) {
        done = true;
        await fn();
      }
      return next(args);
    },
    { step: 'initialize', name: `testOn${command}`, override: true },
  );
}
