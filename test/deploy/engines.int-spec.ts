import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { minVersion, satisfies } from 'semver';
import { ROOT } from './manifests';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { engines?: { node?: string } | string[]; dev?: boolean }>;
};

describe('supported Node versions (package.json engines)', () => {
  /** The lowest release of each supported line: what a user on an old-but-supported Node runs. */
  const lowest = pkg.engines.node.split('||').map((range) => minVersion(range.trim())!.version);

  it('are Node 20.19+ and 22.13+, as the README says', () => {
    expect(lowest).toEqual(['20.19.0', '22.13.0']);
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain('Node (20.19+ or 22.13+)');
  });

  it('every installed package accepts them (npm ci prints no EBADENGINE on a supported Node)', () => {
    const refused = Object.entries(lock.packages).flatMap(([name, p]) => {
      const range = !Array.isArray(p.engines) ? p.engines?.node : undefined;
      if (!name || !range) return [];
      return lowest.filter((v) => !satisfies(v, range)).map((v) => `${name} wants node ${range}, not ${v}`);
    });
    expect(refused).toEqual([]);
  });
});
