import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import { BenchResult, printResult } from './support/report';
import { summaryMarkdown, summaryTable } from './support/summary';

/**
 * `npm run bench [-- [--quick] [--markdown <file>] [name ...]]`: runs the benchmarks one after the
 * other in this process and prints each one's figures beside their references, then one summary table
 * of every comparison. Names select benchmarks (default: all); `--quick` runs small sizes (a smoke
 * test); `--markdown <file>` also writes the summary as markdown with the date and the machine.
 */
type Run = (args: { quick: boolean }) => Promise<BenchResult>;

interface Bench {
  name: string;
  load: () => Promise<{ run: Run }>;
}

/** Every benchmark, in the order the umbrella runs them. A new one is one line here. */
export const BENCHES: Bench[] = [
  { name: 'reads', load: () => import('./reads') },
  { name: 'events-throughput', load: () => import('./events-throughput') },
  { name: 'adoption', load: () => import('./adoption') },
  { name: 'housekeeping', load: () => import('./housekeeping') },
  { name: 'startup', load: () => import('./startup') },
  { name: 'throttling', load: () => import('./throttling') },
  { name: 'fleet', load: () => import('./fleet') },
  { name: 'sandbox-scale', load: () => import('./sandbox-scale') },
];

interface Args {
  quick: boolean;
  markdown?: string;
  names: string[];
}

function parse(argv: string[]): Args {
  const args: Args = { quick: false, names: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') args.quick = true;
    else if (a === '--markdown') args.markdown = argv[++i];
    else if (a.startsWith('--markdown=')) args.markdown = a.slice('--markdown='.length);
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    // `bench/housekeeping.ts` works as well as `housekeeping`.
    else args.names.push(a.replace(/^(\.\/)?bench\//, '').replace(/\.ts$/, ''));
  }
  if (args.markdown === undefined && argv.includes('--markdown')) throw new Error('--markdown needs a file');
  return args;
}

/** The machine a run was measured on: CPU model and count, memory, Node. */
export function machine(): string {
  let cpu = `${os.cpus()[0]?.model ?? 'unknown CPU'}`;
  try {
    const lscpu = execFileSync('lscpu', { encoding: 'utf8' });
    const model = /^Model name:\s*(.+)$/m.exec(lscpu)?.[1];
    if (model) cpu = model.trim();
  } catch {
    // no lscpu: os.cpus() said it
  }
  return `${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} at the start`;
}

async function main(): Promise<number> {
  const args = parse(process.argv.slice(2));
  const unknown = args.names.filter((n) => !BENCHES.some((b) => b.name === n));
  if (unknown.length) {
    throw new Error(`unknown benchmark ${unknown.join(', ')}; known: ${BENCHES.map((b) => b.name).join(', ')}`);
  }
  const selected = args.names.length ? BENCHES.filter((b) => args.names.includes(b.name)) : BENCHES;
  const started = new Date();
  const where = machine();
  process.stdout.write(`${selected.map((b) => b.name).join(', ')}${args.quick ? ' (quick)' : ''}\n${where}\n\n`);
  const results: BenchResult[] = [];
  const failed: string[] = [];
  for (const bench of selected) {
    const t = performance.now();
    try {
      const { run } = await bench.load();
      const result = await run({ quick: args.quick });
      results.push(result);
      printResult(result);
    } catch (err) {
      // One benchmark failing must not cost the others' figures: say so, go on, exit non-zero at the end.
      failed.push(bench.name);
      process.stdout.write(
        `## ${bench.name}: FAILED\n  ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
    }
    process.stdout.write(`  (${((performance.now() - t) / 1000).toFixed(0)} s)\n\n`);
  }
  process.stdout.write(`# Summary\n\n${summaryTable(results)}\n`);
  if (failed.length) process.stdout.write(`FAILED: ${failed.join(', ')}\n`);
  if (args.markdown) {
    const heading =
      `Measured ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npm run bench` +
      `${args.quick ? ' -- --quick' : ''}\` on ${where}.`;
    fs.writeFileSync(args.markdown, summaryMarkdown(results, heading));
    process.stdout.write(`summary written to ${args.markdown}\n`);
  }
  return failed.length ? 1 : 0;
}

if (require.main === module) {
  // Exit explicitly: a benchmark that failed half-way may leave a handle open (a socket, a timer).
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
