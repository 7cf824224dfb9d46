import * as fs from 'node:fs';
import * as path from 'node:path';

export class PackageNotInstalledError extends Error {
  constructor(
    readonly packageName: string,
    entry: string,
  ) {
    super(`cannot find ${packageName}/${entry} (is it installed?)`);
  }
}

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
  throw new PackageNotInstalledError(packageName, entry);
}

/**
 * Loads a development dependency that only the embedded setup uses (the embedded Postgres, the SQS
 * emulator). A production install (`npm ci --omit=dev`) has none, so its absence is a configuration
 * problem, told as one: what is missing, what it was wanted for, and which setting avoids it.
 */
export function requireDevDependency<T>(packageName: string, entry: string, purpose: string, instead: string): T {
  try {
    return requireEsm<T>(packageName, entry);
  } catch (err) {
    if (!(err instanceof PackageNotInstalledError)) throw err;
    throw new Error(
      `${packageName} is not installed: it is a development dependency, needed only for ${purpose} ` +
        `(install with \`npm ci\`, not \`npm ci --omit=dev\`), or ${instead}`,
      { cause: err },
    );
  }
}
