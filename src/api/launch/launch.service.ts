import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { awsErrorCode } from '../../aws/aws-error';
import { InputError, ServiceUnavailableError } from '../../common/errors';
import { classifyLaunchError } from '../../ec2/launch-errors';
import { reportError } from '../../logging/report';
import { DatabaseUnavailableError, isDatabaseUnavailable } from '../../state/database-errors';
import { DatabaseStatusService } from '../../state/database-status.service';
import { Grant } from '../../state/worker-type-policy.repository';
import { LaunchPolicyService } from '../../launch-policy/launch-policy.service';
import { Ec2Gateway, LaunchSpec } from '../../ec2/ec2-gateway.service';
import { InstanceRepository } from '../../state/instance.repository';
import { LaunchOutcomeRepository, NewLaunchOutcome } from '../../state/launch-outcome.repository';
import { SpotRequestRepository } from '../../state/spot-request.repository';
import { Tx } from '../../state/tx.service';
import { UsageRepository } from '../../state/usage.repository';
import { RequestSpotInstanceDto, RunInstanceDto } from '../dto/launch.dto';
import { translateEc2Error } from '../ec2-answers';
import { KeyPairsService } from '../key-pairs.service';

/** EC2 wants a decimal string; `String(1e-7)` would give it an exponent. */
export function formatPrice(price: number): string {
  return price.toFixed(6).replace(/\.?0+$/, '');
}

/** How long a caller is told to wait before retrying a launch that was not recorded. */
const RETRY_AFTER_SECONDS = 5;

/**
 * EC2 launched, but recording it in state failed (SPEC §9): a 503 telling the caller to retry with the
 * same ClientToken. EC2 answers that retry with the same resources, and the retry records them; it
 * launches nothing again.
 */
export class LaunchNotRecordedError extends ServiceUnavailableError {
  constructor(region: string, clientToken: string, ids: string[], cause: unknown) {
    const database = isDatabaseUnavailable(cause);
    super(
      `launched ${ids.join(', ') || 'nothing new'} in ${region} but could not record it` +
        `${database ? ': the state database is unavailable' : ''}; retry with the same ClientToken (${clientToken})` +
        ' to complete it: the retry launches nothing again',
      { cause: database ? 'database' : 'state-write', clientToken, region, ids },
      RETRY_AFTER_SECONDS,
    );
  }
}

const keyPairHint = (code: string) =>
  code === 'InvalidKeyPair.NotFound' ? 'call ensureKeyPair for this worker type first' : undefined;

/**
 * One EC2 call of a launch; its refusals become 400s naming the rule (`dry-run` or `ec2`), and a key
 * pair EC2 does not know is forgotten, so that the next ensureKeyPair imports it again.
 */
export async function launchEc2Call<T>(
  keyPairs: KeyPairsService,
  workerType: string,
  rule: string,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw translateLaunchError(keyPairs, workerType, rule, err);
  }
}

/** What `launchEc2Call` makes of an EC2 error, for a caller that looked at it first. */
export function translateLaunchError(
  keyPairs: KeyPairsService,
  workerType: string,
  rule: string,
  err: unknown,
): unknown {
  if (awsErrorCode(err) === 'InvalidKeyPair.NotFound') keyPairs.forget(workerType);
  return translateEc2Error(err, rule, keyPairHint);
}

/**
 * The two launch endpoints, given a body that passed every rule EC2 is not needed for: a DryRun, then
 * the launch itself with the caller's ClientToken, so that a retry launches nothing twice.
 */
@Injectable()
export class LaunchService {
  private readonly log = new Logger(LaunchService.name);

  constructor(
    private readonly ec2: Ec2Gateway,
    private readonly tx: Tx,
    private readonly instances: InstanceRepository,
    private readonly requests: SpotRequestRepository,
    private readonly usage: UsageRepository,
    private readonly keyPairs: KeyPairsService,
    private readonly policy: LaunchPolicyService,
    private readonly database: DatabaseStatusService,
    private readonly outcomes: LaunchOutcomeRepository,
  ) {}

