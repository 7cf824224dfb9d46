import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CallRecord, isSuccess } from './api';
import { FleetDriver } from './fleet';
import { sleep } from './replica';
import { ec2Truth, Ec2Truth, isLive, key, ownerWorkerType } from './truth';
import { FaultWorld } from './world';

export interface Violation {
  invariant: string;
  detail: string;
}

interface Row {
  region: string;
  id: string;
  state: string;
}

export interface StateDiff {
  missing: string[];
  extraneous: string[];
  wrongState: string[];
}

const emptyDiff = (d: StateDiff): boolean => d.missing.length + d.extraneous.length + d.wrongState.length === 0;

/** State (the service's database) against EC2: our live instances and our open spot requests. */
export async function diffState(world: FaultWorld): Promise<{ diff: StateDiff; truth: Ec2Truth }> {
  const [instances, requests] = await Promise.all([
    world.query<Row>('SELECT region, id, state FROM instances'),
    world.query<Row>('SELECT region, id, state FROM spot_requests'),
  ]);
  const truth = ec2Truth(world.sandbox);
  const diff: StateDiff = { missing: [], extraneous: [], wrongState: [] };
  const liveInstances = new Map(
    truth.instances.filter((i) => isLive(i.state) && ownerWorkerType(i.keyName)).map((i) => [key(i.region, i.id), i]),
  );
  const rows = new Map(instances.map((r) => [key(r.region, r.id), r]));
  for (const [k, i] of liveInstances) {
    const row = rows.get(k);
    if (!row) diff.missing.push(`instance ${k} (${i.state} in EC2)`);
    else if (row.state !== i.state) diff.wrongState.push(`instance ${k}: ${row.state} in state, ${i.state} in EC2`);
  }
  const ec2State = new Map(truth.instances.map((i) => [key(i.region, i.id), i.state]));
  for (const k of rows.keys()) {
    if (!liveInstances.has(k)) diff.extraneous.push(`instance ${k} (${ec2State.get(k) ?? 'unknown'} in EC2)`);
  }
  const open = new Map(
    truth.requests.filter((r) => r.state === 'open' && ownerWorkerType(r.keyName)).map((r) => [key(r.region, r.id), r]),
  );
  const requestRows = new Set(requests.map((r) => key(r.region, r.id)));
  for (const [k, r] of open) if (!requestRows.has(k)) diff.missing.push(`spot request ${k} (open/${r.status} in EC2)`);
  const requestState = new Map(truth.requests.map((r) => [key(r.region, r.id), `${r.state}/${r.status}`]));
  for (const k of requestRows) {
    if (!open.has(k)) diff.extraneous.push(`spot request ${k} (${requestState.get(k) ?? 'unknown'} in EC2)`);
  }
  return { diff, truth };
}

/**
 * SPEC §4: after the faults clear, state equals EC2's truth within a bounded time, with no
 * housekeeping sweep (it is switched off) and no restart. Equal twice in a row, a second apart,
 * so that a moment between an event and its effect does not count as converged.
 */
export async function checkConvergence(
  world: FaultWorld,
  boundMs: number,
): Promise<{ violations: Violation[]; ms: number; diff: StateDiff }> {
  const began = Date.now();
  let last: StateDiff = { missing: [], extraneous: [], wrongState: [] };
  let equalSince: number | undefined;
  while (Date.now() - began < boundMs) {
    try {
      last = (await diffState(world)).diff;
    } catch (err) {
      last = { missing: [], extraneous: [], wrongState: [`could not read state: ${String(err)}`] };
    }
    if (emptyDiff(last)) {
      equalSince ??= Date.now();
      if (Date.now() - equalSince >= 1000) return { violations: [], ms: equalSince - began, diff: last };
    } else {
      equalSince = undefined;
    }
    await sleep(500);
  }
  const lines = [
    ...last.missing.map((m) => `missing ${m}`),
    ...last.extraneous.map((m) => `extraneous ${m}`),
    ...last.wrongState,
  ];
  return {
    violations: lines.map((detail) => ({
      invariant: `state equals EC2 within ${boundMs / 1000}s without housekeeping`,
      detail,
    })),
    ms: Date.now() - began,
    diff: last,
  };
}

