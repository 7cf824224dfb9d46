import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../support/import-graph';

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return rel === 'src/sandbox' ? [] : sources(rel);
    return e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [rel] : [];
  });
}

describe('transaction boundaries', () => {
  it('are opened only through Tx, where a service decides them: no repository opens one of its own', () => {
    const opening = sources('src').filter(
      (file) =>
        file !== 'src/state/tx.service.ts' && /\.transaction\(/.test(fs.readFileSync(path.join(ROOT, file), 'utf8')),
    );
    expect(opening).toEqual([]);
  });
});