  /** `body` has passed every rule that needs no EC2 (`LaunchBodyPipe`). */
  async requestSpotInstance(workerType: string, body: RequestSpotInstanceDto): Promise<void> {
    const spec = body.LaunchSpecification;
    const launch = {
      workerType,
      clientToken: body.ClientToken,
      spotPrice: formatPrice(body.SpotPrice),
      spec: spec as LaunchSpec,
    };
    this.assertDatabaseAvailable();
    await this.checkPolicy(workerType, 'LaunchSpecification', spec.InstanceType);
    const attempt = this.attempt(workerType, body.Region, body.ClientToken, 'spot-request', 'spot', spec);
    await attempt.call('dry-run', () => this.ec2.requestSpotInstances(body.Region, launch, { dryRun: true }));
    const requests = await this.withRoom(workerType, async (grant) => {
      const requests = await attempt.call('ec2', () => this.ec2.requestSpotInstances(body.Region, launch));
      // Only an open request is pending capacity; a fulfilled one's instance arrives through events.
      const open = requests.filter((r) => r.state === 'open');
      const ids = requests.map((r) => r.id);
      await this.record(body.Region, body.ClientToken, ids, spec.ImageId, async (m) => {
        await attempt.succeeded(requests.length, m);
        await this.requests.upsertMany(
          open.map((r) => ({
            ...r.row,
            az: r.row.az || spec.Placement?.AvailabilityZone || '',
            instanceType: r.row.instanceType || spec.InstanceType,
            imageId: r.row.imageId || spec.ImageId,
            status: r.row.status || 'pending-evaluation',
          })),
          m,
        );
        await this.policy.release(grant, m);
      });
      return requests;
    });
    this.log.log({
      msg: 'spot instance requested',
      workerType,
      region: body.Region,
      ids: requests.map((r) => r.id),
      clientToken: body.ClientToken,
    });
  }

  /** `body` has passed every rule that needs no EC2 (`LaunchBodyPipe`). */
  async runInstance(workerType: string, body: RunInstanceDto): Promise<void> {
    const spec = body.LaunchInfo;
    const launch = {
      workerType,
      clientToken: body.ClientToken,
      spec: spec as LaunchSpec,
      spot:
        body.RequestType === 'spot'
          ? { maxPrice: body.SpotPrice === undefined ? undefined : formatPrice(body.SpotPrice) }
          : undefined,
    };
    this.assertDatabaseAvailable();
    await this.checkPolicy(workerType, 'LaunchInfo', spec.InstanceType);
    const lifecycle = body.RequestType === 'spot' ? 'spot' : 'on-demand';
    const attempt = this.attempt(workerType, body.Region, body.ClientToken, 'instance', lifecycle, spec);
    await attempt.call('dry-run', () => this.ec2.runInstances(body.Region, launch, { dryRun: true }));
    const launched = await this.withRoom(workerType, async (grant) => {
      const launched = await attempt.call('ec2', () => this.ec2.runInstances(body.Region, launch));
      const ids = launched.map((i) => i.id);
      await this.record(body.Region, body.ClientToken, ids, spec.ImageId, async (m) => {
        await attempt.succeeded(launched.length, m);
        await this.instances.upsertMany(
          launched.flatMap((i) =>
            i.row
              ? [
                  {
                    ...i.row,
                    az: i.row.az || spec.Placement?.AvailabilityZone || '',
                    instanceType: i.row.instanceType || spec.InstanceType,
                    imageId: i.row.imageId || spec.ImageId,
                  },
                ]
              : [],
          ),
          m,
        );
        await this.policy.release(grant, m);
      });
      return launched;
    });
    this.log.log({
      msg: 'instance launched',
      workerType,
      region: body.Region,
      requestType: body.RequestType,
      ids: launched.map((i) => i.id),
      clientToken: body.ClientToken,
    });
  }

