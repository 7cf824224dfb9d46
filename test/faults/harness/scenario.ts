import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApiClient } from './api';
import { FaultInjector } from './faults';
import { FleetDriver, FleetOptions } from './fleet';
import {
  checkAnswers,
  checkConvergence,
  checkCrashes,
  checkDeadLetters,
  checkForeign,
  checkQueueErrorNoise,
  checkJobOverlap,
  checkNoHousekeeping,
  snapshotForeign,
  Violation,
} from './invariants';
import { Rng } from './random';
import { sleep } from './replica';
import { describeFault, FaultKind, makeSchedule, ScheduledFault, ScheduleProfile, scheduleEnd } from './schedule';
import { MANAGER_ID, FaultWorld } from './world';

export const ALL_FAULTS: FaultKind[] = [
  'db-stop',
  'db-freeze',
  'sqs-down',
  'ec2-down',
  'describe-lag',
  'throttle',
  'kill-replica',
  'kill-leader-lock',
  'terminate-worker-type',
];

const REGIONS = ['us-east-1', 'us-west-2'];
const WORKER_TYPES = ['builder', 'tester', 'web'];
const QUEUE_NAME = 'ec2-events';
const SQS = { maxReceiveCount: 3, visibilitySeconds: 2 };

export interface Profile {
  name: string;
  schedule: Omit<ScheduleProfile, 'replicas' | 'workerTypes' | 'maxReceiveCount' | 'visibilitySeconds'>;
  fleet: FleetOptions;
  replicas: number;
  /** How long state may take to equal EC2 once the faults are gone. */
  convergeSeconds: number;
  /** A fixed schedule instead of a random one (the long outage). */
  fixed?: ScheduledFault[];
}

export const PROFILES: Record<string, Profile> = {
  /** The size `npm test` runs: every fault once, about a minute of them. */
  test: {
    name: 'test',
    schedule: { horizonSeconds: 30, rounds: 1, kinds: ALL_FAULTS, scale: 1 },
    fleet: { workers: 3, pauseMs: [150, 500], ec2PauseMs: [1000, 3000] },
    replicas: 2,
    convergeSeconds: 60,
  },
  /** Soaks: every fault twice, longer outages, more traffic. */
  soak: {
    name: 'soak',
    schedule: { horizonSeconds: 90, rounds: 2, kinds: ALL_FAULTS, scale: 1.5 },
    fleet: { workers: 4, pauseMs: [100, 400], ec2PauseMs: [700, 2000] },
    replicas: 2,
    convergeSeconds: 90,
  },
  /** Issue #10's bar: Postgres down for five minutes under a stream of launches and terminations. */
  outage: {
    name: 'outage',
    schedule: { horizonSeconds: 0, rounds: 0, kinds: [], scale: 1 },
    fleet: { workers: 3, pauseMs: [200, 600], ec2PauseMs: [500, 1500] },
    replicas: 2,
    convergeSeconds: 120,
    fixed: [{ at: 10, fault: { kind: 'db-stop', seconds: 300, mode: 'fast' } }],
  },
};

export interface ScenarioOptions {
  seed: number;
  profile: Profile;
  /** Only these fault kinds (default: the profile's). */
  kinds?: FaultKind[];
  logDir?: string;
  /** Keep the replicas' logs even when every invariant holds. */
  keepLogs?: boolean;
  /** Progress lines (the CLI prints them; jest keeps quiet). */
  progress?: (line: string) => void;
}

export interface ScenarioReport {
  seed: number;
  profile: string;
  violations: Violation[];
  schedule: string[];
  timeline: string[];
  missed: string[];
  logDir: string;
  figures: {
    durationMs: number;
    convergeMs: number;
    apiCalls: number;
    launches: number;
    launchesSucceeded: number;
    terminations: number;
    interruptions: number;
    /** Instances of ours launched and ended by EC2's side during the run, not through the API. */
    outsideLaunched: number;
    outsideEnded: number;
    answers: Record<string, number>;
    jobRuns: number;
    lockKills: number;
    restarts: number;
  };
}

/**
 * One scenario: the service (two replicas) against its own Postgres and the sandbox, a fleet driven
 * through the API while a seeded schedule of faults comes and goes; then every fault cleared and the
 * invariants checked against the sandbox's truth.
 */
