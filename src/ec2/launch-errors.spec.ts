import { classifyLaunchError } from './launch-errors';

describe('classifyLaunchError', () => {
  it.each([
    ['InsufficientInstanceCapacity', 'insufficient-capacity', 'capacity'],
    ['UnfulfillableCapacity', 'insufficient-capacity', 'capacity'],
    ['MaxSpotInstanceCountExceeded', 'quota', 'quota'],
    ['VcpuLimitExceeded', 'quota', 'quota'],
    ['InstanceLimitExceeded', 'quota', 'quota'],
    ['MaxFleetCountExceeded', 'quota', 'quota'],
    ['RequestLimitExceeded', 'throttled', null],
    ['InvalidAMIID.NotFound', 'invalid', null],
    ['InvalidLaunchTemplateName.NotFoundException', 'invalid', null],
    ['SpotMaxPriceTooLow', 'invalid', null],
    ['InternalError', 'error', null],
    [undefined, 'error', null],
  ])('%s → %s, cooldown %s', (code, outcome, cooldown) => {
    expect(classifyLaunchError(code)).toEqual({ outcome, cooldown });
  });
});