/**
 * The convergence above is worth something only if no sweep did it: housekeeping is switched off
 * for the replicas, and no replica may have run any part of a sweep (a run of the job, or a region's).
 */
export function checkNoHousekeeping(world: FaultWorld): Violation[] {
  return world.replicas.flatMap((replica) =>
    replica
      .records()
      .filter(({ fields }) => /^housekeeping (done|failed|aborted|of region)/.test(String(fields.msg)))
      .map(({ generation, fields }) => ({
        invariant: 'state converges without a housekeeping sweep (none may run)',
        detail: `${replica.name}#${generation} at ${String(fields.time)}: ${String(fields.msg)}`,
      })),
  );
}

export interface ForeignSnapshot {
  instances: Map<string, { state: string; tags: string }>;
  requests: Map<string, { state: string; tags: string }>;
}

export function snapshotForeign(world: FaultWorld, ids: { instances: string[]; requests: string[] }): ForeignSnapshot {
  const truth = ec2Truth(world.sandbox);
  const pick = <T extends { id: string; state: string; tags: Record<string, string> }>(items: T[], wanted: string[]) =>
    new Map(
      items.filter((i) => wanted.includes(i.id)).map((i) => [i.id, { state: i.state, tags: JSON.stringify(i.tags) }]),
    );
  return { instances: pick(truth.instances, ids.instances), requests: pick(truth.requests, ids.requests) };
}

/** SPEC §2: never touch what is not ours. Foreign look-alikes keep their state and their tags. */
export function checkForeign(world: FaultWorld, before: ForeignSnapshot): Violation[] {
  const now = snapshotForeign(world, {
    instances: [...before.instances.keys()],
    requests: [...before.requests.keys()],
  });
  const out: Violation[] = [];
  const compare = (kind: string, a: ForeignSnapshot['instances'], b: ForeignSnapshot['instances']) => {
    for (const [id, was] of a) {
      const is = b.get(id);
      const keyName = ec2Truth(world.sandbox)[kind === 'instance' ? 'instances' : 'requests'].find(
        (x) => x.id === id,
      )?.keyName;
      if (!is || is.state !== was.state || is.tags !== was.tags) {
        out.push({
          invariant: 'no resource that is not ours was touched',
          detail: `foreign ${kind} ${id} (key ${keyName ?? '-'}): was ${was.state} ${was.tags}, now ${is?.state ?? 'gone'} ${is?.tags ?? ''}`,
        });
      }
    }
  };
  compare('instance', before.instances, now.instances);
  compare('request', before.requests, now.requests);
  return out;
}

