import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

const ROOT = path.resolve(__dirname, '..', '..');

function sources(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) return sources(full);
      return e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [full] : [];
    })
    .sort();
}

/**
 * The service compiled to JavaScript, as production runs it (`node dist/main.js`), so that each
 * replica started by a scenario loads plain JS instead of the TypeScript compiler: a start costs a
 * few CPU seconds less, which matters when a scenario starts four of them on two cores. Transpiled
 * file by file with the project's compiler options (what `ts-node --transpile-only` does), once per
 * content of `src/`, under `node_modules/.cache` where the project's node_modules resolve.
 */
export function compiledService(): string {
  const config = ts.getParsedCommandLineOfConfigFile(
    path.join(ROOT, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  )!;
  const options: ts.CompilerOptions = { ...config.options, sourceMap: false, inlineSourceMap: false, noEmit: false };
  const files = sources(path.join(ROOT, 'src'));
  const hash = createHash('sha256').update(ts.version).update(JSON.stringify(options));
  const texts = files.map((f) => {
    const text = fs.readFileSync(f, 'utf8');
    hash.update(path.relative(ROOT, f)).update('\0').update(text).update('\0');
    return text;
  });
  const cache = path.join(ROOT, 'node_modules', '.cache', 'ec2m-fault-suite');
  const out = path.join(cache, hash.digest('hex').slice(0, 16));
  const main = path.join(out, 'src', 'main.js');
  if (fs.existsSync(main)) return main;

  // Built aside and renamed into place: two test files building at once must not see half a tree.
  fs.mkdirSync(cache, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(cache, 'build-'));
  files.forEach((file, n) => {
    const { outputText } = ts.transpileModule(texts[n], { compilerOptions: options, fileName: file });
    const target = path.join(tmp, path.relative(ROOT, file)).replace(/\.ts$/, '.js');
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, outputText);
  });
  try {
    fs.renameSync(tmp, out);
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return main;
}
