import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

/** Every Markdown file of the repository (not dependencies or generated output). */
function markdownFiles(dir = ROOT): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name.startsWith('.') || ['node_modules', 'dist', 'coverage'].includes(e.name)) return [];
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return markdownFiles(full);
    return e.name.endsWith('.md') ? [full] : [];
  });
}

/** GitHub's anchor for a heading. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[`*_]/g, '')
    .replace(/[^\p{L}\p{N} -]/gu, '')
    .replace(/ /g, '-');
}

function anchors(file: string): Set<string> {
  const text = fs.readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1])));
}

/** Links in Markdown `[text](target)` form, outside code blocks and code spans. */
function links(file: string): string[] {
  const text = fs
    .readFileSync(file, 'utf8')
    .replace(/```[\s\S]*?```/g, '')
    .replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
}

describe('documentation links', () => {
  const files = markdownFiles();

  it('finds the documents', () => {
    const names = files.map((f) => path.relative(ROOT, f));
    expect(names).toEqual(expect.arrayContaining(['README.md', 'docs/README.md', 'docs/api.md', 'deploy/README.md']));
  });

  it('every relative link points at a file of the repository (never outside it) and at a heading that exists', () => {
    const broken: string[] = [];
    for (const file of files) {
      for (const target of links(file)) {
        if (/^[a-z]+:/i.test(target)) continue; // http(s), mailto: outside links are fine
        const [where, anchor] = target.split('#');
        const resolved = where ? path.resolve(path.dirname(file), where) : file;
        const from = path.relative(ROOT, file);
        if (!resolved.startsWith(ROOT + path.sep)) broken.push(`${from}: ${target} leaves the repository`);
        else if (!fs.existsSync(resolved)) broken.push(`${from}: ${target} does not exist`);
        else if (anchor && resolved.endsWith('.md') && !anchors(resolved).has(anchor)) {
          broken.push(`${from}: ${target} names no heading of ${path.relative(ROOT, resolved)}`);
        }
      }
    }
    expect(broken).toEqual([]);
  });
});
