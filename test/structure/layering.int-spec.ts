import * as fs from 'node:fs';
import * as path from 'node:path';
import { readSource, ROOT } from '../support/import-graph';

/**
 * Modules below the features: each may import the ones it needs of these, never a feature. `config`
 * and `state` are the floor: config imports no module, state only config, common and logging.
 */
const SHARED = new Set([
  'config',
  'common',
  'instrument',
  'logging',
  'state',
  'metrics',
  'aws',
  'ec2',
  'jobs',
  'setup',
  'resources',
  'prices',
  'launch-policy',
]);
const FLOOR: Record<string, Set<string>> = { config: new Set(), state: new Set(['config', 'common', 'logging']) };
/** Where the application is put together: they import what they assemble. */
const ROOTS = new Set(['main', 'app.module', 'configure-app', 'cli', 'cloud', 'database', 'data-dir', 'service-file']);
/** The local cloud stands apart: it shares only `common` with the service. */
const SANDBOX = 'sandbox';

/** Known exceptions, each with where it goes away (none now). */
const PENDING = new Set<string>();

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return sources(rel);
    return e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [rel] : [];
  });
}

/** `src/api/x.ts` → `api`; `src/main.ts` → `main`. */
function moduleOf(file: string): string {
  const parts = file.split('/');
  return parts.length > 2 ? parts[1] : parts[1].replace(/\.ts$/, '');
}

/** Every import from one app module into another (a feature is any module neither shared, root nor sandbox). */
function crossImports(): { from: string; to: string; edge: string }[] {
  return sources('src').flatMap((file) =>
    readSource(file)
      .files.map((target) => ({ from: moduleOf(file), to: moduleOf(target), edge: `${file} -> ${target}` }))
      .filter((i) => i.from !== i.to && !PENDING.has(i.edge)),
  );
}

const isFeature = (m: string) => !SHARED.has(m) && !ROOTS.has(m) && m !== SANDBOX;

describe('module layering', () => {
  const imports = crossImports();

  it('sees the imports at all', () => {
    expect(imports.some((i) => i.from === 'api' && i.to === 'state')).toBe(true);
  });

  it('config and state import no module but their floor', () => {
    const wrong = imports.filter((i) => i.from in FLOOR && !FLOOR[i.from].has(i.to));
    expect(wrong.map((i) => i.edge)).toEqual([]);
  });

  it('no feature module imports another feature module', () => {
    const wrong = imports.filter((i) => isFeature(i.from) && isFeature(i.to));
    expect(wrong.map((i) => i.edge)).toEqual([]);
  });

  it('no shared module imports a feature module', () => {
    const wrong = imports.filter((i) => SHARED.has(i.from) && (isFeature(i.to) || ROOTS.has(i.to)));
    expect(wrong.map((i) => i.edge)).toEqual([]);
  });

  it('the sandbox and the service share nothing but common (the service starts the sandbox through import())', () => {
    const wrong = imports.filter(
      (i) => (i.from === SANDBOX && i.to !== 'common') || (i.to === SANDBOX && !ROOTS.has(i.from)),
    );
    expect(wrong.map((i) => i.edge)).toEqual([]);
  });

  it('has no exception left that the code no longer needs', () => {
    const all = new Set(sources('src').flatMap((file) => readSource(file).files.map((t) => `${file} -> ${t}`)));
    expect([...PENDING].filter((edge) => !all.has(edge))).toEqual([]);
  });
});
