import { Ec2Error, invalidValue } from './errors';
import { Query } from './query';
import { Tags } from './model';

const MAX_TAGS = 50;

export function parseTags(items: Query[]): Tags {
  const tags: Tags = new Map();
  for (const item of items) {
    const key = item.required('Key');
    const value = item.str('Value') ?? '';
    validateTag(key, value);
    tags.set(key, value);
  }
  return tags;
}

export function validateTag(key: string, value: string): void {
  if (key.length > 128) throw invalidValue('Tag.Key', key, 'Tag keys are at most 128 characters.');
  if (value.length > 256) throw invalidValue('Tag.Value', value, 'Tag values are at most 256 characters.');
  if (key.toLowerCase().startsWith('aws:')) {
    throw new Ec2Error('InvalidParameterValue', `Tag keys starting with 'aws:' are reserved for internal use`);
  }
}

/** Applies tags the way CreateTags does: overwriting values, refusing to exceed the per-resource limit (tags EC2 sets
 * itself, `aws:…`, do not count). */
export function mergeTags(target: Tags, add: Tags, resourceId: string): void {
  const keys = new Set([...target.keys(), ...add.keys()].filter((k) => !k.startsWith('aws:')));
  if (keys.size > MAX_TAGS) {
    throw new Ec2Error('TagLimitExceeded', `The maximum number of tags for resource '${resourceId}' has been reached.`);
  }
  for (const [k, v] of add) target.set(k, v);
}

export type TaggableResourceType =
  | 'instance'
  | 'volume'
  | 'spot-instances-request'
  | 'key-pair'
  | 'launch-template'
  | 'network-interface'
  | 'fleet';

/** Reads `TagSpecification.N` and returns the tags per resource type, refusing types the operation cannot tag. */
export function parseTagSpecifications<T extends TaggableResourceType>(q: Query, allowed: readonly T[]): Map<T, Tags> {
  const out = new Map<T, Tags>();
  for (const spec of q.list('TagSpecification')) {
    const type = spec.required('ResourceType');
    if (!(allowed as readonly string[]).includes(type)) {
      throw invalidValue('TagSpecification.ResourceType', type, `Allowed: ${allowed.join(', ')}.`);
    }
    const tags = parseTags(spec.list('Tag'));
    const existing = out.get(type as T) ?? new Map<string, string>();
    mergeTags(existing, tags, type);
    out.set(type as T, existing);
  }
  return out;
}
