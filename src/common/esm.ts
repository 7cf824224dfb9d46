import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Loads an ESM-only package through Node's own `require(esm)` (Node >= 20.19).
 *
 * Why not `import()`: this project compiles to CommonJS, where TypeScript turns `import()` into
 * `require()`, and jest replaces `require` with its own resolver that can neither load ESM nor
 * follow an `exports` map offering only an `import` condition. Going through the real module
 * loader (`process.getBuiltinModule`, which jest does not intercept) and a file path works in
 * `node`, `ts-node` and jest alike.
 */
export function requireEsm<T>(packageName: string, entry: string): T {
  const nodeModule = process.getBuiltinModule('node:module');
  const nativeRequire = nodeModule.createRequire(__filename);
  const searchPaths = nativeRequire.resolve.paths(packageName) ?? [];
  for (const dir of searchPaths) {
    const candidate = path.join(dir, packageName, entry);
    if (fs.existsSync(candidate)) {
      return nativeRequire(candidate) as T;
    }
  }
  throw new Error(`cannot find ${packageName}/${entry} (is it installed?)`);
}
