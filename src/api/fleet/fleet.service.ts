import { createHash } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { awsErrorCode, isAwsError } from '../../aws/aws-error';
import { InputError, Reason } from '../../common/errors';
import { AppConfig } from '../../config/app-config';
import { Ec2Gateway } from '../../ec2/ec2-gateway.service';
import {
  Ec2FleetGateway,
  FleetLaunchSpec,
  FleetOutcome,
  FleetPool,
  LaunchTemplateRef,
  Lifecycle,
} from '../../ec2/fleet-gateway.service';
import { canonicalJson } from '../../ec2/launch-template-naming';
import { classifyLaunchError } from '../../ec2/launch-errors';
import { LaunchPolicyService } from '../../launch-policy/launch-policy.service';
import { CapacityCooldownRepository } from '../../state/capacity-cooldown.repository';
import { CapacityCooldown } from '../../state/entities';
import { FleetLaunchRepository } from '../../state/fleet-launch.repository';
import { InstanceRepository } from '../../state/instance.repository';
import { LaunchOutcomeRepository, NewLaunchOutcome } from '../../state/launch-outcome.repository';
import { LaunchTemplateRepository } from '../../state/launch-template.repository';
import { Tx } from '../../state/tx.service';
import { UsageRepository } from '../../state/usage.repository';
import { KeyPairsService } from '../key-pairs.service';
import { formatPrice, launchEc2Call, translateLaunchError } from '../launch/launch.service';
import { sortReasons } from '../launch/launch-validation';
import { FleetInput } from './fleet-body';
import { FleetAnswerDto, FleetCandidateDto, LaunchFleetDto } from './fleet.dto';

/** EC2 takes at most this many overrides in one fleet. */
const MAX_POOLS = 300;
const CLIENT_TOKEN = /^[a-zA-Z0-9_-]{1,64}$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The on-demand fallback's ClientToken (SPEC §11: `<ClientToken>-od`), within EC2's 64 characters. */
export function onDemandToken(token: string): string {
  const od = `${token}-od`;
  return od.length <= 64 ? od : `${createHash('sha256').update(token).digest('hex').slice(0, 61)}-od`;
}

/** What a request must match to get a stored answer back: its worker type and its body, keys sorted. */
function bodyHash(workerType: string, raw: unknown): string {
  return createHash('sha256').update(workerType).update('\0').update(canonicalJson(raw)).digest('hex');
}

/** EC2 event times have one-second precision: a row written at the launch must not look newer than its first events. */
function launchSecond(): Date {
  return new Date(Math.floor(Date.now() / 1000) * 1000);
}

/**
 * launchFleet (SPEC §11): many instance types × zones in one call, through EC2 Fleet (`instant`) from a
 * launch template of ours, spot with an on-demand fallback, leaving out the pools and lifecycles in
 * cooldown, feeding EC2's per-pool errors back into the cooldowns, within the worker type's policy, and
 * idempotent through the ClientToken and the stored answer.
 */
@Injectable()
export class FleetService {
  private readonly log = new Logger(FleetService.name);

  constructor(
    private readonly config: AppConfig,
    private readonly ec2: Ec2Gateway,
    private readonly fleets: Ec2FleetGateway,
    private readonly tx: Tx,
    private readonly instances: InstanceRepository,
    private readonly usage: UsageRepository,
    private readonly cooldowns: CapacityCooldownRepository,
    private readonly outcomes: LaunchOutcomeRepository,
    private readonly templates: LaunchTemplateRepository,
    private readonly answers: FleetLaunchRepository,
    private readonly policy: LaunchPolicyService,
    private readonly keyPairs: KeyPairsService,
  ) {}

