import {
  CreateFleetCommand,
  CreateFleetCommandInput,
  CreateLaunchTemplateCommand,
  DeleteLaunchTemplateCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSubnetsCommand,
  FleetLaunchTemplateOverridesRequest,
  paginateDescribeLaunchTemplates,
  RequestLaunchTemplateData,
  RequestSpotLaunchSpecification,
} from '@aws-sdk/client-ec2';
import { Injectable } from '@nestjs/common';
import { hasAwsErrorCode } from '../aws/aws-error';
import { AppConfig } from '../config/app-config';
import { Ec2Clients } from './ec2-clients.service';
import { dryRun, fence, LaunchOptions, MutationOptions } from './ec2-gateway.service';
import {
  launchDataHash,
  launchTemplateName,
  launchTemplateWorkerType,
  ownLaunchTemplateFilter,
} from './launch-template-naming';
import { ownedWorkerType, resourceTags } from './naming';

export type Lifecycle = 'spot' | 'on-demand';

/**
 * What every instance of a fleet shares, in EC2's field names (SPEC §11): the launch specification of §8
 * without `InstanceType` and `Placement` (they come from the pools), plus `MetadataOptions` and
 * `CreditSpecification`. `KeyName` must be the worker type's key pair.
 */
export type FleetLaunchSpec = Omit<RequestSpotLaunchSpecification, 'InstanceType' | 'Placement' | 'RamdiskId'> & {
  ImageId: string;
  KeyName: string;
  RamdiskId?: string;
  MetadataOptions?: {
    HttpTokens?: 'required' | 'optional';
    HttpPutResponseHopLimit?: number;
    HttpEndpoint?: 'enabled' | 'disabled';
  };
  CreditSpecification?: { CpuCredits: string };
};

export interface LaunchTemplateRef {
  id: string;
  name: string;
  /** Whether this call created it. */
  created: boolean;
}

/** A launch template of ours (its name and its default version's key pair say so). */
export interface OurLaunchTemplate {
  id: string;
  name: string;
  workerType: string;
  created: Date;
}

/** One capacity pool of a fleet: an instance type in a zone, or in a subnet. */
export interface FleetPool {
  instanceType: string;
  availabilityZone?: string;
  subnetId?: string;
  priority?: number;
}

export interface FleetAsk {
  workerType: string;
  template: LaunchTemplateRef;
  lifecycle: Lifecycle;
  target: number;
  pools: readonly FleetPool[];
  /** Spot: `price-capacity-optimized`, `capacity-optimized`, `lowest-price`, `diversified`; on-demand: `lowest-price`, `prioritized`. */
  strategy: string;
  /** Spot only: the most to pay per instance hour, as EC2 wants it (a decimal string). */
  maxPrice?: string;
  clientToken: string;
}

export interface FleetLaunched {
  instanceId: string;
  instanceType: string;
  availabilityZone: string;
  subnetId?: string;
  lifecycle: Lifecycle;
}

export interface FleetPoolError {
  instanceType: string;
  availabilityZone: string;
  subnetId?: string;
  lifecycle: Lifecycle;
  code: string;
  message: string;
}

export interface FleetOutcome {
  launched: FleetLaunched[];
  errors: FleetPoolError[];
}

/**
 * The fleet half of the EC2 gateway (SPEC §11): launch templates of ours and `CreateFleet` (`instant`).
 * Like `Ec2Gateway`, the only code that builds these commands: it names and tags the templates, forces
 * `terminate` on shutdown, defaults `HttpTokens: required`, and parses the ownership of every template
 * it lists before handing it out.
 */
@Injectable()
export class Ec2FleetGateway {
  constructor(
    private readonly config: AppConfig,
    private readonly clients: Ec2Clients,
  ) {}

  /** The template data a fleet of the worker type launches from: the spec plus what every launch of ours carries. */
  templateData(workerType: string, spec: FleetLaunchSpec): RequestLaunchTemplateData {
    const { RamdiskId, AddressingType: _deprecated, ...rest } = spec;
    const tags = resourceTags(this.config.managerId, workerType);
    return {
      ...(rest as RequestLaunchTemplateData),
      RamDiskId: RamdiskId,
      MetadataOptions: { HttpTokens: 'required', ...spec.MetadataOptions },
      InstanceInitiatedShutdownBehavior: 'terminate',
      // Instant fleets tag instances themselves, but volumes only through the template.
      TagSpecifications: [
        { ResourceType: 'instance', Tags: tags },
        { ResourceType: 'volume', Tags: tags },
      ],
    };
  }

