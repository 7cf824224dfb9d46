import { createHash } from 'node:crypto';
import { isValidWorkerType } from './naming';

/**
 * SPEC §11 names our launch templates `<managerId>:<workerType>:<hash>`, but EC2 allows no colon in a
 * launch template name (`[a-zA-Z0-9().-/_]`, 3-128). The documented mapping: the same three parts
 * joined by `/` — `<managerId>/<workerType>/<hash>` — which EC2 allows and no part can contain (the
 * manager id and worker type are `[a-zA-Z0-9_-]`, the hash hex).
 */
export function launchTemplateName(managerId: string, workerType: string, hash: string): string {
  return `${managerId}/${workerType}/${hash}`;
}

/** The describe filter value narrowing to this deployment's templates; it only narrows (`*` matches `/`). */
export function ownLaunchTemplateFilter(managerId: string): string {
  return `${managerId}/*`;
}

/** The worker type of a template name of ours, or null: exactly three parts, ours, a valid worker type, a hex hash. */
export function launchTemplateWorkerType(name: string | undefined, managerId: string): string | null {
  const parts = (name ?? '').split('/');
  if (parts.length !== 3) return null;
  const [id, workerType, hash] = parts;
  return id === managerId && isValidWorkerType(workerType) && /^[0-9a-f]{16}$/.test(hash) ? workerType : null;
}

/** 16 hex characters of SHA-256 over the data, its keys sorted: the same specification gives the same name. */
export function launchDataHash(data: unknown): string {
  return createHash('sha256').update(canonicalJson(data)).digest('hex').slice(0, 16);
}

/** JSON with every object's keys sorted, and `undefined` members left out, so that equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