/** No API call answered success for something that did not happen, and none answered 500 or hung. */
export function checkAnswers(ledger: CallRecord[], fleet: FleetDriver, world: FaultWorld): Violation[] {
  const out: Violation[] = [];
  for (const c of fleet.claims) {
    if (c.problem)
      out.push({ invariant: 'no success claimed for what did not happen', detail: `${c.call.op}: ${c.problem}` });
  }
  const truth = ec2Truth(world.sandbox);
  const instancesByToken = groupBy(
    truth.instances.filter((i) => i.clientToken),
    (i) => i.clientToken!,
  );
  const requestsByToken = groupBy(
    truth.requests.filter((r) => r.clientToken),
    (r) => r.clientToken!,
  );
  const tokensKnown = truth.requests.some((r) => r.clientToken !== undefined) || !truth.requests.length;
  for (const launch of fleet.launches.values()) {
    const ok = launch.attempts.find(isSuccess);
    const made =
      launch.kind === 'request-spot'
        ? (requestsByToken.get(launch.token) ?? [])
        : (instancesByToken.get(launch.token) ?? []);
    if (launch.kind === 'request-spot' && !tokensKnown) continue;
    if (ok && made.length === 0) {
      out.push({
        invariant: 'no success claimed for what did not happen',
        detail: `${launch.kind} ${launch.token} answered ${ok.status} but EC2 has nothing with that ClientToken`,
      });
    }
    const refused = launch.attempts.find((a) => typeof a.status === 'number' && a.status >= 400 && a.status < 500);
    if (refused) {
      out.push({
        invariant: 'a valid launch is never refused (a fault is 503, not 4xx)',
        detail: describeCall(refused),
      });
    }
    if (made.length > 1) {
      out.push({
        invariant: 'a retried launch launches nothing twice',
        detail: `${launch.kind} ${launch.token}: ${made.length} resources in EC2`,
      });
    }
  }
  for (const c of ledger) {
    if (c.status === 500) {
      out.push({
        invariant: 'never a 500 (SPEC §9: 503 when the database or EC2 is unreachable)',
        detail: describeCall(c),
      });
    }
    if (c.status === 'timeout') {
      out.push({ invariant: 'never a hang (SPEC §9: an answer within seconds)', detail: describeCall(c) });
    }
  }
  return out;
}

export function describeCall(c: CallRecord): string {
  const body = typeof c.body === 'string' ? c.body : JSON.stringify(c.body);
  return `${c.op} ${c.method} ${c.path} → ${String(c.status)} after ${c.end - c.at} ms on ${c.replica ?? '-'}: ${(body ?? '').slice(0, 200)}`;
}

/**
 * A run's logged end trails its unlock by however long the replica's event loop took to get back
 * to it (measured: ~100 ms while a backlog of events is handled); overlaps shorter than this are
 * that, not two leaders. A lost lock lets a run go on for seconds past the other's start.
 */
const OVERLAP_TOLERANCE_MS = 1000;

/**
 * SPEC §9: no two replicas run one job at once. A run's span is read from its log line (`<job>
 * done|failed|aborted` with `ms`); spans of different processes must not overlap. A fenced run
 * (`aborted`) counts until its replica saw the lock go ("leader lock connection lost", the moment
 * from which it may write nothing): a call already in flight may keep it waiting after that.
 */
export function checkJobOverlap(world: FaultWorld): { violations: Violation[]; runs: number } {
  const spans: { job: string; proc: string; start: number; end: number; fenced: boolean }[] = [];
  for (const replica of world.replicas) {
    const fences: { proc: string; job: string; at: number }[] = [];
    const mine: typeof spans = [];
    for (const { generation, fields } of replica.records()) {
      const proc = `${replica.name}#${generation}`;
      const msg = typeof fields.msg === 'string' ? fields.msg : '';
      const at = Date.parse(String(fields.time));
      if (/leader lock connection lost/.test(msg) && typeof fields.lock === 'string') {
        fences.push({ proc, job: fields.lock, at });
        continue;
      }
      const job = fields.job;
      const ms = fields.ms;
      if (typeof job !== 'string' || typeof ms !== 'number' || !/ (done|failed|aborted)$/.test(msg)) continue;
      mine.push({ job, proc, start: at - ms, end: at, fenced: msg.endsWith('aborted') });
    }
    for (const span of mine) {
      const fence = span.fenced
        ? fences.find((f) => f.proc === span.proc && f.job === span.job && f.at >= span.start && f.at <= span.end)
        : undefined;
      spans.push(fence ? { ...span, end: fence.at } : span);
    }
  }
  const out: Violation[] = [];
  spans.sort((a, b) => a.start - b.start);
  for (let i = 0; i < spans.length; i++) {
    for (let j = i + 1; j < spans.length && spans[j].start < spans[i].end - OVERLAP_TOLERANCE_MS; j++) {
      if (spans[j].job === spans[i].job && spans[j].proc !== spans[i].proc) {
        const show = (x: (typeof spans)[number]) =>
          `${x.proc} ran ${iso(x.start)}–${iso(x.end)}${x.fenced ? ' (fenced)' : ''}`;
        out.push({
          invariant: 'no two replicas run one job at once (SPEC §9 fencing)',
          detail: `${spans[i].job}: ${show(spans[i])}, ${show(spans[j])}`,
        });
      }
    }
  }
  return { violations: out, runs: spans.length };
}