  /**
   * The template for this worker type and launch specification: found by its name, else created. Two
   * replicas creating it at once make one: the name is unique, the loser finds the winner's. No
   * ClientToken: EC2 would answer a token's first template even after housekeeping deleted it.
   */
  async ensureLaunchTemplate(
    region: string,
    workerType: string,
    spec: FleetLaunchSpec,
    opts: MutationOptions = {},
  ): Promise<LaunchTemplateRef> {
    this.assertOurKey(workerType, spec.KeyName);
    const data = this.templateData(workerType, spec);
    const name = launchTemplateName(this.config.managerId, workerType, launchDataHash(data));
    const found = await this.templateByName(region, name);
    if (found) return { id: found, name, created: false };
    try {
      const out = await this.client(region).send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: name,
          LaunchTemplateData: data,
          TagSpecifications: [
            { ResourceType: 'launch-template', Tags: resourceTags(this.config.managerId, workerType) },
          ],
        }),
        fence(opts),
      );
      const id = out.LaunchTemplate?.LaunchTemplateId;
      if (!id) throw new Error(`${region}: CreateLaunchTemplate answered no id for ${name}`);
      return { id, name, created: true };
    } catch (err) {
      if (!hasAwsErrorCode(err, 'InvalidLaunchTemplateName.AlreadyExistsException')) throw err;
      const id = await this.templateByName(region, name);
      if (!id) throw err;
      return { id, name, created: false };
    }
  }

  /**
   * Every launch template of ours in the region: its name parses as ours (`<managerId>/<wt>/<hash>`) and
   * its default version launches with a key pair of that worker type. A template another team named
   * like ours fails the second test and is never listed.
   */
  async ourLaunchTemplates(region: string): Promise<OurLaunchTemplate[]> {
    const named: OurLaunchTemplate[] = [];
    for await (const page of paginateDescribeLaunchTemplates(
      { client: this.client(region), pageSize: 200 },
      { Filters: [{ Name: 'launch-template-name', Values: [ownLaunchTemplateFilter(this.config.managerId)] }] },
    )) {
      for (const t of page.LaunchTemplates ?? []) {
        const workerType = launchTemplateWorkerType(t.LaunchTemplateName, this.config.managerId);
        if (!workerType || !t.LaunchTemplateId || !t.LaunchTemplateName) continue;
        named.push({
          id: t.LaunchTemplateId,
          name: t.LaunchTemplateName,
          workerType,
          created: t.CreateTime ?? new Date(),
        });
      }
    }
    const ours: OurLaunchTemplate[] = [];
    for (const t of named) {
      const out = await this.client(region).send(
        new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: t.id, Versions: ['$Default'] }),
      );
      const keyName = out.LaunchTemplateVersions?.[0]?.LaunchTemplateData?.KeyName;
      if (ownedWorkerType(keyName, this.config.managerId) === t.workerType) ours.push(t);
    }
    return ours;
  }

  /** Deletes templates of ours; one already gone counts as deleted. Returns the ids deleted. */
  async deleteLaunchTemplates(
    region: string,
    templates: readonly OurLaunchTemplate[],
    opts: MutationOptions = {},
  ): Promise<string[]> {
    const deleted: string[] = [];
    for (const t of templates) {
      try {
        await this.client(region).send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: t.id }), fence(opts));
      } catch (err) {
        if (!hasAwsErrorCode(err, 'InvalidLaunchTemplateId.NotFound')) throw err;
      }
      deleted.push(t.id);
    }
    return deleted;
  }

  /** The zone of each subnet EC2 knows; an unknown id is left out. */
  async subnetZones(region: string, subnetIds: readonly string[]): Promise<Map<string, string>> {
    const zones = new Map<string, string>();
    if (subnetIds.length === 0) return zones;
    const out = await this.client(region).send(
      new DescribeSubnetsCommand({ Filters: [{ Name: 'subnet-id', Values: [...new Set(subnetIds)] }] }),
    );
    for (const s of out.Subnets ?? []) if (s.SubnetId && s.AvailabilityZone) zones.set(s.SubnetId, s.AvailabilityZone);
    return zones;
  }

  /**
   * `CreateFleet` of type `instant` for one lifecycle: the template, one override per pool, the target,
   * the allocation strategy, the §2 tags on the instances, the ClientToken. Answers what launched, pool
   * by pool, and each pool's error as EC2 words it. With `dryRun`, resolves with nothing when EC2 would
   * launch and throws its refusal otherwise.
   */
  async createFleet(region: string, ask: FleetAsk, opts: LaunchOptions = {}): Promise<FleetOutcome> {
    const overrides: FleetLaunchTemplateOverridesRequest[] = ask.pools.map((p) => ({
      InstanceType: p.instanceType as FleetLaunchTemplateOverridesRequest['InstanceType'],
      AvailabilityZone: p.subnetId ? undefined : p.availabilityZone,
      SubnetId: p.subnetId,
      Priority: p.priority,
      MaxPrice: ask.lifecycle === 'spot' ? ask.maxPrice : undefined,
    }));
    const input: CreateFleetCommandInput = {
      Type: 'instant',
      ClientToken: ask.clientToken,
      LaunchTemplateConfigs: [
        {
          LaunchTemplateSpecification: { LaunchTemplateId: ask.template.id, Version: '$Default' },
          Overrides: overrides,
        },
      ],
      TargetCapacitySpecification: { TotalTargetCapacity: ask.target, DefaultTargetCapacityType: ask.lifecycle },
      ...(ask.lifecycle === 'spot'
        ? {
            SpotOptions: {
              AllocationStrategy: ask.strategy as 'lowest-price',
              InstanceInterruptionBehavior: 'terminate',
            },
          }
        : { OnDemandOptions: { AllocationStrategy: ask.strategy as 'lowest-price' } }),
      TagSpecifications: [{ ResourceType: 'instance', Tags: resourceTags(this.config.managerId, ask.workerType) }],
    };
    if (opts.dryRun) {
      const { ClientToken: _token, ...dry } = input;
      await dryRun(region, this.client(region).send(new CreateFleetCommand({ ...dry, DryRun: true }), fence(opts)));
      return { launched: [], errors: [] };
    }
    const out = await this.client(region).send(new CreateFleetCommand(input), fence(opts));
    const launched = (out.Instances ?? []).flatMap((group) =>
      (group.InstanceIds ?? []).map((instanceId) => ({
        instanceId,
        instanceType: group.InstanceType ?? group.LaunchTemplateAndOverrides?.Overrides?.InstanceType ?? '',
        availabilityZone: group.AvailabilityZone ?? group.LaunchTemplateAndOverrides?.Overrides?.AvailabilityZone ?? '',
        subnetId: group.SubnetId ?? group.LaunchTemplateAndOverrides?.Overrides?.SubnetId,
        lifecycle: (group.Lifecycle ?? ask.lifecycle) as Lifecycle,
      })),
    );
    const errors = (out.Errors ?? []).map((e) => ({
      instanceType: e.LaunchTemplateAndOverrides?.Overrides?.InstanceType ?? '',
      availabilityZone: e.LaunchTemplateAndOverrides?.Overrides?.AvailabilityZone ?? '',
      subnetId: e.LaunchTemplateAndOverrides?.Overrides?.SubnetId,
      lifecycle: (e.Lifecycle ?? ask.lifecycle) as Lifecycle,
      code: e.ErrorCode ?? 'Unknown',
      message: e.ErrorMessage ?? '',
    }));
    return { launched, errors };
  }

  private client(region: string) {
    return this.clients.client(region);
  }

  private async templateByName(region: string, name: string): Promise<string | null> {
    for await (const page of paginateDescribeLaunchTemplates(
      { client: this.client(region), pageSize: 200 },
      { Filters: [{ Name: 'launch-template-name', Values: [name] }] },
    )) {
      const t = (page.LaunchTemplates ?? []).find((x) => x.LaunchTemplateName === name);
      if (t?.LaunchTemplateId) return t.LaunchTemplateId;
    }
    return null;
  }

  private assertOurKey(workerType: string, keyName: string): void {
    if (ownedWorkerType(keyName, this.config.managerId) !== workerType) {
      throw new Error(`refusing a launch template with key ${keyName}: not a key pair of worker type ${workerType}`);
    }
  }
}
