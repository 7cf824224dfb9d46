import 'reflect-metadata';
import {
  EC2Client,
  paginateDescribeInstances,
  paginateDescribeSpotInstanceRequests,
  paginateDescribeVolumes,
} from '@aws-sdk/client-ec2';
import { INestApplicationContext, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { DataSource } from 'typeorm';
import { keyPairName, ownKeyNameFilter, resourceTags } from '../src/ec2/naming';
import { AppConfig } from '../src/config/app-config';
import { ConfigModule } from '../src/config/config.module';
import { BATCH } from '../src/ec2/batches';
import { UNENDED_INSTANCE_STATES } from '../src/ec2/ec2-gateway.service';
import { HousekeepingModule } from '../src/housekeeping/housekeeping.module';
import { HousekeepingService } from '../src/housekeeping/housekeeping.service';
import { MetricsModule } from '../src/metrics/metrics.module';
import { Sandbox, startSandbox } from '../src/sandbox';
import { InstanceRepository, NewInstance } from '../src/state/instance.repository';
import { NewSpotRequest, SpotRequestRepository } from '../src/state/spot-request.repository';
import { emptyTables } from '../test/support/tables';
import { benchDatabase } from './support/database';
import { progress, timed } from './support/measure';
import { BenchResult, Comparison, runIfMain } from './support/report';

/**
 * One housekeeping sweep (SPEC §6) over 8 regions at fleet scale against the SDK paging floor: the time
 * the AWS SDK alone takes to page what the sweep pages (our unended instances, our open spot requests,
 * every volume; each region's three listings at once, all regions at once, as the sweep does), from the
 * same sandbox, measured just before each sweep. Seeds 100,000 instances and 20,000 open spot requests,
 * half of each missing from state, plus 1% zombies and 5% extraneous rows; first at a tenth of the
 * size. Everything in one process: the sandbox, the service's housekeeping (real AWS SDK over loopback
 * HTTP, production client-side rate limits) and an embedded Postgres (or DATABASE_URL's server).
 *   npm run bench -- housekeeping [--quick]
 */
const REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'eu-west-1',
  'eu-central-1',
  'ap-south-1',
  'sa-east-1',
];
const MANAGER = 'bench-mgr';
const PUBKEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl bench@housekeeping';
const WORKER_TYPES = ['web', 'build', 'test', 'gpu'];

interface Size {
  instances: number;
  requests: number;
}

async function seed(sandbox: Sandbox, app: INestApplicationContext, size: Size): Promise<void> {
  const perRegion = Math.floor(size.instances / REGIONS.length);
  const requestsPerRegion = Math.floor(size.requests / REGIONS.length);
  const instanceRows: NewInstance[] = [];
  const requestRows: NewSpotRequest[] = [];
  for (const region of REGIONS) {
    for (const [w, workerType] of WORKER_TYPES.entries()) {
      const keyName = keyPairName(MANAGER, workerType, PUBKEY);
      const tags = Object.fromEntries(resourceTags(MANAGER, workerType).map((t) => [t.Key, t.Value]));
      const count = Math.floor(perRegion / WORKER_TYPES.length);
      const zombies = Math.floor(count / 100);
      const { instanceIds } = sandbox.control.seedInstances({
        region,
        count: count - zombies,
        keyName,
        tags,
        ageSeconds: 3600,
      });
      const { instanceIds: zombieIds } = sandbox.control.seedInstances({
        region,
        count: zombies || 1,
        keyName,
        tags,
        ageSeconds: 200 * 3600,
      });
      const { spotInstanceRequestIds } = sandbox.control.seedSpotRequests({
        region,
        count: Math.floor(requestsPerRegion / WORKER_TYPES.length),
        keyName,
        tags,
      });
      const now = new Date();
      // Half of everything is already in state: the other half is "missing" for the sweep to add.
      for (const id of [...instanceIds, ...zombieIds].filter((_, i) => i % 2 === 0)) {
        instanceRows.push({
          region, id, workerType, az: `${region}a`, instanceType: 'm5.large', state: 'running', spotRequestId: null,
          imageId: 'ami-0123456789abcdef0', launched: now, lastEvent: now,
        }); // prettier-ignore
      }
      for (const id of spotInstanceRequestIds.filter((_, i) => i % 2 === 0)) {
        requestRows.push({
          region, id, workerType, az: '', instanceType: 'm5.large', state: 'open', status: 'pending-evaluation',
          imageId: 'ami-0123456789abcdef0', created: now,
        }); // prettier-ignore
      }
      // 5% extraneous rows: in state, long gone from EC2.
      for (let i = 0; i < Math.floor(count / 20); i++) {
        instanceRows.push({
          region, id: `i-${(w * 1e9 + i).toString(16).padStart(17, 'f')}`, workerType, az: `${region}a`,
          instanceType: 'm5.large', state: 'running', spotRequestId: null, imageId: 'ami-0123456789abcdef0',
          launched: now, lastEvent: now,
        }); // prettier-ignore
      }
    }
  }
  const instances = app.get(InstanceRepository);
  const requests = app.get(SpotRequestRepository);
  for (let i = 0; i < instanceRows.length; i += 10_000) await instances.upsertMany(instanceRows.slice(i, i + 10_000));
  for (let i = 0; i < requestRows.length; i += 10_000) await requests.upsertMany(requestRows.slice(i, i + 10_000));
}