export async function runScenario(options: ScenarioOptions): Promise<ScenarioReport> {
  const { seed, profile } = options;
  const progress = options.progress ?? (() => undefined);
  const began = Date.now();
  const rng = new Rng(seed);
  const logDir = options.logDir ?? path.join(os.tmpdir(), `ec2m-faults-${profile.name}-${seed}-${process.pid}`);
  const schedule =
    profile.fixed ??
    makeSchedule(rng.fork('schedule'), {
      ...profile.schedule,
      kinds: options.kinds ?? profile.schedule.kinds,
      replicas: profile.replicas,
      workerTypes: WORKER_TYPES,
      ...SQS,
    });
  progress(
    `seed ${seed} profile ${profile.name}: ${schedule.map((s) => `@${s.at}s ${describeFault(s.fault)}`).join('; ')}`,
  );

  const world = await FaultWorld.start({
    regions: REGIONS,
    replicas: profile.replicas,
    logDir,
    log: progress,
    env: {
      QUEUE_NAME,
      SQS_MAX_RECEIVE_COUNT: String(SQS.maxReceiveCount),
      SQS_VISIBILITY_TIMEOUT_SECONDS: String(SQS.visibilitySeconds),
      SQS_WAIT_TIME_SECONDS: '1',
      SPOT_POLL_SECONDS: '2',
      // State must converge by events and the spot poller alone (SPEC §4): no sweep may repair it.
      HOUSEKEEPING_ENABLED: 'false',
      PRICING_POLL_SECONDS: '20',
      AWS_MAX_ATTEMPTS: '4',
      AWS_TIMEOUT_MS: '1500',
      DB_STATEMENT_TIMEOUT_MS: '5000',
    },
    sandbox: {
      seed,
      pendingToRunningSeconds: 3,
      shuttingDownSeconds: 4,
      spotEvaluationSeconds: 1,
      spotRetrySeconds: 5,
      interruptionNoticeSeconds: 6,
    },
  });
  progress(
    `world up: postgres :${world.pg.port}, replicas ${world.replicas.map((r) => `${r.name}:${r.port}`).join(', ')}`,
  );
  const violations: Violation[] = [];
  const api = new ApiClient(world, 20_000);
  let injector: FaultInjector | undefined;
  let fleet: FleetDriver | undefined;
  let convergeMs = 0;
  let jobRuns = 0;
  try {
    const foreign = seedForeign(world);
    seedOurs(world, rng.fork('ours'));
    const foreignBefore = snapshotForeign(world, foreign);
    fleet = new FleetDriver(world, api, rng.fork('fleet'), WORKER_TYPES, foreign, profile.fleet);
    await fleet.ensureKeyPairs();

    const t0 = Date.now();
    injector = new FaultInjector(world, fleet, t0);
    const driving = fleet.run();
    await Promise.all(schedule.map((item) => injector!.run(item)));
    const tail = Math.max(0, t0 + (scheduleEnd(schedule) + 3) * 1000 - Date.now());
    await sleep(tail);
    fleet.stop();
    await driving;
    await injector.clearAll();
    await world.databaseAnswers();
    await Promise.all(world.replicas.map((r) => r.waitUp()));
    progress(`faults cleared after ${((Date.now() - t0) / 1000).toFixed(0)} s; settling launches`);
    await fleet.settleLaunches(60_000);

    const converged = await checkConvergence(world, profile.convergeSeconds * 1000);
    convergeMs = converged.ms;
    violations.push(...converged.violations);
    violations.push(...checkNoHousekeeping(world));
    violations.push(...checkForeign(world, foreignBefore));
    violations.push(...checkAnswers(api.ledger, fleet, world));
    const overlap = checkJobOverlap(world);
    jobRuns = overlap.runs;
    violations.push(...overlap.violations);
    violations.push(...(await checkDeadLetters(world, QUEUE_NAME)));
    violations.push(...checkCrashes(world));
    violations.push(...checkQueueErrorNoise(world, schedule.filter((s) => s.fault.kind === 'sqs-down').length));
    for (const missed of injector.missed) {
      violations.push({
        invariant: 'every scheduled fault was applied (else the run proves nothing about it)',
        detail: missed,
      });
    }
    for (const launch of fleet.unsettled()) {
      violations.push({
        invariant: 'a launch retried with its ClientToken after the faults gets a definite answer',
        detail: `${launch.kind} ${launch.token}: last answer ${String(launch.attempts[launch.attempts.length - 1]?.status)}`,
      });
    }
  } finally {
    await world.stop().catch((err: unknown) => progress(`teardown failed: ${String(err)}`));
  }
  // A passing run's logs are worth nothing; a failing run's are the post-mortem.
  if (violations.length === 0 && !options.keepLogs) fs.rmSync(logDir, { recursive: true, force: true });

  const answers: Record<string, number> = {};
  for (const c of api.ledger) answers[String(c.status)] = (answers[String(c.status)] ?? 0) + 1;
  const launches = [...(fleet?.launches.values() ?? [])];
  return {
    seed,
    profile: profile.name,
    violations,
    schedule: schedule.map((s) => `@${s.at}s ${describeFault(s.fault)}`),
    timeline: injector?.timeline ?? [],
    missed: injector?.missed ?? [],
    logDir,
    figures: {
      durationMs: Date.now() - began,
      convergeMs,
      apiCalls: api.ledger.length,
      launches: launches.length,
      launchesSucceeded: launches.filter((l) => l.attempts.some((a) => typeof a.status === 'number' && a.status < 300))
        .length,
      terminations: api.ledger.filter((c) => c.op === 'terminateInstance').length,
      interruptions: fleet?.interruptions.length ?? 0,
      outsideLaunched: fleet?.outside.launched.length ?? 0,
      outsideEnded: fleet?.outside.ended.length ?? 0,
      answers,
      jobRuns,
      lockKills: injector?.lockKills.length ?? 0,
      restarts: world.replicas.reduce((n, r) => n + r.generation - 1, 0),
    },
  };
}