  /**
   * Refuses a bad request with one 400 naming every reason (the body's, the policy's, a ClientToken used
   * with another body); answers a repeated request from its stored answer; else launches.
   */
  async launchFleet(input: FleetInput): Promise<FleetAnswerDto> {
    const { workerType } = input;
    const raw = isObject(input.raw) ? input.raw : {};
    const reasons = [...input.reasons];
    const candidates = Array.isArray(raw.Candidates) ? (raw.Candidates as unknown[]) : [];
    reasons.push(
      ...(await this.policy.typeReasons(
        workerType,
        candidates.flatMap((c, i) =>
          isObject(c) && typeof c.InstanceType === 'string'
            ? [{ path: `Candidates[${i}].InstanceType`, instanceType: c.InstanceType }]
            : [],
        ),
      )),
    );
    const hash = bodyHash(workerType, raw);
    const region = typeof raw.Region === 'string' && this.config.regions.includes(raw.Region) ? raw.Region : null;
    const token = typeof raw.ClientToken === 'string' && CLIENT_TOKEN.test(raw.ClientToken) ? raw.ClientToken : null;
    const stored = region && token ? await this.answers.find(region, token) : null;
    if (stored && stored.bodyHash !== hash) {
      reasons.push({
        rule: 'client-token',
        path: 'ClientToken',
        message: `ClientToken ${token} was already used in ${region} with another body${
          stored.workerType === workerType ? '' : ` (for worker type ${stored.workerType})`
        }; a new launch needs a new ClientToken`,
      });
    }
    if (reasons.length > 0 || !input.body) {
      this.log.log({ msg: 'fleet refused', workerType, rules: [...new Set(reasons.map((r) => r.rule))] });
      throw InputError.of(sortReasons(reasons));
    }
    if (stored) {
      this.log.log({ msg: 'fleet answered from its stored answer', workerType, region, clientToken: token });
      return stored.answer as FleetAnswerDto;
    }
    return this.launch(workerType, input.body, hash);
  }

  private async launch(workerType: string, body: LaunchFleetDto, hash: string): Promise<FleetAnswerDto> {
    const region = body.Region;
    const spec = body.LaunchSpecification as FleetLaunchSpec;
    const pools = await this.pools(region, body.Candidates);
    let template = await this.call(workerType, 'ec2', () => this.fleets.ensureLaunchTemplate(region, workerType, spec));
    const lifecycles: Lifecycle[] =
      body.Capacity === 'spot' ? ['spot'] : body.Capacity === 'on-demand' ? ['on-demand'] : ['spot', 'on-demand'];
    const strategy = (lifecycle: Lifecycle): string =>
      lifecycle === 'spot'
        ? (body.AllocationStrategy ?? 'price-capacity-optimized')
        : pools.some((p) => p.priority !== undefined)
          ? 'prioritized'
          : 'lowest-price';
    const ask = (lifecycle: Lifecycle, open: readonly FleetPool[], target: number, clientToken: string) => ({
      workerType,
      template,
      lifecycle,
      target,
      pools: open,
      strategy: strategy(lifecycle),
      maxPrice: body.MaxSpotPrice === undefined ? undefined : formatPrice(body.MaxSpotPrice),
      clientToken,
    });
    const dryRun = () =>
      this.call(workerType, 'dry-run', () =>
        this.fleets.createFleet(region, ask(lifecycles[0], pools, body.Count, body.ClientToken), { dryRun: true }),
      );
    try {
      await dryRun();
    } catch (err) {
      // Housekeeping deleted the template (unused for a day) between finding it and using it: make it again.
      if ((err as { details?: { ec2Code?: string } }).details?.ec2Code !== 'InvalidLaunchTemplateId.NotFound')
        throw err;
      template = await this.call(workerType, 'ec2', () => this.fleets.ensureLaunchTemplate(region, workerType, spec));
      await dryRun();
    }
    await this.templates.recordUse({ region, name: template.name, templateId: template.id, workerType });

    const grant = await this.policy.reserve(workerType, body.Count);
    const answer: FleetAnswerDto = {
      launched: [],
      errors: [],
      skipped: [],
      trimmedByPolicy: body.Count - grant.granted,
      fellBackToOnDemand: false,
    };
    try {
      const [capacity, quota] = await Promise.all([
        this.cooldowns.active({ region }),
        this.cooldowns.activeQuota({ region }),
      ]);
      let remaining = grant.granted;
      for (const lifecycle of lifecycles) {
        if (remaining <= 0) break;
        const fallback = lifecycle === 'on-demand' && body.Capacity === 'spot-then-on-demand';
        answer.fellBackToOnDemand ||= fallback;
        const quotaCooldown = quota.find((q) => q.lifecycle === lifecycle);
        if (quotaCooldown) {
          answer.skipped.push({ lifecycle, reason: 'quota-cooldown', until: quotaCooldown.until });
          continue;
        }
        const open: FleetPool[] = [];
        for (const p of pools) {
          const cooled = capacityCooldownOf(capacity, p, lifecycle);
          if (!cooled) open.push(p);
          else {
            answer.skipped.push({
              instanceType: p.instanceType,
              availabilityZone: p.availabilityZone,
              lifecycle,
              reason: 'capacity-cooldown',
              until: cooled.until,
            });
          }
        }
        if (open.length === 0) continue;
        const token = fallback ? onDemandToken(body.ClientToken) : body.ClientToken;
        const outcome = await this.phase(workerType, body, template, ask(lifecycle, open, remaining, token));
        answer.launched.push(
          ...outcome.launched.map((i) => ({
            instanceId: i.instanceId,
            instanceType: i.instanceType,
            availabilityZone: i.availabilityZone,
            lifecycle: i.lifecycle,
          })),
        );
        answer.errors.push(
          ...outcome.errors.map((e) => ({
            instanceType: e.instanceType,
            availabilityZone: e.availabilityZone,
            lifecycle: e.lifecycle,
            code: e.code,
            message: e.message,
          })),
        );
        remaining -= outcome.launched.length;
      }
      await this.tx.run(async (m) => {
        await this.answers.store({ region, clientToken: body.ClientToken, workerType, bodyHash: hash, answer }, m);
        await this.policy.release(grant, m);
      });
    } catch (err) {
      await this.policy.release(grant).catch((e: unknown) => {
        this.log.warn({ msg: 'cannot release launch reservation; it expires on its own', workerType, err: e });
      });
      throw err;
    }
    this.log.log({
      msg: 'fleet launched',
      workerType,
      region,
      clientToken: body.ClientToken,
      count: body.Count,
      launched: answer.launched.length,
      errors: answer.errors.length,
      skipped: answer.skipped.length,
      trimmedByPolicy: answer.trimmedByPolicy,
      fellBackToOnDemand: answer.fellBackToOnDemand,
    });
    return answer;
  }