/**
 * SPEC §4: the dead-letter queue is for EC2's lag, not our outages. After convergence it is empty,
 * and no event was given up as an "untracked instance" for an instance EC2 knows.
 */
export async function checkDeadLetters(world: FaultWorld, queueName: string): Promise<Violation[]> {
  const out: Violation[] = [];
  const truth = ec2Truth(world.sandbox);
  const known = new Map(truth.instances.map((i) => [i.id, i]));
  for (const region of world.regions) {
    const sqs = new SQSClient({
      region,
      endpoint: world.sandbox.endpoints.sqs,
      credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
    });
    try {
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: `${queueName}-dead` }));
      const { Attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      const left =
        Number(Attributes.ApproximateNumberOfMessages ?? 0) +
        Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
      if (left > 0)
        out.push({
          invariant: 'dead-lettered events are recovered',
          detail: `${left} message(s) left in ${region}'s dead-letter queue`,
        });
    } finally {
      sqs.destroy();
    }
  }
  for (const replica of world.replicas) {
    for (const { fields } of replica.records()) {
      if (typeof fields.msg !== 'string' || !/untracked/i.test(fields.msg)) continue;
      const id = fields.instanceId;
      const instance = typeof id === 'string' ? known.get(id) : undefined;
      if (instance && ownerWorkerType(instance.keyName)) {
        out.push({
          invariant: 'dead-lettered events that could be applied are recovered, not dropped',
          detail: `${replica.name} gave up an event of ${instance.region}/${instance.id} (${instance.state} in EC2) as untracked at ${String(fields.time)}`,
        });
      }
    }
  }
  return out;
}

/**
 * SPEC §4: receive errors back off (1 s to 60 s) and the log gets one line when a queue starts failing
 * and one when it recovers, never one per retry. Counted per process and queue: warnings and errors
 * naming a queue, at most three per outage (a start, a recovery, one to spare).
 */
export function checkQueueErrorNoise(world: FaultWorld, outages: number): Violation[] {
  const allowance = 2 + 3 * outages;
  const out: Violation[] = [];
  for (const replica of world.replicas) {
    const counts = new Map<string, number>();
    for (const { generation, fields } of replica.records()) {
      if (typeof fields.queue !== 'string' || (fields.level !== 'error' && fields.level !== 'warn')) continue;
      const k = `${replica.name}#${generation} ${fields.queue}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    for (const [k, n] of counts) {
      if (n > allowance) {
        out.push({
          invariant: 'SQS receive errors back off: one log line per outage, not one per retry (SPEC §4)',
          detail: `${k}: ${n} warning/error lines over ${outages} SQS outage(s)`,
        });
      }
    }
  }
  return out;
}

/** A replica that died by itself after it was up (the harness restarts it, as Kubernetes would). */
export function checkCrashes(world: FaultWorld): Violation[] {
  return world.replicas.flatMap((r) =>
    r.crashes.map((c) => ({
      invariant: 'the service never crashes under faults',
      detail: `${c.replica}#${c.generation} exited code=${c.code} signal=${c.signal}: ${c.tail.slice(-3).join(' | ').slice(0, 600)}`,
    })),
  );
}

function groupBy<T>(items: T[], by: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = by(item);
    out.set(k, [...(out.get(k) ?? []), item]);
  }
  return out;
}

const iso = (ms: number): string => new Date(ms).toISOString().slice(11, 23);
