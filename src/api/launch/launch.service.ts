import { Injectable, Logger } from '@nestjs/common';
import { awsErrorCode } from '../../aws/aws-error';
import { InputError } from '../../common/errors';
import { Grant } from '../../state/worker-type-policy.repository';
import { LaunchPolicyService } from '../../launch-policy/launch-policy.service';
import { Ec2Gateway, LaunchSpec } from '../../ec2/ec2-gateway.service';
import { InstanceRepository } from '../../state/instance.repository';
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
    await this.checkPolicy(workerType, 'LaunchSpecification', spec.InstanceType);
    await this.ec2Call(workerType, 'dry-run', () =>
      this.ec2.requestSpotInstances(body.Region, launch, { dryRun: true }),
    );
    const requests = await this.withRoom(workerType, async (grant) => {
      const requests = await this.ec2Call(workerType, 'ec2', () => this.ec2.requestSpotInstances(body.Region, launch));
      await this.tx.run(async (m) => {
        // Only an open request is pending capacity; a fulfilled one's instance arrives through events.
        const open = requests.filter((r) => r.state === 'open');
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
        await this.usage.recordAmiUsage(body.Region, [spec.ImageId], new Date(), m);
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
    await this.checkPolicy(workerType, 'LaunchInfo', spec.InstanceType);
    await this.ec2Call(workerType, 'dry-run', () => this.ec2.runInstances(body.Region, launch, { dryRun: true }));
    const launched = await this.withRoom(workerType, async (grant) => {
      const launched = await this.ec2Call(workerType, 'ec2', () => this.ec2.runInstances(body.Region, launch));
      await this.tx.run(async (m) => {
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
        await this.usage.recordAmiUsage(body.Region, [spec.ImageId], new Date(), m);
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

  private ec2Call<T>(workerType: string, rule: string, call: () => Promise<T>): Promise<T> {
    return launchEc2Call(this.keyPairs, workerType, rule, call);
  }
}