  /**
   * One `CreateFleet` for one lifecycle, and in one transaction what it taught: its instances in state as
   * `pending`, the cooldowns its pool errors start, and its outcomes. A whole call refused for a quota
   * (`MaxFleetCountExceeded`) or capacity is the error of every pool it asked.
   */
  private async phase(
    workerType: string,
    body: LaunchFleetDto,
    template: LaunchTemplateRef,
    ask: Parameters<Ec2FleetGateway['createFleet']>[1],
  ): Promise<FleetOutcome> {
    const region = body.Region;
    const launchedAt = launchSecond();
    let outcome: FleetOutcome;
    try {
      outcome = await this.fleets.createFleet(region, ask);
    } catch (err) {
      const code = awsErrorCode(err);
      if (!isAwsError(err) || !classifyLaunchError(code).cooldown) {
        throw translateLaunchError(this.keyPairs, workerType, 'ec2', err);
      }
      const message = err.message.replace(/^\S+ \S+: /, '');
      outcome = {
        launched: [],
        errors: ask.pools.map((p) => ({
          instanceType: p.instanceType,
          availabilityZone: p.availabilityZone ?? '',
          lifecycle: ask.lifecycle,
          code: code ?? 'Unknown',
          message,
        })),
      };
    }
    const zoneOfSubnet = new Map(
      ask.pools.flatMap((p) => (p.subnetId ? [[p.subnetId, p.availabilityZone ?? '']] : [])),
    );
    for (const e of outcome.errors)
      if (!e.availabilityZone && e.subnetId) e.availabilityZone = zoneOfSubnet.get(e.subnetId) ?? '';
    for (const i of outcome.launched)
      if (!i.availabilityZone && i.subnetId) i.availabilityZone = zoneOfSubnet.get(i.subnetId) ?? '';

    const capacityCooldowns = outcome.errors
      .filter((e) => classifyLaunchError(e.code).cooldown === 'capacity')
      .map((e) => ({
        region,
        az: e.availabilityZone || '*',
        instanceType: e.instanceType,
        lifecycle: e.lifecycle,
        reason: e.code,
        workerType,
        spotRequestId: '',
      }));
    const quotaCooldowns = outcome.errors
      .filter((e) => classifyLaunchError(e.code).cooldown === 'quota')
      .map((e) => ({ region, lifecycle: e.lifecycle, reason: e.code, message: e.message, workerType }));
    const rows: NewLaunchOutcome[] = [
      ...successRows(outcome),
      ...outcome.errors.map((e) => ({
        az: e.availabilityZone,
        instanceType: e.instanceType,
        lifecycle: e.lifecycle,
        outcome: classifyLaunchError(e.code).outcome,
        count: 0,
        code: e.code,
        message: e.message,
      })),
    ].map((r) => ({ ...r, workerType, region, endpoint: 'fleet' as const, clientToken: ask.clientToken }));

    await this.tx.run(async (m) => {
      await this.instances.upsertMany(
        outcome.launched.map((i) => ({
          region,
          id: i.instanceId,
          workerType,
          az: i.availabilityZone,
          instanceType: i.instanceType,
          state: 'pending' as const,
          spotRequestId: null,
          imageId: body.LaunchSpecification.ImageId,
          launched: launchedAt,
          lastEvent: launchedAt,
        })),
        m,
      );
      if (outcome.launched.length > 0) {
        await this.usage.recordAmiUsage(region, [body.LaunchSpecification.ImageId], new Date(), m);
      }
      if (capacityCooldowns.length > 0) {
        await this.cooldowns.record(capacityCooldowns, this.config.capacityCooldownSeconds, m);
      }
      if (quotaCooldowns.length > 0) {
        await this.cooldowns.recordQuota(quotaCooldowns, this.config.quotaCooldownSeconds, m);
      }
      await this.outcomes.record(rows, m);
      await this.templates.recordUse({ region, name: template.name, templateId: template.id, workerType }, m);
    });
    if (capacityCooldowns.length + quotaCooldowns.length > 0) {
      this.log.warn({
        msg: 'fleet pools in cooldown',
        workerType,
        region,
        lifecycle: ask.lifecycle,
        capacity: capacityCooldowns.map((c) => `${c.az}/${c.instanceType}`),
        quota: quotaCooldowns.map((q) => q.reason),
      });
    }
    return outcome;
  }

