import { MANAGER_ID } from './world';
import type { Sandbox } from '../../../src/sandbox';

/**
 * SPEC §2's ownership, written here independently of the service's code under test: a key name of
 * exactly three non-empty parts, our manager id first, a valid worker type second.
 */
export function ownerWorkerType(keyName: unknown): string | null {
  if (typeof keyName !== 'string') return null;
  const parts = keyName.split(':');
  if (parts.length !== 3 || parts.some((p) => p.length === 0)) return null;
  if (parts[0] !== MANAGER_ID || !/^[a-zA-Z0-9_-]{1,64}$/.test(parts[1])) return null;
  return parts[1];
}

export interface Ec2Instance {
  region: string;
  id: string;
  state: string;
  keyName?: string;
  launchTime: number;
  spotRequestId?: string;
  clientToken?: string;
  tags: Record<string, string>;
}

export interface Ec2SpotRequest {
  region: string;
  id: string;
  state: string;
  status: string;
  keyName?: string;
  createTime: number;
  instanceId?: string;
  clientToken?: string;
  tags: Record<string, string>;
}

export interface Ec2Truth {
  now: number;
  instances: Ec2Instance[];
  requests: Ec2SpotRequest[];
}

/** Everything the simulated EC2 holds, every region: the truth the invariants compare with. */
export function ec2Truth(sandbox: Sandbox): Ec2Truth {
  const state = sandbox.control.state({ limit: 10_000_000 });
  const instances: Ec2Instance[] = [];
  const requests: Ec2SpotRequest[] = [];
  for (const [region, snapshot] of Object.entries(state.regions)) {
    for (const i of snapshot.instances ?? []) {
      const id = String(i.instanceId);
      instances.push({
        region,
        id,
        state: String(i.state),
        keyName: i.keyName as string | undefined,
        launchTime: Date.parse(String(i.launchTime)),
        spotRequestId: i.spotInstanceRequestId as string | undefined,
        clientToken: (i.clientToken as string | undefined) ?? sandbox.control.instance(id)?.clientToken,
        tags: (i.tags ?? {}) as Record<string, string>,
      });
    }
    for (const r of snapshot.spotRequests ?? []) {
      requests.push({
        region,
        id: String(r.spotInstanceRequestId),
        state: String(r.state),
        status: String(r.statusCode),
        keyName: r.keyName as string | undefined,
        createTime: Date.parse(String(r.createTime)),
        instanceId: r.instanceId as string | undefined,
        clientToken: r.clientToken as string | undefined,
        tags: (r.tags ?? {}) as Record<string, string>,
      });
    }
  }
  return { now: state.clock.nowMs, instances, requests };
}

export const isLive = (state: string): boolean => state === 'pending' || state === 'running';
export const key = (region: string, id: string): string => `${region}/${id}`;
