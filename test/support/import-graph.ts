import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

export const ROOT = path.resolve(__dirname, '..', '..');

export interface SourceFile {
  /** Path relative to the project root, with forward slashes. */
  file: string;
  /** Project files this one loads when it is loaded (relative to the root). */
  files: string[];
  /** Packages this one loads when it is loaded (`@scope/name` or `name`; node builtins left out). */
  packages: string[];
  /** Names of the functions it calls, for rules about what a loaded file may do. */
  calls: Set<string>;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function resolveLocal(from: string, specifier: string): string {
  const base = path.resolve(path.dirname(path.join(ROOT, from)), specifier);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts')]) {
    if (fs.existsSync(candidate)) return path.relative(ROOT, candidate).split(path.sep).join('/');
  }
  throw new Error(`${from}: cannot resolve ${specifier}`);
}

/**
 * What loading a file loads with it: its import and export-from declarations and its `require()` calls.
 * Type-only imports are left out (TypeScript erases them), and so is `import()`, which loads only when
 * the code reaches it: that is how a file keeps a heavy or optional module off its load path.
 */
export function readSource(file: string): SourceFile {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const specifiers: string[] = [];
  const calls = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly) {
      specifiers.push((node.moduleSpecifier as ts.StringLiteral).text);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && !node.isTypeOnly) {
      specifiers.push((node.moduleSpecifier as ts.StringLiteral).text);
    } else if (ts.isCallExpression(node) && ts.isIdentifier(node.expression)) {
      calls.add(node.expression.text);
      const [arg] = node.arguments;
      if (node.expression.text === 'require' && arg && ts.isStringLiteral(arg)) specifiers.push(arg.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  const files: string[] = [];
  const packages: string[] = [];
  for (const specifier of specifiers) {
    if (specifier.startsWith('.')) files.push(resolveLocal(file, specifier));
    else if (!specifier.startsWith('node:') && !isBuiltin(specifier)) packages.push(packageName(specifier));
  }
  return { file, files, packages, calls };
}

function isBuiltin(specifier: string): boolean {
  return process.getBuiltinModule('node:module').isBuiltin(specifier);
}

/** Every project file loaded, directly or through others, when the given entry files are loaded. */
export function loadGraph(entries: string[]): Map<string, SourceFile> {
  const seen = new Map<string, SourceFile>();
  const queue = [...entries];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    if (seen.has(file)) continue;
    const source = readSource(file);
    seen.set(file, source);
    queue.push(...source.files);
  }
  return seen;
}
