import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../support/import-graph';

describe("the README's layout section", () => {
  it('names every module folder under src/, and only those', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(
      readme.indexOf('## Layout\n'),
      readme.indexOf('\n## ', readme.indexOf('## Layout\n') + 1),
    );
    const named = [...section.matchAll(/^\| `src\/([a-z0-9-]+)` \|/gm)].map((m) => m[1]).sort();
    const folders = fs
      .readdirSync(path.join(ROOT, 'src'), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    expect(named).toEqual(folders);
  });
});
