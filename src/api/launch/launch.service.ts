import {
  RequestSpotInstancesCommand,
  RequestSpotInstancesCommandInput,
  RunInstancesCommand,
  RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import { Injectable, Logger } from '@nestjs/common';
import { awsErrorCode } from '../../aws/aws-error';
import { AwsClients } from '../../aws/aws-clients.service';
import { resourceTags } from '../../aws/naming';
import { AppConfig } from '../../config/app-config';
import { isLiveInstanceState } from '../../state/entities';
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
    private readonly config: AppConfig,
    private readonly aws: AwsClients,
    private readonly tx: Tx,
    private readonly instances: InstanceRepository,
    private readonly requests: SpotRequestRepository,
    private readonly usage: UsageRepository,
    private readonly keyPairs: KeyPairsService,
  ) {}

  /** `body` has passed every rule that needs no EC2 (`LaunchBodyPipe`). */
  async requestSpotInstance(workerType: string, body: RequestSpotInstanceDto): Promise<void> {
    const spec = body.LaunchSpecification;
    const input: RequestSpotInstancesCommandInput = {
      ClientToken: body.ClientToken,
      SpotPrice: formatPrice(body.SpotPrice),
      InstanceCount: 1,
      Type: 'one-time',
      LaunchSpecification: spec,
      TagSpecifications: [
        { ResourceType: 'spot-instances-request', Tags: resourceTags(this.config.managerId, workerType) },
      ],
    };
    const ec2 = this.aws.ec2(body.Region);
    await this.ec2Call(workerType, body.Region, 'dry-run', () =>
      ec2.send(new RequestSpotInstancesCommand({ ...input, DryRun: true })),
    );
    const answer = await this.ec2Call(workerType, body.Region, 'ec2', () =>
      ec2.send(new RequestSpotInstancesCommand(input)),
    );
    const requests = answer?.SpotInstanceRequests ?? [];
    await this.tx.run(async (m) => {
      // Only an open request is pending capacity; a fulfilled one's instance arrives through events.
      const open = requests.filter((r) => r.State === 'open' && r.SpotInstanceRequestId);
      await this.requests.upsertMany(
        open.map((r) => ({
          region: body.Region,
          id: r.SpotInstanceRequestId!,
          workerType,
          az:
            r.LaunchSpecification?.Placement?.AvailabilityZone ??
            r.LaunchedAvailabilityZone ??
            spec.Placement?.AvailabilityZone ??
            '',
          instanceType: r.LaunchSpecification?.InstanceType ?? spec.InstanceType,
          state: r.State!,
          status: r.Status?.Code ?? 'pending-evaluation',
          imageId: r.LaunchSpecification?.ImageId ?? spec.ImageId,
          created: r.CreateTime ?? new Date(),
        })),
        m,
      );
      await this.usage.recordAmiUsage(body.Region, [spec.ImageId], new Date(), m);
    });
    this.log.log({
      msg: 'spot instance requested',
      workerType,
      region: body.Region,
      ids: requests.map((r) => r.SpotInstanceRequestId),
      clientToken: body.ClientToken,
    });
  }

  /** `body` has passed every rule that needs no EC2 (`LaunchBodyPipe`). */
  async runInstance(workerType: string, body: RunInstanceDto): Promise<void> {
    const spec = body.LaunchInfo;
    // AddressingType has no RunInstances counterpart (EC2 deprecated it); it is accepted and left out.
    const { AddressingType: _unused, ...launch } = spec;
    const tags = resourceTags(this.config.managerId, workerType);
    const input: RunInstancesCommandInput = {
      ...launch,
      MinCount: 1,
      MaxCount: 1,
      ClientToken: body.ClientToken,
      TagSpecifications: [
        { ResourceType: 'instance', Tags: tags },
        { ResourceType: 'volume', Tags: tags },
      ],
      InstanceMarketOptions:
        body.RequestType === 'spot'
          ? {
              MarketType: 'spot',
              SpotOptions: {
                MaxPrice: body.SpotPrice === undefined ? undefined : formatPrice(body.SpotPrice),
                SpotInstanceType: 'one-time',
                InstanceInterruptionBehavior: 'terminate',
              },
            }
          : undefined,
    };
    const ec2 = this.aws.ec2(body.Region);
    await this.ec2Call(workerType, body.Region, 'dry-run', () =>
      ec2.send(new RunInstancesCommand({ ...input, DryRun: true })),
    );
    const answer = await this.ec2Call(workerType, body.Region, 'ec2', () => ec2.send(new RunInstancesCommand(input)));
    const launched = answer?.Instances ?? [];
    await this.tx.run(async (m) => {
      const live = launched.filter((i) => i.InstanceId && isLiveInstanceState(i.State?.Name ?? ''));
      await this.instances.upsertMany(
        live.map((i) => {
          const at = i.LaunchTime ?? new Date();
          return {
            region: body.Region,
            id: i.InstanceId!,
            workerType,
            az: i.Placement?.AvailabilityZone ?? spec.Placement?.AvailabilityZone ?? '',
            instanceType: i.InstanceType ?? spec.InstanceType,
            state: i.State!.Name as 'pending' | 'running',
            spotRequestId: i.SpotInstanceRequestId ?? null,
            imageId: i.ImageId ?? spec.ImageId,
            launched: at,
            lastEvent: at,
          };
        }),
        m,
      );
      await this.usage.recordAmiUsage(body.Region, [spec.ImageId], new Date(), m);
    });
    this.log.log({
      msg: 'instance launched',
      workerType,
      region: body.Region,
      requestType: body.RequestType,
      ids: launched.map((i) => i.InstanceId),
      clientToken: body.ClientToken,
    });
  }

  /** One EC2 call of a launch; its refusals become 400s naming the rule (`dry-run` or `ec2`). */
  private async ec2Call<T>(
    workerType: string,
    region: string,
    rule: string,
    call: () => Promise<T>,
  ): Promise<T | undefined> {
    try {
      return await call();
    } catch (err) {
      if (rule === 'dry-run' && awsErrorCode(err) === 'DryRunOperation') return undefined;
      if (awsErrorCode(err) === 'InvalidKeyPair.NotFound') this.keyPairs.forget(workerType);
      throw translateEc2Error(err, rule, keyPairHint);
    }
  }
}
