import { createHash } from 'node:crypto';
import {
  hasResourceTags,
  isOurs,
  isValidWorkerType,
  keyPairName,
  keyPairNameFor,
  ownedWorkerType,
  ownKeyNameFilter,
  workerTypeKeyNameFilter,
  parseKeyPairName,
  pubkeyHash,
  resourceTags,
} from './naming';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGVjMi1tYW5hZ2VyLXNhbmRib3gtZGV2ZWxvcG1lbnQta2V5';

describe('key pair naming (SPEC §2)', () => {
  it('hashes the first two fields of the public key, 7 hex characters', () => {
    const expected = createHash('sha256').update(KEY).digest('hex').slice(0, 7);
    expect(pubkeyHash(`${KEY} sandbox`)).toBe(expected);
    expect(pubkeyHash(KEY)).toBe(expected);
    expect(pubkeyHash(`${KEY} another comment with spaces`)).toBe(expected);
    expect(pubkeyHash(KEY)).toMatch(/^[0-9a-f]{7}$/);
  });

  it('gives another hash for another key', () => {
    expect(pubkeyHash('ssh-ed25519 AAAAother')).not.toBe(pubkeyHash(KEY));
    expect(pubkeyHash('ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIGVjMi1tYW5hZ2VyLXNhbmRib3gtZGV2ZWxvcG1lbnQta2V5')).not.toBe(
      pubkeyHash(KEY),
    );
  });

  it('builds <managerId>:<workerType>:<hash> and parses it back', () => {
    const name = keyPairName('ec2-manager-prod', 'builder', KEY);
    expect(name).toBe(`ec2-manager-prod:builder:${pubkeyHash(KEY)}`);
    expect(parseKeyPairName(name)).toEqual({
      managerId: 'ec2-manager-prod',
      workerType: 'builder',
      hash: pubkeyHash(KEY),
    });
    expect(keyPairNameFor({ managerId: 'ec2-manager-prod', instancePubkey: `${KEY} x` }, 'builder')).toBe(name);
  });

  it.each([undefined, null, '', 'plain-key', 'a:b', 'a:b:c:d', 'a::c', ':b:c', 'a:b:'])(
    'does not parse %p (not exactly three parts)',
    (name) => {
      expect(parseKeyPairName(name)).toBeNull();
    },
  );

  it('owns only names that parse and carry our manager id', () => {
    expect(isOurs('mgr:builder:abcdef0', 'mgr')).toBe(true);
    expect(ownedWorkerType('mgr:builder:abcdef0', 'mgr')).toBe('builder');
    expect(isOurs('other:builder:abcdef0', 'mgr')).toBe(false);
    expect(isOurs('mgr-2:builder:abcdef0', 'mgr')).toBe(false);
    expect(isOurs('mgr:builder', 'mgr')).toBe(false);
    expect(isOurs(undefined, 'mgr')).toBe(false);
    expect(ownedWorkerType('somebody-elses-key', 'mgr')).toBeNull();
  });

  it.each([
    'mgr:builder:other:team',
    'mgr:builder:',
    'mgr:builder:x:y',
    'mgr::abcdef0',
    'mgr:bad wt:abcdef0',
    'mgr:a/b:abcdef0',
    `mgr:${'x'.repeat(65)}:abcdef0`,
    'MGR:builder:abcdef0',
    ' mgr:builder:abcdef0',
  ])('owns no look-alike %p', (name) => {
    expect(ownedWorkerType(name, 'mgr')).toBeNull();
  });

  it('filters key names of this deployment, or of one worker type, with a trailing wildcard', () => {
    expect(ownKeyNameFilter('mgr')).toBe('mgr:*');
    expect(workerTypeKeyNameFilter('mgr', 'builder')).toBe('mgr:builder:*');
  });
});

describe('worker type names', () => {
  it.each(['a', 'builder', 'gecko-t-linux_large', 'x'.repeat(64)])('accepts %p', (n) => {
    expect(isValidWorkerType(n)).toBe(true);
  });
  it.each(['', 'x'.repeat(65), 'a:b', 'a b', 'a/b', 'é'])('refuses %p', (n) => {
    expect(isValidWorkerType(n)).toBe(false);
  });
});

describe('resource tags', () => {
  it('are Name, Owner and WorkerType', () => {
    expect(resourceTags('mgr', 'builder')).toEqual([
      { Key: 'Name', Value: 'builder' },
      { Key: 'Owner', Value: 'mgr' },
      { Key: 'WorkerType', Value: 'mgr/builder' },
    ]);
  });

  it('are present only when all three carry their values', () => {
    const full = [...resourceTags('mgr', 'builder'), { Key: 'Extra', Value: '1' }];
    expect(hasResourceTags(full, 'mgr', 'builder')).toBe(true);
    expect(hasResourceTags(full.slice(1), 'mgr', 'builder')).toBe(false);
    expect(hasResourceTags(resourceTags('mgr', 'other'), 'mgr', 'builder')).toBe(false);
    expect(hasResourceTags(undefined, 'mgr', 'builder')).toBe(false);
    expect(hasResourceTags([], 'mgr', 'builder')).toBe(false);
  });
});