/**
 * Look-alikes of our resources that are not ours (SPEC §2), in every region and for every worker
 * type: key names with four parts, an empty hash, another manager id; spot requests keyed
 * `…:<wt>:x:y`. Their events reach our queues like ours.
 */
function seedForeign(world: FaultWorld): { instances: string[]; requests: string[] } {
  const control = world.sandbox.control;
  const instances: string[] = [];
  const requests: string[] = [];
  for (const region of world.regions) {
    for (const wt of WORKER_TYPES) {
      for (const keyName of [`${MANAGER_ID}:${wt}:other:team`, `${MANAGER_ID}:${wt}:`, `other-manager:${wt}:abc1234`]) {
        instances.push(...control.seedInstances({ region, count: 1, keyName, emitEvents: true }).instanceIds);
      }
      instances.push(
        ...control.seedInstances({
          region,
          count: 1,
          keyName: `${MANAGER_ID}:${wt}:other:team`,
          spot: true,
          emitEvents: true,
        }).instanceIds,
      );
      for (const keyName of [`${MANAGER_ID}:${wt}:x:y`, `other-manager:${wt}:abc1234`]) {
        requests.push(...control.seedSpotRequests({ region, count: 1, keyName }).spotInstanceRequestIds);
      }
    }
    instances.push(...control.seedInstances({ region, count: 1, emitEvents: true }).instanceIds);
    instances.push(...control.seedInstances({ region, count: 1, keyName: MANAGER_ID, emitEvents: true }).instanceIds);
  }
  return { instances, requests };
}

/** A few instances of ours launched outside this service's API (by an earlier deployment, say): adopted through events. */
function seedOurs(world: FaultWorld, rng: Rng): void {
  for (const region of world.regions) {
    world.sandbox.control.seedInstances({
      region,
      count: rng.int(1, 3),
      keyName: world.keyName(rng.pick(WORKER_TYPES)),
      emitEvents: true,
    });
  }
}

export function formatReport(r: ScenarioReport): string {
  const lines = [
    `fault suite: seed ${r.seed}, profile ${r.profile}: ${r.violations.length === 0 ? 'all invariants hold' : `${r.violations.length} violation(s)`}`,
    `  replay: npm run test:faults -- --profile ${r.profile} --seed ${r.seed}`,
    `  schedule: ${r.schedule.join('; ')}`,
    `  figures: ${JSON.stringify(r.figures)}`,
    ...(r.violations.length ? [`  logs: ${r.logDir}`] : []),
  ];
  if (r.missed.length) lines.push(`  not applied: ${r.missed.join('; ')}`);
  lines.push('  timeline:', ...r.timeline.map((t) => `    ${t}`));
  if (r.violations.length) {
    const byInvariant = new Map<string, string[]>();
    for (const v of r.violations) byInvariant.set(v.invariant, [...(byInvariant.get(v.invariant) ?? []), v.detail]);
    for (const [invariant, details] of byInvariant) {
      lines.push(`  VIOLATED ${invariant} (${details.length}):`);
      for (const d of details.slice(0, 8)) lines.push(`    - ${d}`);
      if (details.length > 8) lines.push(`    … and ${details.length - 8} more`);
    }
  }
  return lines.join('\n');
}