/**
 * Keeps the per-region log lines of the sweeps (`phasesMs`: where a region's time went) and writes
 * errors to stderr; everything else is dropped.
 */
class PhasesLog implements LoggerService {
  regions: { region: string; durationMs: number; phasesMs: Record<string, number> }[] = [];
  log(message: unknown): void {
    const m = message as { msg?: string; region: string; durationMs: number; phasesMs: Record<string, number> };
    if (m?.msg === 'housekeeping of region done') this.regions.push(m);
  }
  error(message: unknown, ...rest: unknown[]): void {
    console.error(message, ...rest);
  }
  warn(): void {}

  /** The slowest region's phases, and the longest of each phase over all regions, since the last call. */
  take(): string {
    const regions = this.regions;
    this.regions = [];
    if (!regions.length) return 'no per-region log line';
    const slowest = regions.reduce((a, b) => (b.durationMs > a.durationMs ? b : a));
    const longest: Record<string, number> = {};
    for (const r of regions) for (const [k, v] of Object.entries(r.phasesMs)) longest[k] = Math.max(longest[k] ?? 0, v);
    return `slowest region ${slowest.region} phasesMs ${JSON.stringify(slowest.phasesMs)}; longest of each phase ${JSON.stringify(longest)}`;
  }
}

/** What the SDK alone takes to page what a sweep pages, every region at once: the floor a sweep is judged by. */
async function pagingFloor(sandbox: Sandbox): Promise<{ ms: number; items: number }> {
  const clients = REGIONS.map(
    (region) =>
      new EC2Client({
        region,
        endpoint: sandbox.endpoints.ec2,
        credentials: { accessKeyId: 'AKIABENCH', secretAccessKey: 'bench' },
      }),
  );
  const count = async <P>(pages: AsyncIterable<P>, items: (p: P) => number) => {
    let n = 0;
    for await (const p of pages) n += items(p);
    return n;
  };
  try {
    const { ms, value } = await timed(() =>
      Promise.all(
        clients.map((client) =>
          Promise.all([
            count(
              paginateDescribeInstances(
                { client, pageSize: BATCH.page },
                {
                  Filters: [
                    { Name: 'key-name', Values: [ownKeyNameFilter(MANAGER)] },
                    { Name: 'instance-state-name', Values: [...UNENDED_INSTANCE_STATES] },
                  ],
                },
              ),
              (p) => (p.Reservations ?? []).reduce((n, r) => n + (r.Instances ?? []).length, 0),
            ),
            count(
              paginateDescribeSpotInstanceRequests(
                { client, pageSize: BATCH.page },
                {
                  Filters: [
                    { Name: 'launch.key-name', Values: [ownKeyNameFilter(MANAGER)] },
                    { Name: 'state', Values: ['open'] },
                  ],
                },
              ),
              (p) => (p.SpotInstanceRequests ?? []).length,
            ),
            count(paginateDescribeVolumes({ client, pageSize: BATCH.volumePage }, {}), (p) => (p.Volumes ?? []).length),
          ]),
        ),
      ),
    );
    return { ms, items: value.flat().reduce((a, b) => a + b, 0) };
  } finally {
    for (const c of clients) c.destroy();
  }
}