  /**
   * The candidate pools: a candidate's zone, its subnet (in the subnet's zone), or every available zone
   * of the region. An unknown subnet, or more pools than one fleet takes, is the caller's to fix (400).
   */
  private async pools(region: string, candidates: readonly FleetCandidateDto[]): Promise<FleetPool[]> {
    const everyZone = candidates.some((c) => c.AvailabilityZone === undefined && c.SubnetId === undefined);
    const [zones, subnetZones] = await Promise.all([
      everyZone ? this.call('', 'ec2', () => this.ec2.availableZones(region)) : Promise.resolve([]),
      this.call('', 'ec2', () =>
        this.fleets.subnetZones(
          region,
          candidates.flatMap((c) => c.SubnetId ?? []),
        ),
      ),
    ]);
    const reasons: Reason[] = [];
    const pools = new Map<string, FleetPool>();
    candidates.forEach((c, i) => {
      const add = (p: FleetPool) => pools.set(`${p.instanceType}|${p.availabilityZone}|${p.subnetId}`, p);
      const base = { instanceType: c.InstanceType, priority: c.Priority };
      if (c.SubnetId !== undefined) {
        const zone = subnetZones.get(c.SubnetId);
        if (zone) add({ ...base, subnetId: c.SubnetId, availabilityZone: zone });
        else {
          reasons.push({
            rule: 'candidates',
            path: `Candidates[${i}].SubnetId`,
            message: `subnet ${c.SubnetId} does not exist in ${region}`,
          });
        }
      } else if (c.AvailabilityZone !== undefined) add({ ...base, availabilityZone: c.AvailabilityZone });
      else for (const zone of zones) add({ ...base, availabilityZone: zone });
    });
    if (pools.size > MAX_POOLS) {
      reasons.push({
        rule: 'candidates',
        path: 'Candidates',
        message: `${pools.size} pools (candidates × zones) exceed the ${MAX_POOLS} one fleet can ask for: give zones`,
      });
    }
    if (reasons.length > 0) throw InputError.of(reasons);
    return [...pools.values()];
  }

  private call<T>(workerType: string, rule: string, call: () => Promise<T>): Promise<T> {
    return launchEc2Call(this.keyPairs, workerType, rule, call);
  }
}

/** The capacity cooldown that holds a pool back, if any: of its zone, or of its whole region (`*`). */
function capacityCooldownOf(
  cooldowns: readonly CapacityCooldown[],
  pool: FleetPool,
  lifecycle: Lifecycle,
): CapacityCooldown | undefined {
  return cooldowns.find(
    (c) =>
      c.lifecycle === lifecycle &&
      c.instanceType === pool.instanceType &&
      (c.az === '*' || c.az === pool.availabilityZone),
  );
}

/** One success outcome per pool that launched, with how many. */
function successRows(
  outcome: FleetOutcome,
): Omit<NewLaunchOutcome, 'workerType' | 'region' | 'endpoint' | 'clientToken'>[] {
  const byPool = new Map<string, { az: string; instanceType: string; lifecycle: string; count: number }>();
  for (const i of outcome.launched) {
    const key = `${i.availabilityZone}|${i.instanceType}|${i.lifecycle}`;
    const row = byPool.get(key) ?? {
      az: i.availabilityZone,
      instanceType: i.instanceType,
      lifecycle: i.lifecycle,
      count: 0,
    };
    row.count++;
    byPool.set(key, row);
  }
  return [...byPool.values()].map((r) => ({ ...r, outcome: 'success' as const, code: null, message: null }));
}
