import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { Ec2Gateway } from '../ec2/ec2-gateway.service';
import { keyPairNameFor } from '../ec2/naming';

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
    private readonly ec2: Ec2Gateway,
  ) {}

  /** Imports the worker type's key pair where it is missing; remembered, so repeated calls cost nothing. */
  async ensure(workerType: string): Promise<void> {
    const name = keyPairNameFor(this.config, workerType);
    const until = this.ensured.get(name);
    if (until !== undefined && until > Date.now()) return;
    await Promise.all(
      this.config.regions.map(async (region) => {
        if ((await this.ec2.ensureKeyPair(region, workerType)) === 'imported') {
          this.log.log({ msg: 'key pair imported', region, keyName: name, workerType });
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
        if ((await this.ec2.deleteKeyPair(region, workerType)) === 'deleted') {
          this.log.log({ msg: 'key pair deleted', region, keyName: name, workerType });
        }
      }),
    );
  }

  forget(workerType: string): void {
    this.ensured.delete(keyPairNameFor(this.config, workerType));
  }
}
