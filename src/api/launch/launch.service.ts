import { Injectable, Logger } from '@nestjs/common';
import { awsErrorCode } from '../../aws/aws-error';
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
    await this.ec2Call(workerType, 'dry-run', () =>
      this.ec2.requestSpotInstances(body.Region, launch, { dryRun: true }),
    );
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
    await this.ec2Call(workerType, 'dry-run', () => this.ec2.runInstances(body.Region, launch, { dryRun: true }));
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

  /** One EC2 call of a launch; its refusals become 400s naming the rule (`dry-run` or `ec2`). */
  private async ec2Call<T>(workerType: string, rule: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (awsErrorCode(err) === 'InvalidKeyPair.NotFound') this.keyPairs.forget(workerType);
      throw translateEc2Error(err, rule, keyPairHint);
    }
  }
}
