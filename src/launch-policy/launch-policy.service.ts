import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { LimitExceededError, Reason } from '../common/errors';
import { WorkerTypePolicy } from '../state/entities';
import { Tx } from '../state/tx.service';
import { Grant, PolicyFields, WorkerTypePolicyRepository } from '../state/worker-type-policy.repository';
import { instanceTypeAllowed } from './instance-type-pattern';

/**
 * How long a launch may hold room under `maxInstances` between asking EC2 and writing its instances
 * before the room counts as free again: longer than any launch takes (EC2's calls time out well before),
 * short enough that a launch killed half-way does not starve its worker type for long.
 */
export const RESERVATION_SECONDS = 900;

/** An instance type a launch asks for, and where in the body it was named. */
export interface AskedType {
  path: string;
  instanceType: string;
}

/**
 * The worker-type policy of SPEC §11, applied to every launch endpoint: the instance types it may launch,
 * and the room left under its `maxInstances` (taken under a lock, see `WorkerTypePolicyRepository.reserve`).
 */
@Injectable()
export class LaunchPolicyService {
  constructor(
    private readonly policies: WorkerTypePolicyRepository,
    private readonly tx: Tx,
  ) {}

  find(workerType: string): Promise<WorkerTypePolicy | null> {
    return this.policies.find(workerType);
  }

  put(workerType: string, policy: PolicyFields): Promise<WorkerTypePolicy> {
    return this.policies.put(workerType, policy);
  }

  remove(workerType: string): Promise<boolean> {
    return this.policies.remove(workerType);
  }

  /** One `policy` reason per asked type outside the worker type's allowed patterns. */
  async typeReasons(workerType: string, asked: readonly AskedType[]): Promise<Reason[]> {
    const patterns = (await this.policies.find(workerType))?.allowedInstanceTypes ?? null;
    return asked
      .filter((a) => !instanceTypeAllowed(a.instanceType, patterns))
      .map((a) => ({
        rule: 'policy',
        path: a.path,
        message: `instance type ${a.instanceType} is outside the allowed instance types of worker type ${workerType} (${(patterns ?? []).join(', ')})`,
      }));
  }

  /** Room for up to `want` instances (see the repository); the caller must `release` what it gets. */
  reserve(workerType: string, want: number): Promise<Grant> {
    return this.tx.run((m) => this.policies.reserve(workerType, want, RESERVATION_SECONDS, m));
  }

  /** Room for exactly one instance, else 409 `LimitExceeded`. */
  async reserveOne(workerType: string): Promise<Grant> {
    const grant = await this.reserve(workerType, 1);
    if (grant.granted === 0 && grant.limit) {
      throw new LimitExceededError(
        `worker type ${workerType} is at its maxInstances (${grant.limit.maxInstances}): ${grant.limit.counted} instances, open spot requests and launches under way`,
        { maxInstances: grant.limit.maxInstances, counted: grant.limit.counted },
      );
    }
    return grant;
  }

  /** Gives the room back: in the transaction that writes the launched instances to state, or after a failure. */
  release(grant: Grant, tx?: EntityManager): Promise<void> {
    return this.policies.release(grant.reservation, tx);
  }
}
