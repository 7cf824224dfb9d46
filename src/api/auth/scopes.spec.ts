import { expandScope, hasScope, scopeSatisfies } from './scopes';

describe('scopes', () => {
  it.each([
    ['ec2-manager:*', 'ec2-manager:manage-resources:builder', true],
    ['ec2-manager:manage-resources:*', 'ec2-manager:manage-resources:builder', true],
    ['ec2-manager:manage-resources:build*', 'ec2-manager:manage-resources:builder', true],
    ['ec2-manager:manage-resources:builder', 'ec2-manager:manage-resources:builder', true],
    ['ec2-manager:manage-resources:builder', 'ec2-manager:manage-resources:builder-2', false],
    ['ec2-manager:manage-resources:other', 'ec2-manager:manage-resources:builder', false],
    ['ec2-manager:manage-resources:*', 'ec2-manager:internals', false],
    ['ec2-manager:internals', 'ec2-manager:internals', true],
    ['*', 'ec2-manager:internals', true],
    ['ec2-manager:intern', 'ec2-manager:internals', false],
  ])('%s grants %s: %s', (granted, required, expected) => {
    expect(scopeSatisfies(granted, required)).toBe(expected);
  });

  it('holds when any granted scope matches', () => {
    expect(hasScope(['ec2-manager:a', 'ec2-manager:b:*'], 'ec2-manager:b:c')).toBe(true);
    expect(hasScope([], 'ec2-manager:b:c')).toBe(false);
  });

  it('expands route parameters', () => {
    expect(expandScope('manage-instances:<region>:<id>', { region: 'us-east-1', id: 'i-1' })).toBe(
      'ec2-manager:manage-instances:us-east-1:i-1',
    );
    expect(expandScope('internals', {})).toBe('ec2-manager:internals');
  });
});