const sec = (ms: number) => ms / 1000;

async function measure(
  size: Size,
  sandbox: Sandbox,
  app: INestApplicationContext,
  phases: PhasesLog,
): Promise<Comparison[]> {
  await sandbox.control.reset();
  await emptyTables(app.get(DataSource));
  await seed(sandbox, app, size);
  const hk = app.get(HousekeepingService);
  const label = `${size.instances.toLocaleString('en-US')} instances, ${size.requests.toLocaleString('en-US')} requests`;
  progress(`housekeeping at ${label}`);
  const floor1 = await pagingFloor(sandbox);
  const first = await timed(() => hk.runOnce());
  const firstPhases = phases.take();
  const floor2 = await pagingFloor(sandbox);
  const second = await timed(() => hk.runOnce());
  const secondPhases = phases.take();
  const sum = (
    o: typeof first.value,
    k: 'missingInstances' | 'missingSpotRequests' | 'extraneousInstances' | 'zombiesKilled',
  ) => o.regions.reduce((n, r) => n + r[k], 0);
  const secondFound = sum(second.value, 'missingInstances') + sum(second.value, 'missingSpotRequests');
  const floor = (f: { ms: number; items: number }) => ({
    what: `SDK paging alone (${f.items.toLocaleString('en-US')} items)`,
    value: sec(f.ms),
    unit: 's',
  });
  const target = size.instances >= 100_000 ? { target: { ratio: 1.3, bound: 'max' as const } } : {};
  return [
    {
      what: `first sweep, ${label}`,
      value: sec(first.ms),
      unit: 's',
      reference: floor(floor1),
      ...target,
      note:
        `found ${sum(first.value, 'missingInstances')} missing instances, ${sum(first.value, 'missingSpotRequests')} ` +
        `missing requests, ${sum(first.value, 'extraneousInstances')} extraneous, ${sum(first.value, 'zombiesKilled')} zombies killed; ` +
        firstPhases,
    },
    {
      what: `second sweep (nothing to do), ${label}`,
      value: sec(second.ms),
      unit: 's',
      reference: floor(floor2),
      ...target,
      note: `${secondFound ? `the second sweep still found ${secondFound} missing: not converged; ` : ''}${secondPhases}`,
    },
  ];
}

export async function run({ quick }: { quick: boolean }): Promise<BenchResult> {
  const sizes: Size[] = quick
    ? [{ instances: 2_000, requests: 400 }]
    : [
        { instances: 10_000, requests: 2_000 },
        { instances: 100_000, requests: 20_000 },
      ];
  const db = await benchDatabase('housekeeping');
  let sandbox: Sandbox | undefined;
  let app: INestApplicationContext | undefined;
  const phases = new PhasesLog();
  try {
    sandbox = await startSandbox({ regions: REGIONS, clockSpeed: 0 });
    const config = AppConfig.forTest({
      DATABASE_URL: db.url,
      RUN_MIGRATIONS: false,
      REGIONS: REGIONS.join(','),
      MANAGER_ID: MANAGER,
      INSTANCE_PUBKEY: PUBKEY,
      EC2_ENDPOINT: sandbox.endpoints.ec2,
      SQS_ENDPOINT: sandbox.endpoints.sqs,
      EVENTS_ENDPOINT: sandbox.endpoints.events,
      LOG_LEVEL: 'info',
      AWS_TIMEOUT_MS: 120000,
    }).withJobsDisabled();
    app = await NestFactory.createApplicationContext(
      {
        module: class BenchModule {},
        imports: [ConfigModule.forRoot(config), ScheduleModule.forRoot(), MetricsModule, HousekeepingModule],
      },
      { logger: phases },
    );
    const comparisons: Comparison[] = [];
    for (const size of sizes) comparisons.push(...(await measure(size, sandbox, app, phases)));
    return {
      section: 'housekeeping',
      comparisons,
      notes: [
        `${REGIONS.length} regions swept at once; the floor pages the same listings with a bare SDK client per region ` +
          '(no rate limits, no parsing into our shapes), from the same sandbox in the same process',
      ],
    };
  } finally {
    await app?.close();
    await sandbox?.stop();
    await db.stop();
  }
}

runIfMain(module, run);
