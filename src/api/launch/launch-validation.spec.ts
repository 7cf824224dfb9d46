import { zoneInRegion } from './launch-validation';
import { formatPrice } from './launch.service';

describe('zoneInRegion', () => {
  it.each([
    ['us-east-1a', 'us-east-1', true],
    ['us-east-1f', 'us-east-1', true],
    ['us-west-2-lax-1a', 'us-west-2', true],
    ['us-east-1', 'us-east-1', false],
    ['us-east-1ab', 'us-east-1', false],
    ['us-east-2a', 'us-east-1', false],
    ['us-east-11a', 'us-east-1', false],
    ['eu-central-1a', 'us-east-1', false],
  ])('%s in %s: %s', (zone, region, expected) => {
    expect(zoneInRegion(zone, region)).toBe(expected);
  });
});

describe('formatPrice', () => {
  it.each([
    [0.5, '0.5'],
    [1, '1'],
    [100, '100'],
    [0.123456789, '0.123457'],
    [1e-7, '0'],
  ])('%p → %s', (price, text) => {
    expect(formatPrice(price)).toBe(text);
  });
});