  /**
   * Records what EC2 launched, with the AMI's use, in one transaction. Its failure leaves resources in
   * EC2 that state does not know yet (their events may still bring them): the caller is told to retry.
   */
  private async record(
    region: string,
    clientToken: string,
    ids: string[],
    imageId: string,
    write: (m: EntityManager) => Promise<unknown>,
  ): Promise<void> {
    try {
      await this.tx.run(async (m) => {
        await write(m);
        await this.usage.recordAmiUsage(region, [imageId], new Date(), m);
      });
    } catch (err) {
      this.database.noteFailure(err);
      this.log.error({ msg: 'launched but not recorded; the caller is told to retry', region, clientToken, ids, err });
      if (!isDatabaseUnavailable(err)) reportError(err, { tags: { region, stage: 'launch-record' } });
      throw new LaunchNotRecordedError(region, clientToken, ids, err);
    }
  }

  /** Nothing is launched that could not be recorded: with the database known down, a 503 before EC2 is asked. */
  private assertDatabaseAvailable(): void {
    if (!this.database.available) throw new DatabaseUnavailableError('status probe: no answer');
  }

  /** The worker type's allowed instance types (SPEC §11): a 400 with rule `policy` before EC2 is asked. */
  private async checkPolicy(workerType: string, specKey: string, instanceType: string): Promise<void> {
    const reasons = await this.policy.typeReasons(workerType, [{ path: `${specKey}.InstanceType`, instanceType }]);
    if (reasons.length > 0) throw InputError.of(reasons);
  }

  /**
   * Runs a one-instance launch in room taken under the worker type's `maxInstances` (409 when there is
   * none); `launch` gives the room back in the transaction that writes its result, and a failed launch
   * gives it back here.
   */
  private async withRoom<T>(workerType: string, launch: (grant: Grant) => Promise<T>): Promise<T> {
    const grant = await this.policy.reserveOne(workerType);
    try {
      return await launch(grant);
    } catch (err) {
      await this.policy.release(grant).catch((e: unknown) => {
        this.log.warn({ msg: 'cannot release launch reservation; it expires on its own', workerType, err: e });
      });
      throw err;
    }
  }

  /**
   * One launch attempt in one pool (SPEC §12): an EC2 refusal of its DryRun or of the launch is recorded
   * with its outcome, code and message before it becomes the answer; a success is recorded with what it
   * wrote. A failure to record a refusal is logged and never changes the answer.
   */
  private attempt(
    workerType: string,
    region: string,
    clientToken: string,
    endpoint: NewLaunchOutcome['endpoint'],
    lifecycle: string,
    spec: { InstanceType: string; Placement?: { AvailabilityZone?: string } },
  ) {
    const pool = {
      workerType,
      region,
      az: spec.Placement?.AvailabilityZone ?? '',
      instanceType: spec.InstanceType,
      lifecycle,
      endpoint,
      clientToken,
    };
    return {
      call: async <T>(rule: string, call: () => Promise<T>): Promise<T> => {
        try {
          return await call();
        } catch (err) {
          const code = awsErrorCode(err);
          const row: NewLaunchOutcome = {
            ...pool,
            outcome: classifyLaunchError(code).outcome,
            count: 1,
            code: code ?? (err instanceof Error ? err.name : null),
            message: err instanceof Error ? err.message : String(err),
          };
          await this.outcomes.record([row]).catch((e: unknown) => {
            this.log.warn({ msg: 'cannot record a launch outcome', workerType, region, err: e });
          });
          throw translateLaunchError(this.keyPairs, workerType, rule, err);
        }
      },
      succeeded: (count: number, m: EntityManager) =>
        this.outcomes.record([{ ...pool, outcome: 'success', count, code: null, message: null }], m),
    };
  }
}
