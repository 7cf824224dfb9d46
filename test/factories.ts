import { randomBytes } from 'node:crypto';
import { NewInstance } from '../src/state/instance.repository';
import { NewSpotRequest } from '../src/state/spot-request.repository';

export const hex = (n: number): string =>
  randomBytes(Math.ceil(n / 2))
    .toString('hex')
    .slice(0, n);

export function makeInstance(overrides: Partial<NewInstance> = {}): NewInstance {
  const launched = overrides.launched ?? new Date(Date.now() - 60_000);
  return {
    region: 'us-east-1',
    id: `i-${hex(17)}`,
    workerType: 'builder',
    az: 'us-east-1a',
    instanceType: 'm5.large',
    state: 'pending',
    spotRequestId: null,
    imageId: 'ami-0123456789abcdef0',
    launched,
    lastEvent: launched,
    ...overrides,
  };
}

export function makeSpotRequest(overrides: Partial<NewSpotRequest> = {}): NewSpotRequest {
  return {
    region: 'us-east-1',
    id: `sir-${hex(8)}`,
    workerType: 'builder',
    az: 'us-east-1a',
    instanceType: 'm5.large',
    state: 'open',
    status: 'pending-evaluation',
    imageId: 'ami-0123456789abcdef0',
    created: new Date(Date.now() - 30_000),
    ...overrides,
  };
}
