import { instanceTypeAllowed } from './instance-type-pattern';

describe('instanceTypeAllowed', () => {
  it.each([
    ['m5.large', ['m5.*'], true],
    ['m5.xlarge', ['m5.*'], true],
    ['m5a.large', ['m5.*'], false],
    ['m5a.large', ['m5*.*'], true],
    ['c5.large', ['m5.*', 'c5.large'], true],
    ['c5.xlarge', ['c5.large'], false],
    ['m5.large', ['m5?large'], true],
    ['m5xlarge', ['m5.large'], false],
    ['m5.large', [], false],
    ['m5.large', null, true],
  ])('%s against %j: %s', (type, patterns, expected) => {
    expect(instanceTypeAllowed(type, patterns)).toBe(expected);
  });
});
