import { Instance as Ec2Instance, paginateDescribeInstances } from '@aws-sdk/client-ec2';
import { Injectable } from '@nestjs/common';
import { AwsClients } from '../aws/aws-clients.service';

/** How long a lookup waits for others to share its DescribeInstances call. */
const WINDOW_MS = 10;
/** Ids per call: well under EC2's limit on filter values. */
const MAX_IDS = 100;

interface Waiter {
  resolve(instance: Ec2Instance | undefined): void;
  reject(err: unknown): void;
}

/**
 * EC2's view of single instances, for events naming instances state does not know. Lookups made
 * within a few milliseconds of each other in one region share one `DescribeInstances` call: a burst of
 * launches brings one event per instance, and EC2's describe bucket (about 20 calls/s) would otherwise
 * bound the listener at that rate. The `instance-id` filter leaves out ids EC2 does not know yet instead
 * of failing the whole call, as `InstanceIds` would.
 */
@Injectable()
export class InstanceLookup {
  private readonly queued = new Map<string, Map<string, Waiter[]>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly aws: AwsClients) {}

  /** The instance as EC2 describes it, or undefined when EC2 does not know it (yet). */
  describe(region: string, instanceId: string): Promise<Ec2Instance | undefined> {
    return new Promise((resolve, reject) => {
      let ids = this.queued.get(region);
      if (!ids) {
        ids = new Map();
        this.queued.set(region, ids);
      }
      const waiters = ids.get(instanceId) ?? [];
      waiters.push({ resolve, reject });
      ids.set(instanceId, waiters);
      if (ids.size >= MAX_IDS) this.flush(region);
      else if (!this.timers.has(region))
        this.timers.set(
          region,
          setTimeout(() => this.flush(region), WINDOW_MS),
        );
    });
  }

  private flush(region: string): void {
    clearTimeout(this.timers.get(region));
    this.timers.delete(region);
    const ids = this.queued.get(region);
    this.queued.delete(region);
    if (ids && ids.size > 0) void this.run(region, ids);
  }

  private async run(region: string, ids: Map<string, Waiter[]>): Promise<void> {
    try {
      const found = new Map<string, Ec2Instance>();
      const pages = paginateDescribeInstances(
        { client: this.aws.ec2(region) },
        { Filters: [{ Name: 'instance-id', Values: [...ids.keys()] }] },
      );
      for await (const page of pages) {
        for (const reservation of page.Reservations ?? []) {
          for (const instance of reservation.Instances ?? []) {
            if (instance.InstanceId) found.set(instance.InstanceId, instance);
          }
        }
      }
      for (const [id, waiters] of ids) for (const w of waiters) w.resolve(found.get(id));
    } catch (err) {
      for (const waiters of ids.values()) for (const w of waiters) w.reject(err);
    }
  }
}
