/**
 * What every benchmark returns to `npm run bench`: figures, each beside the reference it is judged
 * against and, where the issue sets one, the target as a ratio of the two. The umbrella prints them
 * all in one table; a benchmark run alone prints its own with `printResult`.
 */
export interface Figure {
  /** What was measured, e.g. `known-instance events`. */
  what: string;
  value: number;
  /** `events/s`, `req/s`, `ms`, `s`, `MiB` ... */
  unit: string;
}

export interface Comparison extends Figure {
  /** The figure this one is judged against, measured in the same run (e.g. raw upserts, `/v1/ping`). */
  reference?: Figure;
  /** The target, as value / reference: at least (`min`) or at most (`max`) `ratio`. */
  target?: { ratio: number; bound: 'min' | 'max' };
  /** What bounds the figure where the target is not reached, or how to read it. */
  note?: string;
}

export interface BenchResult {
  /** The benchmark's name, as `npm run bench -- <name>` selects it. */
  section: string;
  comparisons: Comparison[];
  notes?: string[];
}

const fmt = (n: number): string =>
  Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : Number(n.toPrecision(3)).toString();

/** `value / reference.value`, when there is a reference. */
export function ratioOf(c: Comparison): number | undefined {
  return c.reference && c.reference.value !== 0 ? c.value / c.reference.value : undefined;
}

/** Whether a comparison meets its target (undefined: no target). */
export function meetsTarget(c: Comparison): boolean | undefined {
  const ratio = ratioOf(c);
  if (!c.target || ratio === undefined) return undefined;
  return c.target.bound === 'min' ? ratio >= c.target.ratio : ratio <= c.target.ratio;
}

/** One line per comparison: figure, reference, ratio, target and whether it is met. */
export function formatResult(r: BenchResult): string {
  const lines = [`## ${r.section}`];
  for (const c of r.comparisons) {
    const ratio = ratioOf(c);
    const parts = [`${c.what}: ${fmt(c.value)} ${c.unit}`];
    if (c.reference) parts.push(`vs ${c.reference.what}: ${fmt(c.reference.value)} ${c.reference.unit}`);
    if (ratio !== undefined) parts.push(`= ${ratio.toFixed(2)}×`);
    if (c.target) {
      const met = meetsTarget(c);
      parts.push(`(target ${c.target.bound === 'min' ? '≥' : '≤'} ${c.target.ratio}×: ${met ? 'met' : 'NOT met'})`);
    }
    lines.push(`  ${parts.join(' ')}`);
    if (c.note) lines.push(`    ${c.note}`);
  }
  for (const n of r.notes ?? []) lines.push(`  note: ${n}`);
  return lines.join('\n');
}

export function printResult(r: BenchResult): void {
  process.stdout.write(`${formatResult(r)}\n`);
}

/**
 * A benchmark file run directly (`npx ts-node bench/<name>.ts [--quick]`) runs its `run` and prints its
 * figures; imported by the umbrella, it does nothing.
 */
export function runIfMain(mod: NodeModule, run: (args: { quick: boolean }) => Promise<BenchResult>): void {
  if (require.main !== mod) return;
  run({ quick: process.argv.includes('--quick') }).then(printResult, (err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
