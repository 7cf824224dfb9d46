import { createHash } from 'node:crypto';

/** Worker type names (SPEC §2): 1-64 characters of `[a-zA-Z0-9_-]`. */
export const WORKER_TYPE_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

export function isValidWorkerType(name: string): boolean {
  return WORKER_TYPE_PATTERN.test(name);
}

/** What naming needs from the configuration (`AppConfig` satisfies it). */
export interface NamingConfig {
  managerId: string;
  instancePubkey: string;
}

export interface ParsedKeyPairName {
  managerId: string;
  workerType: string;
  hash: string;
}

export interface Tag {
  Key: string;
  Value: string;
}

/**
 * First 7 hex characters of SHA-256 over the key's type and body. The comment is left out so that
 * re-commenting the same key keeps the name, while a new key gets a new name (and a new key pair).
 */
export function pubkeyHash(pubkey: string): string {
  const [type = '', body = ''] = pubkey.trim().split(/\s+/);
  return createHash('sha256').update(`${type} ${body}`).digest('hex').slice(0, 7);
}

/** `<managerId>:<workerType>:<hash>` (SPEC §2). */
export function keyPairName(managerId: string, workerType: string, pubkey: string): string {
  return `${managerId}:${workerType}:${pubkeyHash(pubkey)}`;
}

/** The key pair name this deployment uses for a worker type. */
export function keyPairNameFor(config: NamingConfig, workerType: string): string {
  return keyPairName(config.managerId, workerType, config.instancePubkey);
}

/** `{managerId, workerType, hash}`, or null for a name without exactly three non-empty parts. */
export function parseKeyPairName(name: string | undefined | null): ParsedKeyPairName | null {
  if (!name) return null;
  const parts = name.split(':');
  if (parts.length !== 3 || parts.some((p) => p.length === 0)) return null;
  const [managerId, workerType, hash] = parts;
  return { managerId, workerType, hash };
}

/**
 * The worker type of a resource launched with this key name when the resource is ours, else null: never
 * touch what is not ours. Ours (SPEC §2): the name has exactly three non-empty parts, the first is our
 * manager id and the second a valid worker type name. Only the gateway (`Ec2Gateway`) asks this of what
 * EC2 answers; everyone else gets answers already parsed.
 */
export function ownedWorkerType(keyName: string | undefined | null, managerId: string): string | null {
  const parsed = parseKeyPairName(keyName);
  return parsed && parsed.managerId === managerId && isValidWorkerType(parsed.workerType) ? parsed.workerType : null;
}

export function isOurs(keyName: string | undefined | null, managerId: string): boolean {
  return ownedWorkerType(keyName, managerId) !== null;
}

/**
 * The `key-name` filter value that narrows a describe to this deployment's key pairs (`<managerId>:*`).
 * Only narrows: `*` also matches colons and the empty string, so every answer is parsed again.
 */
export function ownKeyNameFilter(managerId: string): string {
  return `${managerId}:*`;
}

/** The `key-name` filter value that narrows a describe to one worker type (`<managerId>:<workerType>:*`); only narrows. */
export function workerTypeKeyNameFilter(managerId: string, workerType: string): string {
  return `${managerId}:${workerType}:*`;
}

/** The tags of SPEC §2 for every instance, volume and spot request of a worker type. */
export function resourceTags(managerId: string, workerType: string): Tag[] {
  return [
    { Key: 'Name', Value: workerType },
    { Key: 'Owner', Value: managerId },
    { Key: 'WorkerType', Value: `${managerId}/${workerType}` },
  ];
}

/** True when every tag of SPEC §2 is present with its value; otherwise the resource needs tagging. */
export function hasResourceTags(
  tags: readonly { Key?: string; Value?: string }[] | undefined,
  managerId: string,
  workerType: string,
): boolean {
  const have = new Map((tags ?? []).map((t) => [t.Key, t.Value]));
  return resourceTags(managerId, workerType).every((t) => have.get(t.Key) === t.Value);
}
