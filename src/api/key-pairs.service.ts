import { DeleteKeyPairCommand, DescribeKeyPairsCommand, ImportKeyPairCommand } from '@aws-sdk/client-ec2';
import { Injectable, Logger } from '@nestjs/common';
import { hasAwsErrorCode } from '../aws/aws-error';
import { AwsClients } from '../aws/aws-clients.service';
import { keyPairNameFor, resourceTags } from '../aws/naming';
import { AppConfig } from '../config/app-config';

/**
 * How long an ensured key pair is trusted without asking EC2 again. Bounded because another replica
 * may remove it; a launch that finds it missing forgets it at once (LaunchService).
 */
const ENSURED_TTL_MS = 10 * 60_000;

/** The key pair of each worker type (SPEC §2), present in every configured region. */
@Injectable()
export class KeyPairsService {
  private readonly log = new Logger(KeyPairsService.name);
  private readonly ensured = new Map<string, number>();

  constructor(
    private readonly config: AppConfig,
    private readonly aws: AwsClients,
  ) {}

  /** Imports the worker type's key pair where it is missing; remembered, so repeated calls cost nothing. */
  async ensure(workerType: string): Promise<void> {
    const name = keyPairNameFor(this.config, workerType);
    const until = this.ensured.get(name);
    if (until !== undefined && until > Date.now()) return;
    await Promise.all(
      this.config.regions.map(async (region) => {
        if (await this.exists(region, name)) return;
        try {
          await this.aws.ec2(region).send(
            new ImportKeyPairCommand({
              KeyName: name,
              PublicKeyMaterial: new TextEncoder().encode(this.config.instancePubkey),
              TagSpecifications: [{ ResourceType: 'key-pair', Tags: resourceTags(this.config.managerId, workerType) }],
            }),
          );
          this.log.log({ msg: 'key pair imported', region, keyName: name, workerType });
        } catch (err) {
          // Another caller (or replica) imported it between our describe and our import.
          if (!hasAwsErrorCode(err, 'InvalidKeyPair.Duplicate')) throw err;
        }
      }),
    );
    this.ensured.set(name, Date.now() + ENSURED_TTL_MS);
  }

  /** Deletes the worker type's key pair wherever it is, and forgets it. */
  async remove(workerType: string): Promise<void> {
    const name = keyPairNameFor(this.config, workerType);
    this.ensured.delete(name);
    await Promise.all(
      this.config.regions.map(async (region) => {
        if (!(await this.exists(region, name))) return;
        await this.aws.ec2(region).send(new DeleteKeyPairCommand({ KeyName: name }));
        this.log.log({ msg: 'key pair deleted', region, keyName: name, workerType });
      }),
    );
  }

  forget(workerType: string): void {
    this.ensured.delete(keyPairNameFor(this.config, workerType));
  }

  private async exists(region: string, name: string): Promise<boolean> {
    try {
      const { KeyPairs = [] } = await this.aws.ec2(region).send(new DescribeKeyPairsCommand({ KeyNames: [name] }));
      return KeyPairs.some((k) => k.KeyName === name);
    } catch (err) {
      if (hasAwsErrorCode(err, 'InvalidKeyPair.NotFound')) return false;
      throw err;
    }
  }
}
